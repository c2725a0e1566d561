import { type IncrementColumns, IncrementStore, newIncrementView } from './incrementStore.js';
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
  /** The slot of each key (not built for a loaded snapshot: `unindexed`). */
  private readonly slots = new Map<string, number>();
  /** Per slot, the file that reported it, or the files when more than one did (most have one); undefined for a dead slot. */
  private reporters: (string | Set<string> | undefined)[] = [];
  /** Per file, the slots it reported (each once; not built for a loaded snapshot: `unindexed`). */
  private readonly fileSlots = new Map<string, number[]>();
  /** Slots taken back out since the last compaction. */
  private deadSlots = 0;
  /**
   * Whether the ledger was loaded from a snapshot and the slots and fileSlots maps are not built: its
   * increments go into the store and the reporters as they are, adds find keys through loadedByKey
   * and removals scan the reporters. The maps of every key cost a 10 GB home's first change after a
   * restart ~0.35 s and 56 MiB (~28 ms and ~6 MiB at 1 GB); only filesReporting builds them.
   */
  private unindexed = false;
  /** The slots of a snapshot not yet indexed, by key, for the adds made to it; dropped when the store is compacted (slots renumbered). */
  private loadedByKey: LoadedKeyIndex | undefined;
  /** Per thread, what each file that defines it says (the first one is shown). */
  private readonly threads = new Map<string, ThreadInfo[]>();
  private rateLimits: RateLimitSnapshot | undefined;
  /** Bumped on every change, so views can tell whether to recompute. */
  private revision = 0;
  /**
   * Bumped whenever increments are taken out or renumbered: a position taken before (incrementsEnd)
   * means nothing after. Adds only append, and indexing a loaded snapshot renumbers nothing, so
   * they keep it.
   */
  private layout = 0;
  /** Bumped whenever a thread's metadata is set (see threadRevision). */
  private threadChanges = 0;
  /** The changes since `recordChanges` (what a state journal stores); undefined when not recording or past MAX_RECORDED_CHANGES. */
  private changes: LedgerChange[] | undefined;

  /** Adds an increment reported by `file`; returns true when it was new to the ledger. */
  add(file: string, increment: UsageIncrement): boolean {
    if (this.unindexed) return this.addUnindexed(file, increment);
    let slot = this.slots.get(increment.key);
    const isNew = slot === undefined;
    let reportedBefore = false;
    if (slot === undefined) {
      slot = this.store.append(increment);
      this.slots.set(increment.key, slot);
      this.reporters[slot] = file;
      this.revision += 1;
    } else {
      reportedBefore = !this.addReporter(slot, file);
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
    this.record({ kind: 'remove', file });
    const list = this.unindexed ? this.slotsReportedBy(file) : this.fileSlots.get(file);
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
    if (this.deadSlots > 1024 && this.deadSlots > this.incrementCount) this.compact();
  }

  /** The live slots `file` reported, in order: what fileSlots holds, found without it (a snapshot not yet indexed). */
  private slotsReportedBy(file: string): number[] {
    const list: number[] = [];
    const reporters = this.reporters;
    for (let slot = 0, n = reporters.length; slot < n; slot += 1) {
      const files = reporters[slot];
      if (files === file || (typeof files === 'object' && files.has(file))) list.push(slot);
    }
    return list;
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
   * had.
   */
  apply(change: LedgerChange): void {
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

  /**
   * `add` made to a loaded snapshot not yet indexed: the key is found through loadedByKey instead of
   * the slots map; the increment is appended (or its slot gains the file) as `add` does, and the
   * change is recorded as `add` records it.
   */
  private addUnindexed(file: string, increment: UsageIncrement): boolean {
    const byKey = (this.loadedByKey ??= new LoadedKeyIndex(this.store));
    const slot = byKey.get(increment.key);
    if (slot === undefined) {
      const added = this.store.append(increment);
      this.reporters[added] = file;
      byKey.add(added);
      this.revision += 1;
      this.record({ kind: 'add', file, increment });
      return true;
    }
    if (this.addReporter(slot, file)) this.record({ kind: 'add', file, increment });
    return false;
  }

  /** Adds `file` to the reporters of a live slot; false when it had reported the slot already. */
  private addReporter(slot: number, file: string): boolean {
    const files = this.reporters[slot]!;
    if (typeof files === 'string') {
      if (files === file) return false;
      this.reporters[slot] = new Set([files, file]);
      return true;
    }
    if (files.has(file)) return false;
    files.add(file);
    return true;
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
    return { layout: this.layout, next: this.store.slotCount };
  }

  /** Every increment, as a new object each (see forEachIncrement for reading them all without building any). */
  *allIncrements(): IterableIterator<UsageIncrement> {
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
    const store = this.store;
    const view = newIncrementView();
    for (let slot = first, n = store.slotCount; slot < n; slot += 1) {
      if (!store.isLive(slot)) continue;
      store.fill(slot, view);
      visit(view);
    }
  }

  get incrementCount(): number {
    return this.unindexed ? this.store.slotCount - this.deadSlots : this.slots.size;
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
   * A ledger from its serialised form, which it takes over (a snapshot of columns, as a state file
   * is decoded, becomes its store as it is). It does without the key maps (see `unindexed`).
   */
  static fromJSON(snapshot: LedgerSnapshot): UsageLedger {
    const ledger = new UsageLedger();
    const increments = snapshot.increments;
    if (isLoadedColumns(increments)) {
      ledger.store = IncrementStore.fromColumns(increments.columns);
      ledger.reporters = increments.reporters.map((files) => (typeof files === 'string' ? files : new Set(files)));
    } else {
      for (const [inc, files] of increments) {
        if (files.length === 0) continue;
        const slot = ledger.store.append(inc);
        ledger.reporters[slot] = files.length === 1 ? files[0]! : new Set(files);
      }
    }
    ledger.unindexed = true;
    for (const thread of snapshot.threads) ledger.setThread(thread);
    ledger.rateLimits = snapshot.rateLimits;
    return ledger;
  }

  /** Builds the slots and fileSlots maps of a loaded snapshot (once, for filesReporting); the slots keep their numbers. */
  private index(): void {
    if (!this.unindexed) return;
    this.unindexed = false;
    this.loadedByKey = undefined;
    const { store, reporters, slots, fileSlots } = this;
    const note = (file: string, slot: number): void => {
      const list = fileSlots.get(file);
      if (list) list.push(slot);
      else fileSlots.set(file, [slot]);
    };
    for (let slot = 0, n = store.slotCount; slot < n; slot += 1) {
      const files = reporters[slot];
      if (files === undefined) continue;
      slots.set(store.key(slot), slot);
      if (typeof files === 'string') note(files, slot);
      else for (const file of files) note(file, slot);
    }
  }

  private killSlot(slot: number): void {
    // Not yet indexed, the slots map is empty: the key is not made whole for it.
    if (!this.unindexed) this.slots.delete(this.store.key(slot));
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
    this.loadedByKey = undefined;
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
  /**
   * Each increment with the files that reported it: read lazily from a live ledger (toJSON), in
   * columns as a state file is decoded (stateCodec.ts).
   */
  increments: Iterable<[UsageIncrement, string[]]> | LoadedColumns;
  threads: ThreadInfo[];
  rateLimits: RateLimitSnapshot | undefined;
}

/** A snapshot's increments as a state file is decoded: their columns, and per increment the file that reported it or the files. */
export interface LoadedColumns {
  columns: IncrementColumns;
  reporters: (string | string[])[];
}

export function isLoadedColumns(increments: LedgerSnapshot['increments']): increments is LoadedColumns {
  return 'columns' in increments;
}

/** A snapshot's increments, each with the files that reported it, whatever their form. */
export function* snapshotEntries(increments: LedgerSnapshot['increments']): Generator<[UsageIncrement, string[]]> {
  if (!isLoadedColumns(increments)) {
    yield* increments;
    return;
  }
  const store = IncrementStore.fromColumns(increments.columns);
  for (let slot = 0; slot < increments.columns.count; slot += 1) {
    const files = increments.reporters[slot]!;
    yield [store.get(slot), typeof files === 'string' ? [files] : [...files]];
  }
}
