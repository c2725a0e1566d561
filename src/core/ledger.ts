import { IncrementStore, newIncrementView } from './incrementStore.js';
import { LoadedKeyIndex } from './loadedKeyIndex.js';
import { type IncrementView, type RateLimitSnapshot, type ThreadInfo, type UsageIncrement } from './ledgerTypes.js';
import { compareText } from './textOrder.js';

/**
 * The set of all usage increments, each counted once however many files or reads report it.
 * Every increment remembers which files reported it, so a file that is replaced, truncated or
 * deleted can be taken back out without touching what other files (an archived copy, say) report.
 */
export class UsageLedger {
  /** The increments, in columns (incrementStore.ts); a slot per increment, in the order they came. */
  private store = new IncrementStore();
  /** The slot of each key. */
  private readonly slots = new Map<string, number>();
  /** Per slot, the file that reported it, or the files when more than one did (most have one); undefined for a dead slot. */
  private reporters: (string | Set<string> | undefined)[] = [];
  /** Per file, the slots it reported (each once). */
  private readonly fileSlots = new Map<string, number[]>();
  /** Slots taken back out since the last compaction. */
  private deadSlots = 0;
  /**
   * Increments of a loaded snapshot not yet put into the maps above: a restart with nothing new
   * only reports them, so the maps are built when something is first added or taken back.
   */
  private loaded: [UsageIncrement, string[]][] | undefined;
  /** The loaded snapshot's entries by key, built for the first add made to it (apply, or add when kept); dropped with it, and when entries are taken out. */
  private loadedByKey: LoadedKeyIndex | undefined;
  /**
   * Whether adds go into the loaded snapshot itself rather than indexing it first (fromJSON's
   * `keepSnapshot`): for a short-lived ledger (a CLI run), which reads a few new increments and
   * exits; a long-lived one (the worker's) wants the key maps and the columns.
   */
  private keepSnapshot = false;
  /** Per thread, what each file that defines it says (the first one is shown). */
  private readonly threads = new Map<string, ThreadInfo[]>();
  private rateLimits: RateLimitSnapshot | undefined;
  /** Bumped on every change, so views can tell whether to recompute. */
  private revision = 0;
  /**
   * Bumped whenever increments are taken out or renumbered, and when a loaded snapshot is indexed:
   * a position taken before (incrementsEnd) means nothing after. Adds only append, so they keep it.
   */
  private layout = 0;
  /** Bumped whenever a thread's metadata is set (see threadRevision). */
  private threadChanges = 0;
  /** The changes since `recordChanges` (what a state journal stores); undefined when not recording or past MAX_RECORDED_CHANGES. */
  private changes: LedgerChange[] | undefined;

  /** Adds an increment reported by `file`; returns true when it was new to the ledger. */
  add(file: string, increment: UsageIncrement): boolean {
    if (this.loaded && this.keepSnapshot) return this.addToLoaded(this.loaded, file, increment);
    this.index();
    let slot = this.slots.get(increment.key);
    const isNew = slot === undefined;
    let reportedBefore = false;
    if (slot === undefined) {
      slot = this.store.append(increment);
      this.slots.set(increment.key, slot);
      this.reporters[slot] = file;
      this.revision += 1;
    } else {
      const files = this.reporters[slot]!;
      if (typeof files === 'string') {
        reportedBefore = files === file;
        if (!reportedBefore) this.reporters[slot] = new Set([files, file]);
      } else {
        reportedBefore = files.has(file);
        files.add(file);
      }
    }
    if (!reportedBefore) {
      const list = this.fileSlots.get(file);
      if (list) list.push(slot);
      else this.fileSlots.set(file, [slot]);
      this.record({ kind: 'add', file, increment });
    }
    return isNew;
  }

  /** Takes back everything `file` reported; increments other files also reported stay. */
  removeFile(file: string): void {
    this.index();
    this.record({ kind: 'remove', file });
    const list = this.fileSlots.get(file);
    this.fileSlots.delete(file);
    for (const slot of list ?? []) {
      const files = this.reporters[slot];
      if (files === undefined) continue;
      if (typeof files === 'string') {
        if (files === file) this.killSlot(slot);
        continue;
      }
      files.delete(file);
      if (files.size === 1) this.reporters[slot] = files.values().next().value!;
      else if (files.size === 0) this.killSlot(slot);
    }
    this.dropThreadsOf(file);
    this.revision += 1;
    this.layout += 1;
    if (this.deadSlots > 1024 && this.deadSlots > this.slots.size) this.compact();
  }

