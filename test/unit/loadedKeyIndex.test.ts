import { describe, expect, it } from 'vitest';
import { IncrementStore } from '../../src/core/incrementStore.js';
import { isLoadedColumns } from '../../src/core/ledger.js';
import { SCAN_STATE_VERSION } from '../../src/core/scanState.js';
import { decodeScanState, encodeScanState } from '../../src/core/stateCodec.js';
import { type UsageIncrement } from '../../src/core/ledgerTypes.js';
import { LoadedKeyIndex } from '../../src/core/loadedKeyIndex.js';
import { random } from './helpers/randomLedger.js';

const inc = (key: string, threadId: string): UsageIncrement => (
  { key, threadId, timestamp: '2026-11-20T10:00:00.000Z', buckets: { uncachedInput: 1, cachedInput: 0, cacheWriteInput: 0, output: 1, reasoningOutput: 0 }, source: 'snapshot' }
);

/** A store holding increments of these keys and thread ids, in order (slot i: the i-th). */
function storeOf(pairs: [key: string, threadId: string][]): IncrementStore {
  const store = new IncrementStore();
  for (const [key, threadId] of pairs) store.append(inc(key, threadId));
  return store;
}

describe('LoadedKeyIndex', () => {
  it('finds every entry by its key, whatever the shape of the key and of the thread id', () => {
    const pairs: [string, string][] = [
      ['s:T1:0:10,0,0,5,0', 'T1'],
      ['r:T1:resp-1', 'T1'],
      ['r:T2:resp-1', 'T2'],
      // A thread id with a colon (a file without session_meta), a key without its thread id, one naming another thread, a short one.
      ['s:unknown:/h/a.jsonl:0:1,0,0,1,0', 'unknown:/h/a.jsonl'],
      ['legacy-key', 'T3'],
      ['r:T9:resp-2', 'T4'],
      ['e', 'T5'],
      ['e:T6', 'T6'],
    ];
    const index = new LoadedKeyIndex(storeOf(pairs));
    pairs.forEach(([key], slot) => expect(index.get(key), key).toBe(slot));
    for (const absent of ['s:T1:0:11,0,0,5,0', 'r:T3:resp-1', 'r:T9:resp-1', 's:unknown:/h/b.jsonl:0:1,0,0,1,0', 's:unknown', 'x', '', 'ab', 'e:T6:', 'r:T1']) {
      expect(index.get(absent), absent).toBeUndefined();
    }
  });

  it('finds what is added after a thread\'s keys were first asked for', () => {
    const store = storeOf([['r:T1:a', 'T1']]);
    const index = new LoadedKeyIndex(store);
    expect(index.get('r:T1:b')).toBeUndefined();
    index.add(store.append(inc('r:T1:b', 'T1')));
    expect(index.get('r:T1:b')).toBe(1);
    index.add(store.append(inc('s:odd:id:0', 'odd:id')));
    expect(index.get('s:odd:id:0')).toBe(2);
    expect(index.get('r:T1:a')).toBe(0);
  });

  it('does not find a slot taken out of the store, before it was made or after, and finds its key added again at its new slot', () => {
    const store = storeOf([['r:T1:a', 'T1'], ['r:T1:b', 'T1'], ['odd', 'T1']]);
    store.kill(0);
    store.kill(2);
    const index = new LoadedKeyIndex(store);
    expect(index.get('r:T1:a')).toBeUndefined();
    expect(index.get('odd')).toBeUndefined();
    expect(index.get('r:T1:b')).toBe(1);
    store.kill(1);
    expect(index.get('r:T1:b')).toBeUndefined();
    index.add(store.append(inc('r:T1:b', 'T1')));
    index.add(store.append(inc('odd', 'T1')));
    expect(index.get('r:T1:b')).toBe(3);
    expect(index.get('odd')).toBe(4);
    // A thread whose map is made only after its key was taken out and added again: the live slot.
    const t2 = store.append(inc('r:T2:x', 'T2'));
    index.add(t2);
    store.kill(t2);
    const again = store.append(inc('r:T2:x', 'T2'));
    index.add(again);
    expect(index.get('r:T2:x')).toBe(again);
    const other = new LoadedKeyIndex(store);
    expect(other.get('r:T1:b')).toBe(3);
    store.kill(3);
    expect(new LoadedKeyIndex(store).get('r:T1:b')).toBeUndefined();
    expect(index.get('r:T1:b')).toBeUndefined();
  });

  it('answers as a map of every key does, over random keys and thread ids', () => {
    const rand = random(21);
    const pick = <T>(values: T[]): T => values[Math.floor(rand() * values.length)]!;
    const threads = ['T1', 'T2', 'T12', 'unknown:/h/x.jsonl', 'a:b', 'a', ''];
    const keyOf = (): string => `${pick(['s', 'r', 'e', 'ss'])}${pick([':', ''])}${pick(threads)}${pick([':', '', ':b:'])}${Math.floor(rand() * 6)}`;
    const all = new Map<string, number>();
    const store = new IncrementStore();
    const index = new LoadedKeyIndex(store);
    for (let n = 0; n < 2000; n += 1) {
      const key = keyOf();
      if (rand() < 0.5) {
        expect(index.get(key), key).toBe(all.get(key));
      } else if (!all.has(key)) {
        const slot = store.append(inc(key, pick(threads)));
        all.set(key, slot);
        index.add(slot);
      }
    }
    for (const [key, slot] of all) expect(index.get(key)).toBe(slot);
  });

  it('answers as a map of every key does over a state file\'s store, whose keys are held without their thread ids, making whole only the keys of the threads asked for', () => {
    const rand = random(22);
    const pick = <T>(values: T[]): T => values[Math.floor(rand() * values.length)]!;
    // Thread ids that are a key's first part too, hold a colon, or `$&` (String.replace's pattern).
    const threads = ['T1', 'T2', 'T12', 'unknown:/h/x.jsonl', 'a', 's', '/h/$&/y', '$\'', ''];
    const pairs = new Map<string, string>();
    for (let n = 0; n < 1500; n += 1) {
      const thread = pick(threads);
      const key = `${pick(['s', 'r', 'e', 'a'])}${pick([':', ''])}${pick([thread, pick(threads)])}${pick([':', '', ':b:'])}${Math.floor(rand() * 6)}`;
      if (!pairs.has(key)) pairs.set(key, thread);
    }
    const increments = [...pairs].map(([key, threadId]): [ReturnType<typeof inc>, string[]] => [inc(key, threadId), ['/h/f.jsonl']]);
    const stored = JSON.parse(JSON.stringify(encodeScanState({ version: SCAN_STATE_VERSION, savedAt: 'now', files: {}, ledger: { increments, threads: [], rateLimits: undefined } })));
    const loaded = decodeScanState(stored).ledger.increments;
    if (!isLoadedColumns(loaded)) throw new Error('not in columns');
    const store = IncrementStore.fromColumns(loaded.columns);
    // A copy of an increment (what a save reads) makes its key whole for the copy only.
    const first = [...pairs.keys()].findIndex((key) => key.startsWith('s:T1:'));
    expect(store.get(first).key).toBe([...pairs.keys()][first]);
    expect(store.markedKey(first)).toBeDefined();
    const index = new LoadedKeyIndex(store);
    // One thread asked for: the keys of other threads, held as `x:<mark>:…`, are not made whole.
    const t1 = [...pairs].findIndex(([key, thread]) => thread === 'T1' && key.startsWith('s:T1:'));
    expect(index.get([...pairs.keys()][t1]!)).toBe(t1);
    const heldWithMark = [...pairs].map(([key, thread], slot) => ({ key, thread, slot }))
      .filter(({ key, thread }) => thread !== 'T1' && key.indexOf(thread) === 2 && key[1] === ':' && key[2 + thread.length] === ':' && !thread.includes(':'));
    expect(heldWithMark.length).toBeGreaterThan(50);
    for (const { key, slot } of heldWithMark) expect(store.markedKey(slot), key).toBeDefined();
    [...pairs.keys()].forEach((key, slot) => expect(index.get(key), key).toBe(slot));
    for (let n = 0; n < 500; n += 1) {
      const key = `${pick(['s', 'r', 'x'])}:${pick(threads)}:${Math.floor(rand() * 9)}`;
      expect(index.get(key), key).toBe(pairs.has(key) ? [...pairs.keys()].indexOf(key) : undefined);
    }
    [...pairs.keys()].forEach((key, slot) => expect(store.key(slot)).toBe(key));
  });
});
