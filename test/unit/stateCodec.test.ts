import { describe, expect, it } from 'vitest';
import { type UsageIncrement } from '../../src/core/ledgerTypes.js';
import { type PersistedScanState, SCAN_STATE_VERSION } from '../../src/core/scanState.js';
import { snapshotEntries, UsageLedger } from '../../src/core/ledger.js';
import { decodeJournalEntry, decodeScanState, encodeJournalEntry, encodeScanState, encodeScanStatePieces, STATE_PIECE_CHARS, storedStateOfLines } from '../../src/core/stateCodec.js';
import { plainState } from './helpers/plainState.js';
import { numbersOf, withWord, wordsOf } from './helpers/storedNumbers.js';

const buckets = { uncachedInput: 10, cachedInput: 20, cacheWriteInput: 3, output: 4, reasoningOutput: 1 };
const inc = (over: Partial<UsageIncrement>): UsageIncrement => ({ key: 's:t1:0:1', threadId: 't1', timestamp: '2026-11-20T10:00:00.123456Z', buckets, source: 'snapshot', ...over });

describe('the stored form of the scan state', () => {
  it('gives back exactly what was saved, whatever the increments hold', () => {
    const state: PersistedScanState = {
      version: SCAN_STATE_VERSION,
      savedAt: '2026-11-24T00:00:00.000Z',
      files: {},
      ledger: {
        increments: [
          [inc({ model: 'gpt-5', cwd: '/w', raw: { input_tokens: 30, cached_input_tokens: 20, output_tokens: 4, reasoning_output_tokens: 1, total_tokens: 34 } }), ['/a.jsonl']],
          [inc({ key: 'r:resp_1', source: 'record', raw: { input_tokens: null, output_tokens: 4 } }), ['/a.jsonl', '/archived/a.jsonl']],
          [inc({ key: 'e:t1:\u0001:7', source: 'estimate' }), ['/a.jsonl']],
          [inc({ key: 'x:t1t1', threadId: 't1', raw: { input_tokens: 1, extra_field: 5 } as never }), ['/b.jsonl']],
          [inc({ key: 's:t2:0:1', threadId: 't2', model: 'gpt-5', cwd: '/w' }), ['/b.jsonl']],
        ],
        threads: [],
        rateLimits: undefined,
      },
    };
    const stored = JSON.parse(JSON.stringify(encodeScanState(state)));
    expect(plainState(decodeScanState(stored))).toEqual(plainState(state));
    // Read into a ledger, the increments are the same objects again, in order, with the same reporters.
    const ledger = UsageLedger.fromJSON(decodeScanState(stored).ledger);
    expect([...ledger.allIncrements()]).toStrictEqual([...snapshotEntries(state.ledger.increments)].map(([i]) => i));
    expect([...ledger.filesReporting('r:resp_1')!]).toEqual(['/a.jsonl', '/archived/a.jsonl']);
    // Encoded again from its decoded form, it is the same.
    expect(JSON.parse(JSON.stringify(encodeScanState(decodeScanState(stored))))).toEqual(stored);
    // Written in pieces (here of one item each, and of the usual size), it is the same.
    const withFiles = { ...state, files: { '/a.jsonl': { x: 1 }, '/b.jsonl': { y: [2] }, '/c "q".jsonl': {} } } as unknown as PersistedScanState;
    expect(storedStateOfLines(encodeScanStatePieces(withFiles, 1))).toEqual(JSON.parse(JSON.stringify(encodeScanState(withFiles))));
    expect([...encodeScanStatePieces(withFiles, 1)].length).toBeGreaterThan(10);
    expect(storedStateOfLines(encodeScanStatePieces(withFiles))).toEqual(JSON.parse(JSON.stringify(encodeScanState(withFiles))));
    const none = { ...state, ledger: { ...state.ledger, increments: [] } };
    expect(storedStateOfLines(encodeScanStatePieces(none))).toEqual(JSON.parse(JSON.stringify(encodeScanState(none))));
    expect(plainState(decodeScanState(encodeScanState(none)))).toEqual(plainState(none));
    // Strings repeat once in the table: the thread ids, the model, the folder and the paths.
    expect([...stored.strings].sort()).toEqual(['/a.jsonl', '/archived/a.jsonl', '/b.jsonl', '/w', 'gpt-5', 't1', 't2']);
  });

  it('gives back figures that are not whole counts below 2^32 as they were (kept beside the binary words), in the state and in its journal', () => {
    const odd = { uncachedInput: 0.5, cachedInput: 2 ** 32, cacheWriteInput: 2 ** 53, output: 4294967295, reasoningOutput: 1e-7 };
    const raw = { input_tokens: -3, cached_input_tokens: 1.5, output_tokens: 2 ** 40, reasoning_output_tokens: null, total_tokens: 1.2345678901234567e19 };
    const increments: PersistedScanState['ledger']['increments'] = [
      [inc({ buckets: odd, raw }), ['/a.jsonl']],
      [inc({ key: 's:t1:0:2' }), ['/a.jsonl']],
      [inc({ key: 's:t1:0:3', buckets: { ...buckets, output: 2 ** 32 + 1 } }), ['/a.jsonl']],
    ];
    const state: PersistedScanState = { version: SCAN_STATE_VERSION, savedAt: 'now', files: {}, ledger: { increments, threads: [], rateLimits: undefined } };
    for (const pieceChars of [1, STATE_PIECE_CHARS]) {
      const stored = storedStateOfLines(encodeScanStatePieces(state, pieceChars));
      expect(plainState(decodeScanState(stored))).toEqual(plainState(state));
      // Nine of the 33 figures do not fit a word.
      expect(stored.increments.otherNumbers).toHaveLength(9);
    }
    const ledger = new UsageLedger();
    ledger.recordChanges();
    for (const [increment] of increments) ledger.add('/a.jsonl', increment);
    const { changes } = decodeJournalEntry(JSON.parse(encodeJournalEntry('base', { ledger: [...ledger.recordedChanges!], files: {} })));
    expect(changes.ledger.map((c) => (c.kind === 'add' ? c.increment : undefined))).toEqual([...increments].map(([i]) => i));
  });

  it('is written in lines below V8\'s large-object size, whatever part of the state they hold', () => {
    const path = (i: number): string => `/home/dev/.codex/sessions/2026/11/20/rollout-2026-11-20T10-00-00-${String(i).padStart(36, '0')}.jsonl`;
    const increments: PersistedScanState['ledger']['increments'] = Array.from({ length: 6000 }, (_, i) => [
      inc({ key: `s:t${i % 300}:0:${i}`, threadId: `t${i % 300}`, model: 'gpt-5.1-codex', cwd: `/home/dev/project-${i % 7}` }), [path(i % 300)],
    ]);
    const files = Object.fromEntries(Array.from({ length: 300 }, (_, i) => [path(i), { position: { offset: 1000, lineCount: 10 }, samples: [{ at: 0, bytes: 'x'.repeat(1500) }] }]));
    const threads = Array.from({ length: 300 }, (_, i) => ({ threadId: `t${i}`, file: path(i), startedAt: '2026-11-20T10:00:00.000Z', cwd: '/home/dev/project' }));
    const state = { version: SCAN_STATE_VERSION, savedAt: 'now', files, ledger: { increments, threads, rateLimits: undefined } } as unknown as PersistedScanState;
    const pieces = [...encodeScanStatePieces(state)];
    expect(storedStateOfLines(pieces)).toEqual(JSON.parse(JSON.stringify(encodeScanState(state))));
    expect(pieces.length).toBeGreaterThan(20);
    // Each piece one line: the reader never holds more than one (StoredStateReader).
    expect(pieces.every((p) => p.indexOf('\n') === p.length - 1)).toBe(true);
    // A line per element: each column in more parts than the reader joins at once (LIST_PARTS_PER_CONCAT).
    expect(storedStateOfLines(encodeScanStatePieces(state, 1))).toEqual(JSON.parse(JSON.stringify(encodeScanState(state))));
    // The limit V8 allocates a string in its large-object space above (128 KiB), with room to spare.
    expect(Math.max(...pieces.map((p) => p.length))).toBeLessThan(STATE_PIECE_CHARS + 2000);
  });

  it('is several times smaller than the increments stored whole', () => {
    const increments: PersistedScanState['ledger']['increments'] = Array.from({ length: 500 }, (_, i) => [
      inc({ key: `s:019a2b3c-4d5e-7f60-8123-456789abcdef:0:${i}`, threadId: '019a2b3c-4d5e-7f60-8123-456789abcdef', model: 'gpt-5.1-codex', cwd: '/home/dev/project', raw: { input_tokens: 30, cached_input_tokens: 20, output_tokens: 4, reasoning_output_tokens: 1, total_tokens: 34 } }),
      ['/home/dev/.codex/sessions/2026/11/20/rollout-2026-11-20T10-00-00-019a2b3c-4d5e-7f60-8123-456789abcdef.jsonl'],
    ]);
    const state: PersistedScanState = { version: SCAN_STATE_VERSION, savedAt: 'now', files: {}, ledger: { increments, threads: [], rateLimits: undefined } };
    expect(JSON.stringify(encodeScanState(state)).length * 3).toBeLessThan(JSON.stringify(state).length);
  });
});

