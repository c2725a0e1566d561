import { type UsageIncrement } from './ledgerTypes.js';

/** A loaded snapshot's entry: an increment and the files that reported it. */
export type LoadedEntry = [UsageIncrement, string[]];

const COLON = 58;

/**
 * The entries of a loaded ledger snapshot by key, for the adds made to it without indexing it
 * (UsageLedger's keepSnapshot). A map of every key hashed each of them, ~28 ms of a CLI run after a
 * change on a 1 GB home (38k increments) and ~0.4 s on 10 GB; this one groups the entries by thread
 * id instead, whose strings the state shares (one each, hashed once), and makes a map of keys only
 * for a thread a key is asked for.
 *
 * Exact whatever the keys are: an entry whose key is `x:<thread id>:…` (one character, the entry's
 * own thread id, without a colon in it) is found under that thread, which is the key's second
 * colon-separated part; any other entry is kept in a map by its key. A key asked for is looked up
 * there first, then among the entries of the thread its second part names.
 */
export class LoadedKeyIndex {
  private readonly byThread = new Map<string, LoadedEntry[]>();
  /** Per thread asked for, its entries by key. */
  private readonly threadKeys = new Map<string, Map<string, LoadedEntry>>();
  private readonly others = new Map<string, LoadedEntry>();

  constructor(entries: Iterable<LoadedEntry>) {
    for (const entry of entries) this.add(entry);
  }

  /** Adds an entry, whose key must be new to the index (a ledger holds each key once). */
  add(entry: LoadedEntry): void {
    const { key, threadId } = entry[0];
    if (!underThread(key, threadId)) {
      this.others.set(key, entry);
      return;
    }
    const list = this.byThread.get(threadId);
    if (list) list.push(entry);
    else this.byThread.set(threadId, [entry]);
    this.threadKeys.get(threadId)?.set(key, entry);
  }

  get(key: string): LoadedEntry | undefined {
    const other = this.others.get(key);
    if (other) return other;
    if (key.charCodeAt(1) !== COLON) return undefined;
    const end = key.indexOf(':', 2);
    if (end === -1) return undefined;
    const thread = key.slice(2, end);
    let keys = this.threadKeys.get(thread);
    if (!keys) {
      const list = this.byThread.get(thread);
      if (!list) return undefined;
      keys = new Map(list.map((entry) => [entry[0].key, entry]));
      this.threadKeys.set(thread, keys);
    }
    return keys.get(key);
  }
}

/** Whether `key` is `x:<threadId>:…` with a thread id without a colon: then its second part is the thread id. */
function underThread(key: string, threadId: string): boolean {
  return key.charCodeAt(1) === COLON && key.charCodeAt(2 + threadId.length) === COLON && key.startsWith(threadId, 2) && !threadId.includes(':');
}
