import { describe, expect, it } from 'vitest';
import { IncrementStore } from '../../src/core/incrementStore.js';
import { isLoadedColumns, snapshotEntries, UsageLedger } from '../../src/core/ledger.js';
import { SCAN_STATE_VERSION } from '../../src/core/scanState.js';
import { decodeScanState, encodeScanState } from '../../src/core/stateCodec.js';
import { type UsageIncrement } from '../../src/core/ledgerTypes.js';
import { type CodexTokenUsage } from '../../src/core/normalize.js';

const inc = (key: string, extra: Partial<UsageIncrement> = {}): UsageIncrement => ({
  key, threadId: `thread-${key.length % 3}`, timestamp: `2026-11-20T10:00:${String(key.length % 60).padStart(2, '0')}.000Z`, source: 'snapshot',
  buckets: { uncachedInput: 100, cachedInput: 20, cacheWriteInput: 3, output: 40, reasoningOutput: 7 },
  ...extra,
});

describe('IncrementStore', () => {
  it('gives back each increment as it was written: optional fields absent, raw figures of every kind', () => {
    const raws: (CodexTokenUsage | undefined)[] = [
      undefined,
      {},
      { input_tokens: 120, cached_input_tokens: 20, output_tokens: 47, reasoning_output_tokens: 7, total_tokens: 167 },
      { input_tokens: null, output_tokens: 0, total_tokens: 2 ** 40 + 0.5 },
      { input_tokens: undefined, cache_write_input_tokens: 3 },
      { input_tokens: -5, total_tokens: Number.MAX_SAFE_INTEGER },
      // Beyond the six known figures, or a value that is no number: kept as the object itself.
      { input_tokens: 1, output_tokens: 2, extra_tokens: 9 } as CodexTokenUsage,
      { input_tokens: '12' } as unknown as CodexTokenUsage,
    ];
    const written: UsageIncrement[] = [];
    raws.forEach((raw, i) => {
      written.push(inc(`k${i}`, { ...(raw === undefined ? {} : { raw }), ...(i % 2 ? { model: 'gpt-5.1-codex', cwd: `/w/${i}` } : {}), source: (['record', 'snapshot', 'estimate'] as const)[i % 3]! }));
    });
    written.push(inc('big', { buckets: { uncachedInput: 2 ** 33, cachedInput: 0, cacheWriteInput: 0, output: 1.5, reasoningOutput: 0 } }));
    const store = new IncrementStore();
    const slots = written.map((w) => store.append(w));
    expect(slots).toEqual(written.map((_, i) => i));
    slots.forEach((slot, i) => {
      const back = store.get(slot);
      expect(back).toStrictEqual(written[i]);
      expect(Object.keys(back).sort()).toEqual(Object.keys(written[i]!).sort());
    });
    // A copy each time: changing one does not change the store.
    store.get(0).buckets.output = 999;
    expect(store.get(0).buckets.output).toBe(40);
  });

  it('grows past its first capacity and compacts to the live slots in their order', () => {
    const store = new IncrementStore();
    const all = Array.from({ length: 5000 }, (_, i) => inc(`key-${i}`, { model: `m${i % 7}`, raw: { input_tokens: i, output_tokens: 2 * i } }));
    for (const w of all) store.append(w);
    for (let slot = 0; slot < 5000; slot += 3) store.kill(slot);
    expect(store.isLive(0)).toBe(false);
    expect(store.isLive(1)).toBe(true);
    const { store: compacted, renumbered } = store.compact();
    const live = all.filter((_, i) => i % 3 !== 0);
    expect(compacted.slotCount).toBe(live.length);
    expect(Array.from({ length: compacted.slotCount }, (_, slot) => compacted.get(slot))).toStrictEqual(live);
    expect(renumbered[0]).toBe(-1);
    expect(renumbered[1]).toBe(0);
    expect(renumbered[4999]).toBe(live.length - 1);
  });
});

