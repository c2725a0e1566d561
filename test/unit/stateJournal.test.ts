import { appendFile, mkdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type LedgerChange, MAX_RECORDED_CHANGES, UsageLedger } from '../../src/core/ledger.js';
import { MemoryLogger } from '../../src/core/logger.js';
import { UsageScanner } from '../../src/core/scanner.js';
import { storedStateOfLines, WHOLE_TEXT_STATE_VERSION } from '../../src/core/stateCodec.js';
import { JOURNAL_MIN_LIMIT_BYTES, ScanStateStore, SHORT_RUN_JOURNAL_LIMIT, WATCHER_JOURNAL_LIMIT } from '../../src/core/stateStore.js';
import { file, legacyHeader, legacyMessage, resetClock, sessionMeta, tokenCount, turnContext, type Usage4 } from './helpers/rolloutBuilder.js';
import { figures, sumUsage, TempHome } from './helpers/tempHome.js';

let home: TempHome;
let statePath: string;
beforeEach(async () => {
  home = await TempHome.create();
  statePath = home.path('state/scan-state.json');
  resetClock();
  await home.write('t1', file(sessionMeta('t1'), turnContext('gpt-5'), tokenCount([1000, 100, 10, 1], [1000, 100, 10, 1])));
  await home.write('t3', file(sessionMeta('t3'), turnContext('gpt-5-mini'), tokenCount([500, 0, 5, 0], [500, 0, 5, 0])));
  await home.write('old', file(legacyHeader('old', 'x y'), legacyMessage('user', 'a b c')));
});
afterEach(async () => home.dispose());

/** A scanner's state as saved, without the moment it was taken. */
function stateOf(scanner: UsageScanner): unknown {
  const { savedAt: _savedAt, ...rest } = JSON.parse(JSON.stringify(scanner.toState())) as Record<string, unknown>;
  return rest;
}

/** Loads the state at statePath into a new scanner, with its store. */
async function reload(logger = new MemoryLogger()): Promise<{ scanner: UsageScanner; store: ScanStateStore; logger: MemoryLogger }> {
  const store = new ScanStateStore(statePath, logger);
  return { scanner: home.scanner(await store.load(), logger), store, logger };
}

/** Reads what is new and saves it as the CLI and the extension's worker do. */
async function scanAndSave(scanner: UsageScanner, store: ScanStateStore): Promise<'journal' | 'whole'> {
  await scanner.scanAll();
  return store.saveChanges(scanner.takeChanges(), () => scanner.toState());
}

const next = (u: Usage4, by: Usage4): string => tokenCount(sumUsage(u, by), by);

/** The figures of a scanner that reads every file from scratch, with no state: what any loaded state must give. */
async function figuresFromScratch(): Promise<ReturnType<typeof figures>> {
  const fresh = home.scanner();
  await fresh.scanAll();
  return figures(fresh);
}

/**
 * The home scanned and saved whole, then changed twice, each change saved as a journal entry by the
 * same scanner; with that scanner and its state after the first entry.
 */
async function savedTwice(): Promise<{ live: Awaited<ReturnType<typeof reload>>; afterOne: unknown }> {
  const first = await reload();
  await scanAndSave(first.scanner, first.store);
  const live = await reload();
  await changeEverything(1);
  await scanAndSave(live.scanner, live.store);
  const afterOne = stateOf(live.scanner);
  await changeEverything(2);
  await scanAndSave(live.scanner, live.store);
  return { live, afterOne };
}

/** Changes of every kind: lines appended, a new file, a file deleted, a file replaced by other content. */
async function changeEverything(step: number): Promise<void> {
  await appendFile(home.path('sessions/2026/11/20/rollout-2026-11-20T10-00-00-t1.jsonl'), `${next([1000 * step, 100, 10, 1], [7, 1, 1, 0])}\n`);
  await home.write(`new${step}`, file(sessionMeta(`new${step}`), turnContext('gpt-5'), tokenCount([40, 0, 4, 0], [40, 0, 4, 0])));
  if (step === 1) await rm(home.path('sessions/2026/11/20/rollout-2026-11-20T10-00-00-t3.jsonl'));
  if (step === 2) await home.write('old', file(legacyHeader('old', 'other words entirely'), legacyMessage('user', 'and more of them')));
}