  /** Forgets what `file` said about its threads. */
  private dropThreadsOf(file: string): void {
    this.threadChanges += 1;
    for (const [id, infos] of this.threads) {
      const kept = infos.filter((t) => t.file !== file);
      if (kept.length === 0) this.threads.delete(id);
      else if (kept.length !== infos.length) this.threads.set(id, kept);
    }
  }

  setThread(info: ThreadInfo): void {
    this.record({ kind: 'thread', info });
    const infos = (this.threads.get(info.threadId) ?? []).filter((t) => t.file !== info.file);
    infos.push(info);
    // Deterministic whatever order files are read in: a live file before an archived copy, then by path.
    const archived = (t: ThreadInfo): number => (/[\\/]archived_sessions[\\/]/.test(t.file) ? 1 : 0);
    infos.sort((a, b) => archived(a) - archived(b) || compareText(a.file, b.file));
    this.threads.set(info.threadId, infos);
    this.revision += 1;
    this.threadChanges += 1;
  }

  noteRateLimits(snapshot: RateLimitSnapshot): void {
    if (!this.rateLimits || snapshot.observedAt >= this.rateLimits.observedAt) {
      this.record({ kind: 'rateLimits', snapshot });
      this.rateLimits = snapshot;
      this.revision += 1;
    }
  }

  /**
   * Starts recording every change from now on, dropping what was recorded so far: what a state
   * journal stores (stateStore.ts), replayed in order by `apply` onto the ledger as it was here.
   */
  recordChanges(): void {
    this.changes = [];
  }

  /** The changes since `recordChanges`, in order; undefined when not recording, or when there were too many to keep (then a full save is due). */
  get recordedChanges(): readonly LedgerChange[] | undefined {
    return this.changes;
  }

  /**
   * Makes a recorded change again (reading a state journal); the result is what the recording ledger
   * had. On a loaded snapshot not yet indexed, adds and removals are made to the snapshot itself, in
   * the same order the indexed ledger would keep: a state loaded with a journal and nothing new to
   * read builds none of the key maps (on a 1 GB home ~19 MiB and ~0.1 s).
   */
  apply(change: LedgerChange): void {
    if (this.loaded && (change.kind === 'add' || change.kind === 'remove')) {
      this.applyToLoaded(this.loaded, change);
      return;
    }
    switch (change.kind) {
      case 'add':
        this.add(change.file, change.increment);
        return;
      case 'remove':
        this.removeFile(change.file);
        return;
      case 'thread':
        this.setThread(change.info);
        return;
      case 'rateLimits':
        this.noteRateLimits(change.snapshot);
    }
  }

  private applyToLoaded(loaded: [UsageIncrement, string[]][], change: Extract<LedgerChange, { kind: 'add' | 'remove' }>): void {
    this.revision += 1;
    if (change.kind === 'add') {
      this.addToLoaded(loaded, change.file, change.increment);
      return;
    }
    this.layout += 1;
    // As removeFile: the file leaves every entry's reporters; an entry no file reports any more goes.
    const kept: [UsageIncrement, string[]][] = [];
    for (const entry of loaded) {
      const at = entry[1].indexOf(change.file);
      if (at !== -1) entry[1].splice(at, 1);
      if (entry[1].length > 0) kept.push(entry);
    }
    if (kept.length !== loaded.length) this.loadedByKey = undefined;
    this.loaded = kept;
    this.dropThreadsOf(change.file);
  }