describe('UsageLedger over the store', () => {
  it('stays right through a compaction: after many files are taken back, the rest are counted, reported and removable as before', () => {
    const ledger = new UsageLedger();
    // 3,000 files with one increment of their own each, and one increment every file also reports.
    for (let f = 0; f < 3000; f += 1) {
      ledger.add(`/f${f}`, inc(`own-${f}`));
      ledger.add(`/f${f}`, inc('shared'));
    }
    ledger.add('/archive', inc('shared'));
    // Taking back 2,000 files kills 2,000 slots: more than the live ones, so the store is compacted.
    for (let f = 0; f < 2000; f += 1) ledger.removeFile(`/f${f}`);
    expect(ledger.incrementCount).toBe(1001);
    const keys = [...ledger.allIncrements()].map((i) => i.key);
    expect(keys[0]).toBe('shared');
    expect(keys.slice(1)).toEqual(Array.from({ length: 1000 }, (_, i) => `own-${2000 + i}`));
    expect(ledger.filesReporting('own-2500')).toEqual(new Set(['/f2500']));
    expect(ledger.filesReporting('own-5')).toBeUndefined();
    expect(ledger.filesReporting('shared')!.size).toBe(1001);
    // What is added after the compaction counts once, and removing files still takes back only their own.
    expect(ledger.add('/f2500', inc('own-2500'))).toBe(false);
    expect(ledger.add('/new', inc('fresh'))).toBe(true);
    for (let f = 2000; f < 3000; f += 1) ledger.removeFile(`/f${f}`);
    expect([...ledger.allIncrements()].map((i) => i.key)).toEqual(['shared', 'fresh']);
    ledger.removeFile('/archive');
    expect([...ledger.allIncrements()].map((i) => i.key)).toEqual(['fresh']);
    const copy = UsageLedger.fromJSON(ledger.toJSON());
    expect([...copy.allIncrements()]).toStrictEqual([inc('fresh')]);
    expect(copy.filesReporting('fresh')).toEqual(new Set(['/new']));
  });

  it('a key taken back and reported again comes last, as a new increment', () => {
    const ledger = new UsageLedger();
    ledger.add('/a', inc('first'));
    ledger.add('/b', inc('second'));
    ledger.removeFile('/a');
    expect(ledger.add('/c', inc('first'))).toBe(true);
    expect([...ledger.allIncrements()].map((i) => i.key)).toEqual(['second', 'first']);
    expect([...snapshotEntries(ledger.toJSON().increments)].map(([i, files]) => [i.key, files])).toEqual([['second', ['/b']], ['first', ['/c']]]);
  });

  it('a snapshot (toJSON) reads the increments as they were when it was taken, whatever is added, taken back or compacted after', () => {
    const ledger = new UsageLedger();
    for (let f = 0; f < 3000; f += 1) ledger.add(`/f${f}`, inc(`own-${f}`, { raw: { input_tokens: f } }));
    ledger.add('/f0', inc('shared'));
    ledger.add('/archive', inc('shared'));
    const snapshot = ledger.toJSON();
    const expected = [...ledger.allIncrements()].map((i) => [i.key, [...ledger.filesReporting(i.key)!].sort()]);
    // After it: files taken back (enough to compact the store), a reporter gone, new increments.
    for (let f = 0; f < 2500; f += 1) ledger.removeFile(`/f${f}`);
    ledger.add('/late', inc('late'));
    ledger.add('/late', inc('own-2999'));
    const read = [...snapshotEntries(snapshot.increments)].map(([i, files]) => [i.key, [...files].sort()]);
    expect(read).toEqual(expected);
    expect([...snapshotEntries(snapshot.increments)][5]![0]).toStrictEqual(inc('own-5', { raw: { input_tokens: 5 } }));
    // And written out, it is the same array.
    expect(JSON.parse(JSON.stringify(snapshot)).increments.map(([i, files]: [UsageIncrement, string[]]) => [i.key, [...files].sort()])).toEqual(expected);
  });

  it('forEachIncrement shows every increment as allIncrements does, without its raw figures, through one reused view', () => {
    const ledger = new UsageLedger();
    for (let i = 0; i < 50; i += 1) ledger.add('/f', inc(`k${i}`, { ...(i % 2 ? { model: 'm', cwd: '/c' } : {}), raw: { output_tokens: i } }));
    ledger.removeFile('/none');
    ledger.add('/g', inc('k7'));
    const seen: unknown[] = [];
    const views = new Set<unknown>();
    ledger.forEachIncrement((view) => {
      views.add(view);
      seen.push({ key: view.key, threadId: view.threadId, timestamp: view.timestamp, model: view.model, cwd: view.cwd, buckets: { ...view.buckets }, source: view.source });
    });
    const expected = [...ledger.allIncrements()].map(({ raw: _raw, ...i }) => ({ model: undefined, cwd: undefined, ...i }));
    expect(seen).toEqual(expected);
    expect(views.size).toBe(1);
  });
});

describe('a store made from a state\'s columns', () => {
  const loadedColumns = (count: number) => {
    const increments: [UsageIncrement, string[]][] = Array.from({ length: count }, (_, i) => [inc(`s:t:${i}`, { threadId: 't' }), ['/h/f.jsonl']]);
    const stored = JSON.parse(JSON.stringify(encodeScanState({ version: SCAN_STATE_VERSION, savedAt: 'now', files: {}, ledger: { increments, threads: [], rateLimits: undefined } })));
    const loaded = decodeScanState(stored).ledger.increments;
    if (!isLoadedColumns(loaded)) throw new Error('not in columns');
    return { increments, columns: loaded.columns };
  };

  it('takes the decoder\'s room for the next adds: they go in after the loaded slots, which read as they were', () => {
    const { increments, columns } = loadedColumns(100);
    expect(columns.threadRefs.length).toBeGreaterThan(100);
    const store = IncrementStore.fromColumns(columns);
    const added = Array.from({ length: columns.threadRefs.length - 100 + 5 }, (_, i) => inc(`s:u:${i}`, { threadId: 'u', model: 'gpt-5' }));
    const slots = added.map((i) => store.append(i));
    expect(slots[0]).toBe(100);
    expect(slots.map((slot) => store.get(slot))).toEqual(added);
    expect(increments.map((_, slot) => store.get(slot))).toEqual(increments.map(([i]) => i));
    expect(store.liveSlots(store.slotCount).every((live) => live === 1)).toBe(true);
  });

  it('refuses columns of different lengths', () => {
    const { columns } = loadedColumns(3);
    expect(() => IncrementStore.fromColumns({ ...columns, sources: new Uint8Array(columns.sources.length + 1) })).toThrow(/not all of one length/);
    expect(() => IncrementStore.fromColumns({ ...columns, figures: columns.figures.subarray(1) })).toThrow(/not all of one length/);
    expect(() => IncrementStore.fromColumns({ ...columns, count: columns.threadRefs.length + 1 })).toThrow(/not all of one length/);
  });
});
