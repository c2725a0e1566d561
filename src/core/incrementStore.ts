import { type IncrementSource, type IncrementView, type UsageIncrement } from './ledgerTypes.js';
import { type CodexTokenUsage } from './normalize.js';

const SOURCES: IncrementSource[] = ['record', 'snapshot', 'estimate'];
const RAW_FIELDS = ['input_tokens', 'cached_input_tokens', 'cache_write_input_tokens', 'output_tokens', 'reasoning_output_tokens', 'total_tokens'] as const;
const KNOWN_RAW = new Set<string>(RAW_FIELDS);
/** Per slot: the five buckets, then the six raw figures. */
const FIGURES = 11;
/** rawShape bits: the raw figures exist at all; field i present (bit i); field i is null (bit 6 + i). */
const HAS_RAW = 1 << 15;
const NONE = -1;

/**
 * Increments in the columns an IncrementStore keeps, as a state file's decoder (stateCodec.ts)
 * builds them: `IncrementStore.fromColumns` takes the arrays as they are, so a loaded state becomes
 * a store without an object per increment. `count` slots, all live; the typed arrays may be longer,
 * all by as many slots, room for the increments added next (the store would otherwise copy every
 * column, to twice its size, at its first add).
 */
export interface IncrementColumns {
  count: number;
  /** Each key, or for a slot marked in `markedKeys` the key with KEY_THREAD_MARK where the slot's thread id is. */
  keys: string[];
  /** 1 where `keys` holds the key with KEY_THREAD_MARK for the thread id (made whole when first read). */
  markedKeys: Uint8Array<ArrayBuffer>;
  timestamps: string[];
  /** Indexes into `strings`; -1 for none (model and cwd). */
  threadRefs: Int32Array<ArrayBuffer>;
  modelRefs: Int32Array<ArrayBuffer>;
  cwdRefs: Int32Array<ArrayBuffer>;
  /** Index into INCREMENT_SOURCES. */
  sources: Uint8Array<ArrayBuffer>;
  /** Per slot, the raw figures' shape (rawShapeOf). */
  rawShapes: Uint16Array<ArrayBuffer>;
  /** FIGURES per slot: the five buckets, then the six raw figures (0 where absent or null). */
  figures: Float64Array<ArrayBuffer>;
  /** Raw figures with fields beyond the six, kept as they were, by slot. */
  unusualRaw: Map<number, CodexTokenUsage>;
  strings: string[];
}

export const INCREMENT_SOURCES: readonly IncrementSource[] = SOURCES;
/** What stands for the thread id in a key stored without it (a state file's keys: most hold their thread id). */
export const KEY_THREAD_MARK = '\u0001';
export const INCREMENT_RAW_FIELDS = RAW_FIELDS;
/** Numbers per slot in IncrementColumns.figures. */
export const INCREMENT_FIGURES = FIGURES;

/**
 * A key stored with KEY_THREAD_MARK, whole again: the thread id where the mark is. By slicing:
 * String.replace would read `$&` and the like in a thread id (a path, for a file without
 * session_meta) as patterns.
 */
export function keyWithThreadId(stored: string, threadId: string): string {
  const at = stored.indexOf(KEY_THREAD_MARK);
  return at === -1 ? stored : stored.slice(0, at) + threadId + stored.slice(at + 1);
}

/**
 * The raw figures' shape as a store keeps it and a state file stores it: 0 without raw figures;
 * else bit 15, and for each of the six known fields bit i when present, with bit 6 + i when null.
 * undefined for figures with other fields or values that are neither numbers nor null (kept whole).
 * A field present without a value (undefined) counts as absent here, as JSON writes it.
 */
export function rawShapeOf(raw: CodexTokenUsage | undefined): number | undefined {
  if (!raw) return 0;
  let shape = HAS_RAW;
  for (const name of Object.keys(raw)) {
    const value = (raw as Record<string, unknown>)[name];
    if (!KNOWN_RAW.has(name) || (value !== null && value !== undefined && typeof value !== 'number')) return undefined;
  }
  RAW_FIELDS.forEach((name, i) => {
    const value = raw[name];
    if (value === undefined) return;
    shape |= 1 << i;
    if (value === null) shape |= 1 << (6 + i);
  });
  return shape;
}