  /**
   * `add` made to a loaded snapshot not yet indexed: the entry is appended (or gains the file) where
   * the indexed ledger would put it, and the change is recorded as `add` records it.
   */
  private addToLoaded(loaded: [UsageIncrement, string[]][], file: string, increment: UsageIncrement): boolean {
    const byKey = (this.loadedByKey ??= new LoadedKeyIndex(loaded));
    const entry = byKey.get(increment.key);
    if (!entry) {
      const added: [UsageIncrement, string[]] = [increment, [file]];
      loaded.push(added);
      byKey.add(added);
      this.revision += 1;
      this.record({ kind: 'add', file, increment });
      return true;
    }
    if (!entry[1].includes(file)) {
      entry[1].push(file);
      this.record({ kind: 'add', file, increment });
    }
    return false;
  }

  private record(change: LedgerChange): void {
    const changes = this.changes;
    if (!changes) return;
    if (changes.length >= MAX_RECORDED_CHANGES) this.changes = undefined;
    else changes.push(change);
  }

  get latestRateLimits(): RateLimitSnapshot | undefined {
    return this.rateLimits;
  }

  get changeCount(): number {
    return this.revision;
  }

  /** Changes whenever some thread's metadata is set or dropped: what a view that keeps thread metadata checks. */
  get threadRevision(): number {
    return this.threadChanges;
  }

  /** Where the increments end now: visiting from here later (forEachIncrementFrom) sees only those added since. */
  get incrementsEnd(): IncrementPosition {
    return { layout: this.layout, next: this.loaded ? this.loaded.length : this.store.slotCount };
  }

  /** Every increment, as a new object each (see forEachIncrement for reading them all without building any). */
  *allIncrements(): IterableIterator<UsageIncrement> {
    if (this.loaded) {
      for (const [increment] of this.loaded) yield increment;
      return;
    }
    const store = this.store;
    for (let slot = 0, n = store.slotCount; slot < n; slot += 1) if (store.isLive(slot)) yield store.get(slot);
  }

  /**
   * Calls `visit` with every increment, in order, without its raw figures. The view passed is one
   * object pointed at each increment in turn: read it, never keep it.
   */
  forEachIncrement(visit: (inc: IncrementView) => void): void {
    this.visitFrom(0, visit);
  }

  /**
   * Calls `visit`, as forEachIncrement does, with the increments added since `from` (an earlier
   * incrementsEnd), and returns where they end now. Returns undefined, visiting none, when increments
   * were taken out or renumbered since `from`: then only a visit of them all gives the ledger as it is.
   */
  forEachIncrementFrom(from: IncrementPosition, visit: (inc: IncrementView) => void): IncrementPosition | undefined {
    if (from.layout !== this.layout) return undefined;
    this.visitFrom(from.next, visit);
    return this.incrementsEnd;
  }

  private visitFrom(first: number, visit: (inc: IncrementView) => void): void {
    const loaded = this.loaded;
    if (loaded) {
      for (let i = first, n = loaded.length; i < n; i += 1) visit(loaded[i]![0]);
      return;
    }
    const store = this.store;
    const view = newIncrementView();
    for (let slot = first, n = store.slotCount; slot < n; slot += 1) {
      if (!store.isLive(slot)) continue;
      store.fill(slot, view);
      visit(view);
    }
  }

  get incrementCount(): number {
    return this.loaded ? this.loaded.length : this.slots.size;
  }

  thread(threadId: string): ThreadInfo | undefined {
    return this.threads.get(threadId)?.[0];
  }

  *allThreads(): IterableIterator<ThreadInfo> {
    for (const infos of this.threads.values()) if (infos[0]) yield infos[0];
  }

  filesReporting(key: string): ReadonlySet<string> | undefined {
    this.index();
    const slot = this.slots.get(key);
    const files = slot === undefined ? undefined : this.reporters[slot];
    return typeof files === 'string' ? new Set([files]) : files;
  }

