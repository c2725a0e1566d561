import { describe, expect, it } from 'vitest';
import { type LoadedEntry, LoadedKeyIndex } from '../../src/core/loadedKeyIndex.js';
import { random } from './helpers/randomLedger.js';

const entry = (key: string, threadId: string): LoadedEntry => [
  { key, threadId, timestamp: '2026-11-20T10:00:00.000Z', buckets: { uncachedInput: 1, cachedInput: 0, cacheWriteInput: 0, output: 1, reasoningOutput: 0 }, source: 'snapshot' },
  ['/h/f.jsonl'],
];

describe('LoadedKeyIndex', () => {
  it('finds every entry by its key, whatever the shape of the key and of the thread id', () => {
    const entries = [
      entry('s:T1:0:10,0,0,5,0', 'T1'),
      entry('r:T1:resp-1', 'T1'),
      entry('r:T2:resp-1', 'T2'),
      // A thread id with a colon (a file without session_meta), a key without its thread id, one naming another thread, a short one.
      entry('s:unknown:/h/a.jsonl:0:1,0,0,1,0', 'unknown:/h/a.jsonl'),
      entry('legacy-key', 'T3'),
      entry('r:T9:resp-2', 'T4'),
      entry('e', 'T5'),
      entry('e:T6', 'T6'),
    ];
    const index = new LoadedKeyIndex(entries);
    for (const e of entries) expect(index.get(e[0].key)).toBe(e);
    for (const absent of ['s:T1:0:11,0,0,5,0', 'r:T3:resp-1', 'r:T9:resp-1', 's:unknown:/h/b.jsonl:0:1,0,0,1,0', 's:unknown', 'x', '', 'ab', 'e:T6:', 'r:T1']) {
      expect(index.get(absent), absent).toBeUndefined();
    }
  });

  it('finds what is added after a thread\'s keys were first asked for', () => {
    const index = new LoadedKeyIndex([entry('r:T1:a', 'T1')]);
    expect(index.get('r:T1:b')).toBeUndefined();
    const added = entry('r:T1:b', 'T1');
    index.add(added);
    expect(index.get('r:T1:b')).toBe(added);
    const other = entry('s:odd:id:0', 'odd:id');
    index.add(other);
    expect(index.get('s:odd:id:0')).toBe(other);
  });

  it('answers as a map of every key does, over random keys and thread ids', () => {
    const rand = random(21);
    const pick = <T>(values: T[]): T => values[Math.floor(rand() * values.length)]!;
    const threads = ['T1', 'T2', 'T12', 'unknown:/h/x.jsonl', 'a:b', 'a', ''];
    const keyOf = (): string => `${pick(['s', 'r', 'e', 'ss'])}${pick([':', ''])}${pick(threads)}${pick([':', '', ':b:'])}${Math.floor(rand() * 6)}`;
    const all = new Map<string, LoadedEntry>();
    const index = new LoadedKeyIndex([]);
    for (let n = 0; n < 2000; n += 1) {
      const key = keyOf();
      if (rand() < 0.5) {
        expect(index.get(key), key).toBe(all.get(key));
      } else if (!all.has(key)) {
        const e = entry(key, pick(threads));
        all.set(key, e);
        index.add(e);
      }
    }
    for (const [key, e] of all) expect(index.get(key)).toBe(e);
  });
});
