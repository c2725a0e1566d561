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

/** A view that IncrementStore.fill points at one slot after another. */
export interface MutableIncrementView {
  key: string;
  threadId: string;
  timestamp: string;
  model: string | undefined;
  cwd: string | undefined;
  buckets: { uncachedInput: number; cachedInput: number; cacheWriteInput: number; output: number; reasoningOutput: number };
  source: IncrementSource;
}

/** A view to fill. */
export function newIncrementView(): MutableIncrementView & IncrementView {
  return { key: '', threadId: '', timestamp: '', model: undefined, cwd: undefined, buckets: { uncachedInput: 0, cachedInput: 0, cacheWriteInput: 0, output: 0, reasoningOutput: 0 }, source: 'snapshot' };
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
  private readonly keys: string[] = [];
  private readonly timestamps: string[] = [];
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
  private readonly strings: string[] = [];
  private readonly stringIndex = new Map<string, number>();

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

  /** The increment in a live slot, as a new object (the caller may keep or change it). */
  get(slot: number): UsageIncrement {
    const view = newIncrementView();
    this.fill(slot, view);
    const inc: UsageIncrement = { key: view.key, threadId: view.threadId, timestamp: view.timestamp, buckets: view.buckets, source: view.source };
    if (view.model !== undefined) inc.model = view.model;
    if (view.cwd !== undefined) inc.cwd = view.cwd;
    const raw = this.readRaw(slot, slot * FIGURES + 5);
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
    view.key = this.keys[slot]!;
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
    return this.keys[slot]!;
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