describe('the scan state journal', () => {
  it('saves each change as an entry, and a state loaded from the journal is the saving scanner\'s, order included', async () => {
    const first = await reload();
    expect(await scanAndSave(first.scanner, first.store)).toBe('whole');
    let live = await reload();
    for (let step = 1; step <= 3; step += 1) {
      await changeEverything(step);
      expect(await scanAndSave(live.scanner, live.store)).toBe('journal');
      const loaded = await reload();
      expect(stateOf(loaded.scanner)).toEqual(stateOf(live.scanner));
      // The same as reading every file from scratch.
      expect(figures(loaded.scanner)).toEqual(await figuresFromScratch());
      live = loaded;
    }
    expect((await readFile(live.store.journalPath, 'utf8')).split('\n').filter(Boolean)).toHaveLength(3);
    // The state file itself was written once.
    expect(figures(live.scanner).t3).toBeUndefined();
  });

  it('a scanner of a loaded state, whose ledger builds no key maps, saves what one whose ledger built them saves', async () => {
    const first = await reload();
    expect(await scanAndSave(first.scanner, first.store)).toBe('whole');
    for (let step = 1; step <= 3; step += 1) {
      await changeEverything(step);
      const store = new ScanStateStore(statePath, new MemoryLogger());
      const state = await store.load();
      const indexed = home.scanner(structuredClone(state));
      indexed.ledger.filesReporting('none'); // builds its key maps
      await indexed.scanAll();
      const unindexed = new UsageScanner({ roots: [home.root], logger: new MemoryLogger(), countTokens: (t) => t.split(/\s+/).filter(Boolean).length }, state);
      const loadedLayout = unindexed.ledger.incrementsEnd.layout;
      expect(await scanAndSave(unindexed, store)).toBe('journal');
      expect(stateOf(unindexed)).toEqual(stateOf(indexed));
      // Adds keep positions valid; a file deleted (step 1) or replaced (step 2) took slots out.
      expect(unindexed.ledger.incrementsEnd.layout === loadedLayout, `step ${step}`).toBe(step === 3);
      const loaded = await reload();
      expect(stateOf(loaded.scanner)).toEqual(stateOf(indexed));
      expect(figures(loaded.scanner)).toEqual(await figuresFromScratch());
    }
  });

  it('writes a few KB for an appended line where the state is written whole without a journal', async () => {
    for (let i = 0; i < 200; i += 1) await home.write(`bulk${i}`, file(sessionMeta(`bulk${i}`), turnContext('gpt-5'), tokenCount([10 + i, 0, 1, 0], [10 + i, 0, 1, 0])));
    const first = await reload();
    await scanAndSave(first.scanner, first.store);
    const stateBytes = (await stat(statePath)).size;
    const live = await reload();
    await appendFile(home.path('sessions/2026/11/20/rollout-2026-11-20T10-00-00-t1.jsonl'), `${next([1000, 100, 10, 1], [7, 1, 1, 0])}\n`);
    expect(await scanAndSave(live.scanner, live.store)).toBe('journal');
    expect((await stat(statePath)).size).toBe(stateBytes);
    expect((await stat(live.store.journalPath)).size).toBeLessThan(stateBytes / 20);
  });

  it('ignores an entry cut short at the end (a save interrupted), then writes the state whole', async () => {
    const { live, afterOne } = await savedTwice();
    const text = await readFile(live.store.journalPath, 'utf8');
    await writeFile(live.store.journalPath, text.slice(0, text.length - 40));
    const loaded = await reload();
    expect(stateOf(loaded.scanner)).toEqual(afterOne);
    expect(loaded.logger.messages.some((m) => m.level === 'info' && /ends in an entry cut short/.test(m.message))).toBe(true);
    // The lost entry's changes are read again from the logs, and nothing is counted twice.
    expect(await scanAndSave(loaded.scanner, loaded.store)).toBe('whole');
    const fresh = home.scanner();
    await fresh.scanAll();
    expect(figures(loaded.scanner)).toEqual(figures(fresh));
    expect((await reload()).scanner.ledger.incrementCount).toBe(fresh.ledger.incrementCount);
  });

  it('stops at an entry that is not valid, with a warning, and skips entries written for another state file', async () => {
    const { live, afterOne } = await savedTwice();
    const [one, two] = (await readFile(live.store.journalPath, 'utf8')).split('\n');
    const foreign = two!.replace(/^\{"base":"[0-9a-f]+"/, '{"base":"0000000000000000"');
    await writeFile(live.store.journalPath, `${foreign}\n${one}\n{"base":5}\n${two}\n`);
    const loaded = await reload();
    expect(stateOf(loaded.scanner)).toEqual(afterOne);
    expect(loaded.logger.messages.some((m) => m.level === 'warn' && /Line 3 of the state journal .* is not a valid entry \(no base id\); it and what follows are ignored/.test(m.message))).toBe(true);
    expect(await scanAndSave(loaded.scanner, loaded.store)).toBe('whole');
    await expect(stat(loaded.store.journalPath)).rejects.toThrow(/ENOENT/);
  });

  it('writes the state whole when the journal would pass its limit, when another process wrote the files, and after a failed save', async () => {
    const first = await reload();
    await scanAndSave(first.scanner, first.store);
    // The limit: 1 MiB for a small state.
    const live = await reload();
    await writeFile(live.store.journalPath, '');
    await appendFile(live.store.journalPath, `${' '.repeat(JOURNAL_MIN_LIMIT_BYTES)}\n`);
    const crowded = await reload();
    await changeEverything(1);
    expect(crowded.logger.messages.some((m) => m.level === 'warn')).toBe(true); // a line of spaces is not an entry
    expect(await scanAndSave(crowded.scanner, crowded.store)).toBe('whole');
    // Another process appended to the journal since this one loaded it.
    const a = await reload();
    const b = await reload();
    await changeEverything(2);
    expect(await scanAndSave(a.scanner, a.store)).toBe('journal');
    expect(await scanAndSave(b.scanner, b.store)).toBe('whole');
    // An append that fails: the journal's path is a link into a folder that is not there.
    const c = await reload();
    await rm(c.store.journalPath, { force: true });
    await symlink(home.path('nowhere/journal'), c.store.journalPath);
    await changeEverything(3);
    await c.scanner.scanAll();
    await expect(c.store.saveChanges(c.scanner.takeChanges(), () => c.scanner.toState())).rejects.toThrow(/ENOENT/);
    await rm(c.store.journalPath);
    await appendFile(home.path('sessions/2026/11/20/rollout-2026-11-20T10-00-00-t1.jsonl'), `${next([9000, 100, 10, 1], [3, 0, 1, 0])}\n`);
    expect(await scanAndSave(c.scanner, c.store)).toBe('whole');
    expect(figures((await reload()).scanner)).toEqual(await figuresFromScratch());
  });

  it('keeps the journal within the limit it is given: the CLI\'s, a 64th of the state (at least 64 KiB), the watcher\'s a quarter (at least 1 MiB)', async () => {
    expect(SHORT_RUN_JOURNAL_LIMIT(9_434_455)).toBeCloseTo(147_413, 0);
    expect(SHORT_RUN_JOURNAL_LIMIT(1_000_000)).toBe(65_536);
    expect(WATCHER_JOURNAL_LIMIT(1_000_000)).toBe(JOURNAL_MIN_LIMIT_BYTES);
    expect(WATCHER_JOURNAL_LIMIT(9_434_455)).toBeCloseTo(2_358_614, 0);
    const first = await reload();
    await scanAndSave(first.scanner, first.store);
    // Room for about two entries: the third change is saved whole, and the journal starts again.
    const logger = new MemoryLogger();
    const store = new ScanStateStore(statePath, logger, () => 2 * 1800);
    const scanner = home.scanner(await store.load(), logger);
    const written: string[] = [];
    for (let n = 1; n <= 5; n += 1) {
      await changeEverything(n);
      written.push(await scanAndSave(scanner, store));
    }
    expect(written.slice(0, 3)).toContain('whole');
    expect(written[0]).toBe('journal');
    expect((await stat(store.journalPath).catch(() => ({ size: 0 }))).size).toBeLessThanOrEqual(2 * 1800);
    expect(figures((await reload()).scanner)).toEqual(await figuresFromScratch());
  });

  it('writes the state whole, every time and without failing, when the journal cannot be removed (a folder in its place)', async () => {
    const first = await reload();
    await scanAndSave(first.scanner, first.store);
    await mkdir(first.store.journalPath);
    const live = await reload();
    for (let step = 1; step <= 2; step += 1) {
      await changeEverything(step);
      expect(await scanAndSave(live.scanner, live.store)).toBe('whole');
    }
    expect(figures((await reload()).scanner)).toEqual(await figuresFromScratch());
  });

  it('loads a state of version 5 (one JSON text, as saved before its lines) with its journal, and writes it whole, in lines, at the next save', async () => {
    const { live } = await savedTwice();
    const saved = await readFile(statePath, 'utf8');
    const { id } = JSON.parse(saved.slice(0, saved.indexOf('\n'))) as { id: string };
    await writeFile(statePath, JSON.stringify({ ...storedStateOfLines(saved.split(/(?<=\n)/)), version: WHOLE_TEXT_STATE_VERSION, id }));
    const loaded = await reload();
    expect(loaded.logger.messages).toEqual([]);
    expect(loaded.scanner.ledger.incrementCount).toBeGreaterThan(0);
    expect(stateOf(loaded.scanner)).toEqual(stateOf(live.scanner));
    await changeEverything(3);
    expect(await scanAndSave(loaded.scanner, loaded.store)).toBe('whole');
    const text = await readFile(statePath, 'utf8');
    expect(text.startsWith('{"version":6,')).toBe(true);
    expect(text.split('\n').length).toBeGreaterThan(5);
    await expect(stat(loaded.store.journalPath)).rejects.toThrow(/ENOENT/);
    const again = await reload();
    expect(stateOf(again.scanner)).toEqual(stateOf(loaded.scanner));
    expect(figures(again.scanner)).toEqual(await figuresFromScratch());
    await changeEverything(4);
    expect(await scanAndSave(again.scanner, again.store)).toBe('journal');
    expect(stateOf((await reload()).scanner)).toEqual(stateOf(again.scanner));
  });

  it('writes the state whole when none was loaded, and from a state file written before journals (no id)', async () => {
    const first = await reload();
    expect(first.scanner.takeChanges()).toBeUndefined();
    await scanAndSave(first.scanner, first.store);
    await writeFile(statePath, (await readFile(statePath, 'utf8')).replace(/"id":"[0-9a-f]+",/, ''));
    const older = await reload();
    await changeEverything(1);
    expect(await scanAndSave(older.scanner, older.store)).toBe('whole');
    expect(await readFile(statePath, 'utf8')).toMatch(/"id":"[0-9a-f]{16}"/);
  });
});

describe('a ledger recording its changes', () => {
  it('gives changes that, made again on the ledger as it was, give the same ledger', () => {
    const inc = (key: string, thread: string, n: number) => ({ key, threadId: thread, timestamp: `2026-11-20T10:00:0${n}.000Z`, buckets: { uncachedInput: n, cachedInput: 0, cacheWriteInput: 0, output: 1, reasoningOutput: 0 }, source: 'snapshot' as const });
    const start = new UsageLedger();
    start.add('a.jsonl', inc('k1', 't', 1));
    start.add('b.jsonl', inc('k2', 'u', 2));
    const snapshot = JSON.parse(JSON.stringify(start.toJSON()));
    const live = UsageLedger.fromJSON(snapshot);
    live.recordChanges();
    live.add('a.jsonl', inc('k3', 't', 3));
    live.add('a.jsonl', inc('k1', 't', 1)); // nothing new: not recorded
    live.add('c.jsonl', inc('k1', 't', 1)); // a second file for a key
    live.removeFile('b.jsonl');
    live.setThread({ threadId: 't', file: 'a.jsonl', agent: { id: 'originator:codex_cli_rs', name: 'Codex CLI', kind: 'top-level' } });
    live.noteRateLimits({ observedAt: '2026-11-20T10:00:00.000Z' } as never);
    const kinds = live.recordedChanges!.map((c: LedgerChange) => c.kind);
    expect(kinds).toEqual(['add', 'add', 'remove', 'thread', 'rateLimits']);
    const replayed = UsageLedger.fromJSON(JSON.parse(JSON.stringify(snapshot)));
    for (const change of live.recordedChanges!) replayed.apply(change);
    expect(JSON.parse(JSON.stringify(replayed.toJSON()))).toEqual(JSON.parse(JSON.stringify(live.toJSON())));
    expect(replayed.recordedChanges).toBeUndefined();
  });

  it('stops recording past MAX_RECORDED_CHANGES (the next save is whole)', () => {
    const ledger = new UsageLedger();
    ledger.recordChanges();
    for (let i = 0; i <= MAX_RECORDED_CHANGES; i += 1) ledger.add('a.jsonl', { key: `k${i}`, threadId: 't', timestamp: '2026-11-20T10:00:00.000Z', buckets: { uncachedInput: 1, cachedInput: 0, cacheWriteInput: 0, output: 0, reasoningOutput: 0 }, source: 'snapshot' });
    expect(ledger.recordedChanges).toBeUndefined();
  });
});