/** Whether `shape` is one rawShapeOf gives for the six known fields (bits beyond them unset, null only where present). */
export function isRawShape(shape: number): boolean {
  if (shape === 0) return true;
  if (!Number.isInteger(shape) || shape < HAS_RAW || shape >= HAS_RAW * 2) return false;
  const present = shape & 0x3f;
  const nulls = (shape >> 6) & 0x3f;
  return (nulls & ~present) === 0 && (shape & 0x7000) === 0;
}

/** A view that IncrementStore.fill points at one slot after another; its key is read from the store when asked for. */
export interface MutableIncrementView {
  readonly key: string;
  /** The store and slot the key is read from. */
  keyOf: { store: IncrementStore | undefined; slot: number };
  threadId: string;
  timestamp: string;
  model: string | undefined;
  cwd: string | undefined;
  buckets: { uncachedInput: number; cachedInput: number; cacheWriteInput: number; output: number; reasoningOutput: number };
  source: IncrementSource;
}

/** A view to fill. */
export function newIncrementView(): MutableIncrementView & IncrementView {
  const keyOf: MutableIncrementView['keyOf'] = { store: undefined, slot: -1 };
  const view = { threadId: '', timestamp: '', model: undefined, cwd: undefined, buckets: { uncachedInput: 0, cachedInput: 0, cacheWriteInput: 0, output: 0, reasoningOutput: 0 }, source: 'snapshot' as IncrementSource };
  // The key is an own, enumerable getter: a report that never reads keys makes none whole, and a copy
  // of the view ({ ...view }) has it; where it is read from is not copied.
  Object.defineProperty(view, 'key', { enumerable: true, get: () => keyOf.store?.key(keyOf.slot) ?? '' });
  Object.defineProperty(view, 'keyOf', { enumerable: false, value: keyOf });
  return view as MutableIncrementView & IncrementView;
}

/**
 * Usage increments kept in columns, one slot each, instead of one object (with a buckets and a raw
 * object, and its own copies of the thread id, model and cwd) per response: a ledger of a 10 GB home
 * holds ~380k of them. Thread ids, models and cwds are stored once each. A slot, once written, keeps
 * its number until `compact`; a dead slot (taken back out) is skipped.
 */
export class IncrementStore {
  private size = 0;
  private capacity = 0;
  private keys: string[] = [];
  /** 1 where `keys` holds the key with KEY_THREAD_MARK for the slot's thread id (a loaded state's), made whole when first read. */
  private markedKeys = new Uint8Array(0);
  private timestamps: string[] = [];
  private threadRefs = new Int32Array(0);
  private modelRefs = new Int32Array(0);
  private cwdRefs = new Int32Array(0);
  private sources = new Uint8Array(0);
  /** 1 for a live slot, 0 for one taken back out (its other columns stay as they were, for snapshots). */
  private alive = new Uint8Array(0);
  private rawShapes = new Uint16Array(0);
  private figures = new Float64Array(0);
  /** Raw figures with fields beyond the six, kept as they were (rare). */
  private readonly unusualRaw = new Map<number, CodexTokenUsage>();
  private strings: string[] = [];
  private readonly stringIndex = new Map<string, number>();

  /** A store of the increments in `columns`, whose arrays it takes as they are (see IncrementColumns). */
  static fromColumns(columns: IncrementColumns): IncrementStore {
    const store = new IncrementStore();
    const n = columns.count;
    const capacity = columns.threadRefs.length;
    const sized = [columns.markedKeys, columns.modelRefs, columns.cwdRefs, columns.sources, columns.rawShapes].every((c) => c.length === capacity);
    if (capacity < n || !sized || columns.figures.length !== capacity * FIGURES) throw new Error('the columns are not all of one length');
    store.size = n;
    store.capacity = capacity;
    store.keys = columns.keys;
    store.markedKeys = columns.markedKeys;
    store.timestamps = columns.timestamps;
    store.threadRefs = columns.threadRefs;
    store.modelRefs = columns.modelRefs;
    store.cwdRefs = columns.cwdRefs;
    store.sources = columns.sources;
    store.alive = new Uint8Array(capacity).fill(1, 0, n);
    store.rawShapes = columns.rawShapes;
    store.figures = columns.figures;
    for (const [slot, raw] of columns.unusualRaw) store.unusualRaw.set(slot, raw);
    store.strings = columns.strings;
    columns.strings.forEach((value, i) => {
      if (!store.stringIndex.has(value)) store.stringIndex.set(value, i);
    });
    return store;
  }

