import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemoryLogger } from '../../src/core/logger.js';
import { SCAN_STATE_VERSION } from '../../src/core/scanState.js';
import { ScanStateStore } from '../../src/core/stateStore.js';
import { file, legacyHeader, legacyMessage, resetClock, sessionMeta, tokenCount, turnContext } from './helpers/rolloutBuilder.js';
import { figures, TempHome } from './helpers/tempHome.js';
import { plainState } from './helpers/plainState.js';
import { withStoredNumbers, withWord, wordsOf } from './helpers/storedNumbers.js';

let home: TempHome;
beforeEach(async () => {
  home = await TempHome.create();
  resetClock();
  await home.write('t1', file(sessionMeta('t1'), turnContext('m'), tokenCount([1000, 100, 10, 1], [1000, 100, 10, 1]), tokenCount([3000, 600, 30, 2], [2000, 500, 20, 1])));
  await home.write('old', file(legacyHeader('old', 'x y'), legacyMessage('user', 'a b c'), legacyMessage('assistant', 'd e')));
});
afterEach(async () => home.dispose());

async function scannedState() {
  const scanner = home.scanner();
  await scanner.scanAll();
  return { scanner, state: scanner.toState() };
}

describe('ScanStateStore', () => {
  it('saves and loads the state unchanged, creating its folder', async () => {
    const { state } = await scannedState();
    const store = new ScanStateStore(home.path('deep/er/state.json'), new MemoryLogger());
    await store.save(state);
    expect(plainState(await store.load())).toEqual(plainState(state));
  });

  it('returns nothing, silently, when there is no state file yet', async () => {
    const logger = new MemoryLogger();
    expect(await new ScanStateStore(home.path('none.json'), logger).load()).toBeUndefined();
    expect(logger.messages).toEqual([]);
  });

  const cases: [string, (saved: string) => string, RegExp][] = [
    ['corrupt', () => 'this is {not json', /is corrupt \(not valid JSON\); discarding it and rebuilding from the logs/],
    ['half-written', (saved) => saved.slice(0, Math.floor(saved.length / 2)), /is corrupt \(not valid JSON\)/],
    ['empty', () => '', /is corrupt/],
    ['of a newer version', (saved) => saved.replace(`"version":${SCAN_STATE_VERSION}`, `"version":${SCAN_STATE_VERSION + 1}`), new RegExp(`has version ${SCAN_STATE_VERSION + 1}, not ${SCAN_STATE_VERSION}; discarding it`)],
    ['of the first version (increments stored whole)', (saved) => saved.replace(`"version":${SCAN_STATE_VERSION}`, '"version":1'), new RegExp(`has version 1, not ${SCAN_STATE_VERSION}; discarding it`)],
    ['of version 3 (increments as tuples)', (saved) => saved.replace(`"version":${SCAN_STATE_VERSION}`, '"version":3'), new RegExp(`has version 3, not ${SCAN_STATE_VERSION}; discarding it`)],
    ['of the version before (the increments\' numbers as JSON numbers)', (saved) => saved.replace(`"version":${SCAN_STATE_VERSION}`, '"version":4'), new RegExp(`has version 4, not ${SCAN_STATE_VERSION}; discarding it`)],
    ['without a version', (saved) => saved.replace(`"version":${SCAN_STATE_VERSION},`, ''), new RegExp(`has version undefined, not ${SCAN_STATE_VERSION}`)],
    ['null', () => 'null', /has version undefined/],
    ['of the wrong shape', () => JSON.stringify({ version: SCAN_STATE_VERSION, savedAt: 'now', files: [], strings: [], increments: [], threads: [] }), /does not have the expected shape \(files\)/],
    ['whose strings are not all strings', (saved) => saved.replace(/"strings":\[/, '"strings":[7,'), /does not have the expected shape \(strings\.0\)/],
    ['without its increments', (saved) => saved.replace(/"increments":\{/, '"increments":[{').replace(/\},"threads":/, '}],"threads":'), /does not have the expected shape \(increments\)/],
    ['whose threads are not a list', (saved) => saved.replace(/"threads":\[/, '"threads":{"x":[').replace(/\],"rateLimits":/, ']},"rateLimits":'), /does not have the expected shape \(threads\)/],
    ['without the time it was saved', (saved) => saved.replace(/"savedAt":"[^"]*"/, '"savedAt":0'), /does not have the expected shape \(savedAt\)/],
    ['holding an increment that points at no string', (saved) => saved.replace(/"strings":\[[^\]]*\]/, '"strings":[]'), /does not have the expected shape \(increment 0 has no thread or source\)/],
    ['holding an increment without a timestamp', (saved) => saved.replace(/("timestamps":\[)"[^"]*"/, '$15'), /does not have the expected shape \(increment 0 has no timestamp or figures\)/],
    ['holding an increment with figures that are not counts', (saved) => saved.replace('"otherNumbers":[]', '"otherNumbers":[[0,0,-1]]'), /does not have the expected shape \(the other figures are not of the increments' own\)/],
    ['holding an increment with raw figures of no known shape', (saved) => withStoredNumbers(saved, (numbers) => withWord(numbers, 3, (wordsOf(numbers)[3]! & 0xff) | (1 << 8))), /does not have the expected shape \(increment 0 has raw figures of no known shape\)/],
    ['holding a file record without its sample digest', (saved) => saved.replace(/"sampleDigest":"[^"]*",/, ''), /does not have the expected shape \(files\./],
    ['holding a column of increments cut short', (saved) => withStoredNumbers(saved, (numbers) => numbers.slice(80)), /does not have the expected shape \(the increments' numbers are not one per increment\)/],
    ['holding the numbers of the version before', (saved) => saved.replace(/"numbers":"[^"]*"/, '"numbers":[0,-1,-1,1,1,1,1,1,1,0,0,0,0,0,0,0]'), /does not have the expected shape \(the increments' numbers are not one per increment\)/],
    ['holding increments whose keys are not a list', (saved) => saved.replace(/"keys":\[/, '"keys":{"x":[').replace(/\],"timestamps":\[/, ']},"timestamps":['), /does not have the expected shape \(the increments have no keys\)/],
  ];
  for (const [name, damage, message] of cases) {
    it(`discards a state file that is ${name}, with a warning, and the scanner rebuilds the same figures`, async () => {
      const { scanner, state } = await scannedState();
      const path = home.path('state/state.json');
      const logger = new MemoryLogger();
      const store = new ScanStateStore(path, logger);
      await store.save(state);
      await writeFile(path, damage(await readFile(path, 'utf8')));
      const loaded = await store.load();
      expect(loaded).toBeUndefined();
      const warnings = logger.messages.filter((m) => m.level === 'warn');
      expect(warnings).toHaveLength(1);
      expect(warnings[0]!.message).toContain(path);
      expect(warnings[0]!.message).toMatch(message);
      const rebuilt = home.scanner(loaded);
      await rebuilt.scanAll();
      expect(figures(rebuilt)).toEqual(figures(scanner));
      expect(figures(rebuilt).old!.estimated).toBe(true);
    });
  }

  it('warns and rebuilds when the state path cannot be read (a folder in its place)', async () => {
    const path = home.path('state/state.json');
    await mkdir(path, { recursive: true });
    const logger = new MemoryLogger();
    expect(await new ScanStateStore(path, logger).load()).toBeUndefined();
    expect(logger.messages).toEqual([{ level: 'warn', message: expect.stringMatching(/^Cannot read the state file .*state\.json \(EISDIR.*\); rebuilding from the logs\.$/) }]);
  });

  it('replaces the file atomically and leaves no temporary files, also when saving fails', async () => {
    const { state } = await scannedState();
    const store = new ScanStateStore(home.path('state/state.json'), new MemoryLogger());
    await store.save(state);
    await store.save({ ...state, savedAt: 'later' });
    expect(await readdir(home.path('state'))).toEqual(['state.json']);
    expect((await store.load())!.savedAt).toBe('later');
    await mkdir(home.path('blocked/state.json'), { recursive: true }); // rename onto a folder fails
    const failing = new ScanStateStore(home.path('blocked/state.json'), new MemoryLogger());
    await expect(failing.save(state)).rejects.toThrow();
    expect(await readdir(home.path('blocked'))).toEqual(['state.json']);
  });

  it('a scanner handed a state of another version starts from scratch', async () => {
    const { scanner, state } = await scannedState();
    const foreign = { ...state, version: 99 } as unknown as typeof state;
    const fresh = home.scanner(foreign);
    expect(fresh.ledger.incrementCount).toBe(0);
    expect(fresh.trackedFiles).toBe(0);
    await fresh.scanAll();
    expect(figures(fresh)).toEqual(figures(scanner));
  });
});