  /**
   * Serialisable form: increments with the files that reported them, and threads. The increments are
   * read from the store as they are iterated, but as they were now: what is added or taken back
   * later does not show (so a state save that writes them while files are read stays consistent).
   */
  toJSON(): LedgerSnapshot {
    const threads = [...this.threads.values()].flat();
    if (this.loaded) return { increments: this.loaded, threads, rateLimits: this.rateLimits };
    const store = this.store;
    const count = store.slotCount;
    const live = store.liveSlots(count);
    // Sets of reporters change in place; the few there are (keys several files report) are copied.
    const reporters = this.reporters.slice(0, count).map((files) => (typeof files === 'object' ? [...files] : files));
    const increments = {
      *[Symbol.iterator](): Generator<[UsageIncrement, string[]]> {
        for (let slot = 0; slot < count; slot += 1) {
          const files = reporters[slot];
          if (live[slot] !== 1 || files === undefined) continue;
          yield [store.get(slot), typeof files === 'string' ? [files] : files];
        }
      },
      // JSON.stringify writes the snapshot as before: its increments as an array.
      toJSON(): [UsageIncrement, string[]][] {
        return [...this];
      },
    };
    return { increments, threads, rateLimits: this.rateLimits };
  }

  /**
   * A ledger from its serialised form. With `keepSnapshot`, adds go into the snapshot without
   * building the key maps (a short-lived ledger: on a 1 GB home they cost ~0.1 s and ~15 MiB); a
   * removal builds them as usual.
   */
  static fromJSON(snapshot: LedgerSnapshot, options: { keepSnapshot?: boolean } = {}): UsageLedger {
    const ledger = new UsageLedger();
    ledger.keepSnapshot = options.keepSnapshot === true;
    ledger.loaded = Array.isArray(snapshot.increments) ? snapshot.increments : [...snapshot.increments];
    for (const thread of snapshot.threads) ledger.setThread(thread);
    ledger.rateLimits = snapshot.rateLimits;
    return ledger;
  }

  /** Puts a loaded snapshot's increments into the maps (once, before the first change). */
  private index(): void {
    const loaded = this.loaded;
    if (!loaded) return;
    this.loaded = undefined;
    this.loadedByKey = undefined;
    this.layout += 1;
    const revision = this.revision;
    const changes = this.changes;
    this.changes = undefined;
    for (const [inc, files] of loaded) for (const file of files) this.add(file, inc);
    this.changes = changes;
    this.revision = revision;
  }

  private killSlot(slot: number): void {
    this.slots.delete(this.store.key(slot)!);
    this.store.kill(slot);
    this.reporters[slot] = undefined;
    this.deadSlots += 1;
  }

  /** Drops the dead slots (after many files were taken back out), renumbering the live ones in their order. */
  private compact(): void {
    const { store, renumbered } = this.store.compact();
    const reporters: (string | Set<string> | undefined)[] = [];
    renumbered.forEach((to, from) => {
      if (to !== -1) reporters[to] = this.reporters[from];
    });
    for (const [key, slot] of this.slots) this.slots.set(key, renumbered[slot]!);
    for (const [file, list] of this.fileSlots) {
      const kept = list.map((slot) => renumbered[slot]!).filter((slot) => slot !== -1);
      if (kept.length > 0) this.fileSlots.set(file, kept);
      else this.fileSlots.delete(file);
    }
    this.store = store;
    this.reporters = reporters;
    this.deadSlots = 0;
    this.layout += 1;
  }
}

/**
 * One change to a ledger, as `recordChanges` keeps it: an increment a file reported (only adds that
 * changed something: a new key, or a file new to a key), a file taken back out, a thread's metadata,
 * rate limits. The same changes made in the same order to the ledger as it was give the same ledger.
 */
export type LedgerChange =
  | { kind: 'add'; file: string; increment: UsageIncrement }
  | { kind: 'remove'; file: string }
  | { kind: 'thread'; info: ThreadInfo }
  | { kind: 'rateLimits'; snapshot: RateLimitSnapshot };

/**
 * Changes kept at most between two saves: a scan that changes more (a first scan, a home's worth of
 * new files) ends the recording, and the next save writes the whole state.
 */
export const MAX_RECORDED_CHANGES = 20_000;

/** A place in a ledger's increments (UsageLedger.incrementsEnd), valid while its layout stays the same. */
export interface IncrementPosition {
  readonly layout: number;
  readonly next: number;
}

export interface LedgerSnapshot {
  /** Each increment with the files that reported it: an array once decoded, read lazily from a live ledger (toJSON). */
  increments: Iterable<[UsageIncrement, string[]]>;
  threads: ThreadInfo[];
  rateLimits: RateLimitSnapshot | undefined;
}