describe('keys stored without their thread id', () => {
  it('are whole again whatever the thread id holds, `$&`, `$$` and the like included (String.replace\'s patterns), in the state and in its journal', () => {
    const threads = ['unknown:/home/dev/a$&b/x.jsonl', 'unknown:/w/$$/y.jsonl', "unknown:/w/$'/z.jsonl", 'unknown:/w/$`/q.jsonl'];
    const increments: [UsageIncrement, string[]][] = threads.map((threadId, i) => [inc({ key: `s:${threadId}:0:${i}`, threadId }), ['/a.jsonl']]);
    const state: PersistedScanState = { version: SCAN_STATE_VERSION, savedAt: 'now', files: {}, ledger: { increments, threads: [], rateLimits: undefined } };
    const stored = JSON.parse(JSON.stringify(encodeScanState(state)));
    expect(stored.increments.keys.every((k: unknown) => typeof k === 'string' && k.includes('\u0001'))).toBe(true);
    const ledger = UsageLedger.fromJSON(decodeScanState(stored).ledger);
    expect([...ledger.allIncrements()].map((i) => i.key)).toEqual(increments.map(([i]) => i.key));
    const journal = decodeJournalEntry(JSON.parse(encodeJournalEntry('base', { ledger: increments.map(([increment]) => ({ kind: 'add', file: '/a.jsonl', increment })), files: {} })));
    expect(journal.changes.ledger.map((c) => (c.kind === 'add' ? c.increment.key : c.kind))).toEqual(increments.map(([i]) => i.key));
    // An add that names no increment of its entry is refused.
    const entry = JSON.parse(encodeJournalEntry('base', { ledger: [{ kind: 'add', file: '/a.jsonl', increment: increments[0]![0] }], files: {} }));
    entry.changes[0][1] = 1;
    expect(() => decodeJournalEntry(entry)).toThrow(/change 0 adds no increment of the entry/);
  });
});