  /** Slots written so far, dead ones included. */
  get slotCount(): number {
    return this.size;
  }

  /** Writes the increment into a new slot and returns its number. */
  append(inc: UsageIncrement): number {
    if (this.size === this.capacity) this.grow();
    const slot = this.size;
    this.size += 1;
    this.keys[slot] = inc.key;
    this.markedKeys[slot] = 0;
    this.timestamps[slot] = inc.timestamp;
    this.threadRefs[slot] = this.ref(inc.threadId);
    this.modelRefs[slot] = this.ref(inc.model);
    this.cwdRefs[slot] = this.ref(inc.cwd);
    this.sources[slot] = SOURCES.indexOf(inc.source);
    this.alive[slot] = 1;
    const at = slot * FIGURES;
    const b = inc.buckets;
    const f = this.figures;
    f[at] = b.uncachedInput;
    f[at + 1] = b.cachedInput;
    f[at + 2] = b.cacheWriteInput;
    f[at + 3] = b.output;
    f[at + 4] = b.reasoningOutput;
    this.rawShapes[slot] = this.writeRaw(slot, at + 5, inc.raw);
    return slot;
  }

  /** The increment in a live slot, as a new object (the caller may keep or change it); a key held with its mark stays so in the store. */
  get(slot: number): UsageIncrement {
    const at = slot * FIGURES;
    const f = this.figures;
    const inc: UsageIncrement = {
      // Made whole for this copy only: a save, which reads every increment, leaves the store's keys as they were.
      key: this.markedKeys[slot] === 1 ? keyWithThreadId(this.keys[slot]!, this.threadId(slot)) : this.keys[slot]!,
      threadId: this.threadId(slot),
      timestamp: this.timestamps[slot]!,
      buckets: { uncachedInput: f[at]!, cachedInput: f[at + 1]!, cacheWriteInput: f[at + 2]!, output: f[at + 3]!, reasoningOutput: f[at + 4]! },
      source: SOURCES[this.sources[slot]!]!,
    };
    const model = this.modelRefs[slot]!;
    const cwd = this.cwdRefs[slot]!;
    if (model !== NONE) inc.model = this.strings[model]!;
    if (cwd !== NONE) inc.cwd = this.strings[cwd]!;
    const raw = this.readRaw(slot, at + 5);
    if (raw) inc.raw = raw;
    return inc;
  }

  /**
   * Points `view` at the increment in a slot, without its raw figures: the same object for every
   * slot, so a caller that reads each increment once (a report) builds none.
   */
  fill(slot: number, view: MutableIncrementView): void {
    const at = slot * FIGURES;
    const f = this.figures;
    const b = view.buckets;
    view.keyOf.store = this;
    view.keyOf.slot = slot;
    view.threadId = this.strings[this.threadRefs[slot]!]!;
    view.timestamp = this.timestamps[slot]!;
    const model = this.modelRefs[slot]!;
    const cwd = this.cwdRefs[slot]!;
    view.model = model === NONE ? undefined : this.strings[model];
    view.cwd = cwd === NONE ? undefined : this.strings[cwd];
    view.source = SOURCES[this.sources[slot]!]!;
    b.uncachedInput = f[at]!;
    b.cachedInput = f[at + 1]!;
    b.cacheWriteInput = f[at + 2]!;
    b.output = f[at + 3]!;
    b.reasoningOutput = f[at + 4]!;
  }

  key(slot: number): string {
    const key = this.keys[slot]!;
    if (this.markedKeys[slot] !== 1) return key;
    const whole = keyWithThreadId(key, this.threadId(slot));
    this.keys[slot] = whole;
    this.markedKeys[slot] = 0;
    return whole;
  }

