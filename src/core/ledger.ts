import { type RateLimitSnapshot, type ThreadInfo, type UsageIncrement } from './ledgerTypes.js';

/**
 * The set of all usage increments, each counted once however many files or reads report it.
 * Every increment remembers which files reported it, so a file that is replaced, truncated or
 * deleted can be taken back out without touching what other files (an archived copy, say) report.
 */
export class UsageLedger {
  private readonly increments = new Map<string, UsageIncrement>();
  /** The file that reported each key, or the files when more than one did (most keys have one). */
  private readonly reporters = new Map<string, string | Set<string>>();
  private readonly fileKeys = new Map<string, Set<string>>();
  /**
   * Increments of a loaded snapshot not yet put into the maps above: a restart with nothing new
   * only reports them, so the maps are built when something is first added or taken back.
   */
  private loaded: LedgerSnapshot['increments'] | undefined;
  /** Per thread, what each file that defines it says (the first one is shown). */
  private readonly threads = new Map<string, ThreadInfo[]>();
  private rateLimits: RateLimitSnapshot | undefined;
  /** Bumped on every change, so views can tell whether to recompute. */
  private revision = 0;

  /** Adds an increment reported by `file`; returns true when it was new to the ledger. */
  add(file: string, increment: UsageIncrement): boolean {
    this.index();
    let keys = this.fileKeys.get(file);
    if (!keys) this.fileKeys.set(file, (keys = new Set()));
    keys.add(increment.key);
    const files = this.reporters.get(increment.key);
    if (files === undefined) this.reporters.set(increment.key, file);
    else if (typeof files === 'string') {
      if (files !== file) this.reporters.set(increment.key, new Set([files, file]));
    } else files.add(file);
    if (this.increments.has(increment.key)) return false;
    this.increments.set(increment.key, increment);
    this.revision += 1;
    return true;
  }

  /** Takes back everything `file` reported; increments other files also reported stay. */
  removeFile(file: string): void {
    this.index();
    const keys = this.fileKeys.get(file);
    this.fileKeys.delete(file);
    if (keys) {
      for (const key of keys) {
        const files = this.reporters.get(key);
        if (typeof files === 'object') {
          files.delete(file);
          if (files.size === 1) this.reporters.set(key, files.values().next().value!);
        }
        if (files === undefined || files === file || (typeof files === 'object' && files.size === 0)) {
          this.reporters.delete(key);
          this.increments.delete(key);
        }
      }
    }
    for (const [id, infos] of this.threads) {
      const kept = infos.filter((t) => t.file !== file);
      if (kept.length === 0) this.threads.delete(id);
      else if (kept.length !== infos.length) this.threads.set(id, kept);
    }
    this.revision += 1;
  }

  setThread(info: ThreadInfo): void {
    const infos = (this.threads.get(info.threadId) ?? []).filter((t) => t.file !== info.file);
    infos.push(info);
    // Deterministic whatever order files are read in: a live file before an archived copy, then by path.
    const archived = (t: ThreadInfo): number => (/[\\/]archived_sessions[\\/]/.test(t.file) ? 1 : 0);
    infos.sort((a, b) => archived(a) - archived(b) || a.file.localeCompare(b.file));
    this.threads.set(info.threadId, infos);
    this.revision += 1;
  }

  noteRateLimits(snapshot: RateLimitSnapshot): void {
    if (!this.rateLimits || snapshot.observedAt >= this.rateLimits.observedAt) {
      this.rateLimits = snapshot;
      this.revision += 1;
    }
  }

  get latestRateLimits(): RateLimitSnapshot | undefined {
    return this.rateLimits;
  }

  get changeCount(): number {
    return this.revision;
  }

  *allIncrements(): IterableIterator<UsageIncrement> {
    if (this.loaded) for (const [increment] of this.loaded) yield increment;
    else yield* this.increments.values();
  }

  get incrementCount(): number {
    return this.loaded ? this.loaded.length : this.increments.size;
  }

  thread(threadId: string): ThreadInfo | undefined {
    return this.threads.get(threadId)?.[0];
  }

  *allThreads(): IterableIterator<ThreadInfo> {
    for (const infos of this.threads.values()) if (infos[0]) yield infos[0];
  }

  filesReporting(key: string): ReadonlySet<string> | undefined {
    this.index();
    const files = this.reporters.get(key);
    return typeof files === 'string' ? new Set([files]) : files;
  }

  /** Serialisable form: increments with the files that reported them, and threads. */
  toJSON(): LedgerSnapshot {
    if (this.loaded) return { increments: this.loaded, threads: [...this.threads.values()].flat(), rateLimits: this.rateLimits };
    const increments: [UsageIncrement, string[]][] = [];
    for (const [key, inc] of this.increments) {
      const files = this.reporters.get(key);
      increments.push([inc, typeof files === 'string' ? [files] : [...(files ?? [])]]);
    }
    return { increments, threads: [...this.threads.values()].flat(), rateLimits: this.rateLimits };
  }

  static fromJSON(snapshot: LedgerSnapshot): UsageLedger {
    const ledger = new UsageLedger();
    ledger.loaded = snapshot.increments;
    for (const thread of snapshot.threads) ledger.setThread(thread);
    ledger.rateLimits = snapshot.rateLimits;
    return ledger;
  }

  /** Puts a loaded snapshot's increments into the maps (once, before the first change). */
  private index(): void {
    const loaded = this.loaded;
    if (!loaded) return;
    this.loaded = undefined;
    const revision = this.revision;
    for (const [inc, files] of loaded) for (const file of files) this.add(file, inc);
    this.revision = revision;
  }
}

export interface LedgerSnapshot {
  increments: [UsageIncrement, string[]][];
  threads: ThreadInfo[];
  rateLimits: RateLimitSnapshot | undefined;
}