describe('a damaged stored state', () => {
  it('is refused when an increment points at no file (it would be counted for no file, and never taken back)', () => {
    const state: PersistedScanState = { version: SCAN_STATE_VERSION, savedAt: 'now', files: {}, ledger: { increments: [[inc({}), ['/a.jsonl']]], threads: [], rateLimits: undefined } };
    const stored = JSON.parse(JSON.stringify(encodeScanState(state)));
    stored.increments.files[0] = -1;
    expect(() => decodeScanState(stored)).toThrow(/increment 0 has no file/);
    stored.increments.files[0] = [];
    expect(() => decodeScanState(stored)).toThrow(/increment 0 has no file/);
    stored.increments.files[0] = [0, 99];
    expect(() => decodeScanState(stored)).toThrow(/increment 0 has no file/);
  });

  it('is refused when its columns do not line up, or hold what the encoder never writes', () => {
    const state: PersistedScanState = { version: SCAN_STATE_VERSION, savedAt: 'now', files: {}, ledger: { increments: [[inc({ raw: { input_tokens: 1, extra_field: 5 } as never }), ['/a.jsonl']]], threads: [], rateLimits: undefined } };
    const good = JSON.stringify(encodeScanState(state));
    const damaged = (change: (s: { increments: Record<string, unknown> & Record<'keys' | 'timestamps', unknown[]> }) => void): () => unknown => {
      const stored = JSON.parse(good);
      change(stored);
      return () => decodeScanState(stored);
    };
    expect(damaged(() => undefined)).not.toThrow();
    const numbers = (s: { increments: Record<string, unknown> }): string => s.increments.numbers as string;
    const word = (index: number, value: number) => (s: { increments: Record<string, unknown> }): void => {
      s.increments.numbers = withWord(numbers(s), index, value);
    };
    // Words per increment: thread, model + 1, cwd + 1, source | shape << 8, five buckets, six raw figures.
    const shapeWord = wordsOf(numbers(JSON.parse(good)))[3]!;
    expect(damaged((s) => { s.increments.numbers = numbersOf(wordsOf(numbers(s)).slice(0, -1)); })).toThrow(/numbers are not one per increment/);
    expect(damaged((s) => { s.increments.numbers = `${numbers(s)}AAAA`; })).toThrow(/numbers are not one per increment/);
    expect(damaged((s) => { s.increments.numbers = numbers(s).replace(/^..../, '!!!!'); })).toThrow(/numbers are not one per increment/);
    expect(damaged((s) => { s.increments.numbers = wordsOf(numbers(s)); })).toThrow(/numbers are not one per increment/);
    expect(damaged((s) => s.increments.timestamps!.push('2026-11-20T10:00:00Z'))).toThrow(/timestamps are not one per increment/);
    expect(damaged(word(1, 99))).toThrow(/increment 0 has no model or folder/);
    expect(damaged(word(2, 99))).toThrow(/increment 0 has no model or folder/);
    expect(damaged(word(3, (shapeWord & ~0xff) | 3))).toThrow(/increment 0 has no thread or source/);
    expect(damaged(word(0, 99))).toThrow(/increment 0 has no thread or source/);
    expect(damaged((s) => { s.increments.otherNumbers = [[0, 2, 0.5]]; })).not.toThrow(); // a count need not be whole
    expect(damaged((s) => { s.increments.otherNumbers = [[0, 2, -2]]; })).toThrow(/other figures/);
    expect(damaged((s) => { s.increments.otherNumbers = [[0, 7, -2]]; })).not.toThrow(); // a raw figure may be anything finite
    expect(damaged((s) => { s.increments.otherNumbers = [[0, 7, null]]; })).toThrow(/other figures/);
    expect(damaged((s) => { s.increments.otherNumbers = [[1, 0, 5]]; })).toThrow(/other figures/);
    expect(damaged((s) => { s.increments.otherNumbers = [[0, 11, 5]]; })).toThrow(/other figures/);
    expect(damaged((s) => { delete s.increments.otherNumbers; })).toThrow(/no list of other figures/);
    expect(damaged((s) => { s.increments.keys![0] = 7; })).toThrow(/increment 0 has no key/);
    expect(damaged(word(3, (shapeWord & 0xff) | (((1 << 15) | (1 << 6)) << 8)))).toThrow(/raw figures of no known shape/); // a null field that is not there
    expect(damaged(word(3, (shapeWord & 0xff) | (1 << 24)))).toThrow(/raw figures of no known shape/);
    expect(damaged((s) => { s.increments.unusualRaw = [[1, { x: 1 }]]; })).toThrow(/other raw figures/);
    expect(damaged(word(3, shapeWord & 0xff))).toThrow(/other raw figures/);
  });
});