  /**
   * The key as a state file stored it, with KEY_THREAD_MARK where the slot's thread id is, when it
   * is still so (not yet read whole); else undefined.
   */
  markedKey(slot: number): string | undefined {
    return this.markedKeys[slot] === 1 ? this.keys[slot] : undefined;
  }

  threadId(slot: number): string {
    return this.strings[this.threadRefs[slot]!]!;
  }

  isLive(slot: number): boolean {
    return this.alive[slot] === 1;
  }

  /** Which of the first `count` slots are live, as they are now (a snapshot's view of them). */
  liveSlots(count: number): Uint8Array {
    return this.alive.slice(0, count);
  }

  /** Marks a slot dead: it is skipped from now on, and dropped by `compact`. Its columns stay for snapshots taken before. */
  kill(slot: number): void {
    this.alive[slot] = 0;
  }

  /**
   * A store with the live slots only, in their order; `renumbered[old]` is each live slot's new number
   * (-1 for a dead one). Strings no live slot uses are dropped too.
   */
  compact(): { store: IncrementStore; renumbered: Int32Array } {
    const store = new IncrementStore();
    const renumbered = new Int32Array(this.size).fill(NONE);
    for (let slot = 0; slot < this.size; slot += 1) if (this.isLive(slot)) renumbered[slot] = store.append(this.get(slot));
    return { store, renumbered };
  }

  private ref(value: string | undefined): number {
    if (value === undefined) return NONE;
    let i = this.stringIndex.get(value);
    if (i === undefined) {
      i = this.strings.push(value) - 1;
      this.stringIndex.set(value, i);
    }
    return i;
  }

  private writeRaw(slot: number, at: number, raw: CodexTokenUsage | undefined): number {
    if (!raw) return 0;
    for (const name of Object.keys(raw)) {
      const value = (raw as Record<string, unknown>)[name];
      if (!KNOWN_RAW.has(name) || (value !== null && value !== undefined && typeof value !== 'number')) {
        this.unusualRaw.set(slot, raw);
        return HAS_RAW;
      }
    }
    let shape = HAS_RAW;
    RAW_FIELDS.forEach((name, i) => {
      if (!(name in raw)) return;
      const value = raw[name];
      shape |= 1 << i;
      if (value === null) shape |= 1 << (6 + i);
      // undefined (a field present without a value) is kept as such: NaN with neither bit for null.
      this.figures[at + i] = value ?? Number.NaN;
    });
    return shape;
  }

  private readRaw(slot: number, at: number): CodexTokenUsage | undefined {
    const shape = this.rawShapes[slot]!;
    if (!(shape & HAS_RAW)) return undefined;
    const unusual = this.unusualRaw.get(slot);
    if (unusual) return unusual;
    const raw: Record<string, number | null | undefined> = {};
    RAW_FIELDS.forEach((name, i) => {
      if (!(shape & (1 << i))) return;
      const value = this.figures[at + i]!;
      raw[name] = shape & (1 << (6 + i)) ? null : Number.isNaN(value) ? undefined : value;
    });
    return raw as CodexTokenUsage;
  }

  private grow(): void {
    const capacity = Math.max(1024, this.capacity * 2);
    const widen = <T extends Int32Array | Uint8Array | Uint16Array | Float64Array>(old: T, make: (n: number) => T, per = 1): T => {
      const next = make(capacity * per);
      next.set(old);
      return next;
    };
    this.markedKeys = widen(this.markedKeys, (n) => new Uint8Array(n));
    this.threadRefs = widen(this.threadRefs, (n) => new Int32Array(n));
    this.modelRefs = widen(this.modelRefs, (n) => new Int32Array(n));
    this.cwdRefs = widen(this.cwdRefs, (n) => new Int32Array(n));
    this.sources = widen(this.sources, (n) => new Uint8Array(n));
    this.alive = widen(this.alive, (n) => new Uint8Array(n));
    this.rawShapes = widen(this.rawShapes, (n) => new Uint16Array(n));
    this.figures = widen(this.figures, (n) => new Float64Array(n), FIGURES);
    this.capacity = capacity;
  }
}
