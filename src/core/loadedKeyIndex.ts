import { KEY_THREAD_MARK } from './incrementStore.js';

/** What LoadedKeyIndex reads of a store's slots (IncrementStore). */
export interface KeyedSlots {
  readonly slotCount: number;
  isLive(slot: number): boolean;
  key(slot: number): string;
  /** The key with KEY_THREAD_MARK where the thread id is, while the store holds it so; else undefined. */
  markedKey(slot: number): string | undefined;
  threadId(slot: number): string;
}

const COLON = 58;
const MARK = KEY_THREAD_MARK.charCodeAt(0);

/**
 * The slots of a loaded ledger snapshot by key, for the adds made to it without indexing it
 * (UsageLedger's `unindexed`). A map of every key hashed each of them, ~28 ms of a CLI run after a
 * change on a 1 GB home (38k increments) and ~0.4 s on 10 GB; this one groups the slots by thread
 * id instead, whose strings the state shares (one each, hashed once), and makes a map of keys only
 * for a thread a key is asked for.
 *
 * Exact whatever the keys are: a slot whose key is `x:<thread id>:…` (one character, the slot's
 * own thread id, without a colon in it) is found under that thread, which is the key's second
 * colon-separated part; any other slot is kept in a map by its key. A key asked for is looked up
 * there first, then among the slots of the thread its second part names. The live slots are
 * indexed when it is made; a slot taken out of the store (killed) after is not found, and its key
 * added again is found at its new slot. The store's slots must not be renumbered while it is used.
 */
export class LoadedKeyIndex {
  private readonly byThread = new Map<string, number[]>();
  /** Per thread asked for, its slots by key. */
  private readonly threadKeys = new Map<string, Map<string, number>>();
  private readonly others = new Map<string, number>();

  constructor(private readonly store: KeyedSlots) {
    for (let slot = 0, n = store.slotCount; slot < n; slot += 1) if (store.isLive(slot)) this.add(slot);
  }

  /** Adds a slot, whose key must not be at a live slot of the index (a ledger holds each key once). */
  add(slot: number): void {
    const threadId = this.store.threadId(slot);
    if (!this.underOwnThread(slot, threadId)) {
      this.others.set(this.store.key(slot), slot);
      return;
    }
    const list = this.byThread.get(threadId);
    if (list) list.push(slot);
    else this.byThread.set(threadId, [slot]);
    this.threadKeys.get(threadId)?.set(this.store.key(slot), slot);
  }

  /**
   * Whether the slot's key is `x:<its thread id>:…` (underThread), told without making the key
   * whole when it is held as `x:<mark>:…`: the mark stands for the thread id.
   */
  private underOwnThread(slot: number, threadId: string): boolean {
    const marked = this.store.markedKey(slot);
    if (marked !== undefined && marked.charCodeAt(1) === COLON && marked.charCodeAt(2) === MARK && marked.charCodeAt(3) === COLON) return !threadId.includes(':');
    return underThread(this.store.key(slot), threadId);
  }

  /** The slot of `key`, or undefined. */
  get(key: string): number | undefined {
    const slot = this.find(key);
    return slot !== undefined && this.store.isLive(slot) ? slot : undefined;
  }

  /** The last slot indexed under `key`, live or not. */
  private find(key: string): number | undefined {
    const other = this.others.get(key);
    if (other !== undefined) return other;
    if (key.charCodeAt(1) !== COLON) return undefined;
    const end = key.indexOf(':', 2);
    if (end === -1) return undefined;
    const thread = key.slice(2, end);
    let keys = this.threadKeys.get(thread);
    if (!keys) {
      const list = this.byThread.get(thread);
      if (!list) return undefined;
      keys = new Map(list.map((slot) => [this.store.key(slot), slot]));
      this.threadKeys.set(thread, keys);
    }
    return keys.get(key);
  }
}

/** Whether `key` is `x:<threadId>:…` with a thread id without a colon: then its second part is the thread id. */
function underThread(key: string, threadId: string): boolean {
  return key.charCodeAt(1) === COLON && key.charCodeAt(2 + threadId.length) === COLON && key.startsWith(threadId, 2) && !threadId.includes(':');
}
