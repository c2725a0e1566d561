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

  // A saved state's lines; the first line of a section replaced (replaced), or a line added before the last (beforeTheEnd).
  const lines = (saved: string): string[] => saved.split('\n').slice(0, -1);
  const joined = (ls: string[]): string => `${ls.join('\n')}\n`;
  const sectionLine = (ls: string[], section: string): number => ls.findIndex((l) => l.startsWith(`["${section}",`));
  const replaced = (section: string, line: string) => (saved: string): string => {
    const ls = lines(saved);
    ls[sectionLine(ls, section)] = line;
    return joined(ls);
  };
  const beforeTheEnd = (line: string) => (saved: string): string => {
    const ls = lines(saved);
    ls.splice(ls.length - 1, 0, line);
    return joined(ls);
  };
  const shape = (what: string): RegExp => new RegExp(`does not have the expected shape \\(${what}\\); discarding it and rebuilding from the logs`);
  const cases: [string, (saved: string) => string, RegExp][] = [
    ['corrupt', () => 'this is {not json', /is corrupt \(not valid JSON\); discarding it and rebuilding from the logs/],
    ['half-written (cut within a line)', (saved) => saved.slice(0, Math.floor(saved.length / 2)), /is corrupt \(line \d+ is not valid JSON\)/],
    ['cut short at the end of a line', (saved) => joined(lines(saved).slice(0, -2)), /is corrupt \(it ends at line 8, before its last line\)/],
    ['empty', () => '', /is corrupt \(it is empty\)/],
    ['of a newer version', (saved) => saved.replace(`"version":${SCAN_STATE_VERSION}`, `"version":${SCAN_STATE_VERSION + 1}`), new RegExp(`has version ${SCAN_STATE_VERSION + 1}, not ${SCAN_STATE_VERSION}; discarding it`)],
    ['of the first version (increments stored whole)', (saved) => saved.replace(`"version":${SCAN_STATE_VERSION}`, '"version":1'), new RegExp(`has version 1, not ${SCAN_STATE_VERSION}; discarding it`)],
    ['of version 3 (increments as tuples)', (saved) => saved.replace(`"version":${SCAN_STATE_VERSION}`, '"version":3'), new RegExp(`has version 3, not ${SCAN_STATE_VERSION}; discarding it`)],
    ['of version 4 (the increments\' numbers as JSON numbers)', (saved) => saved.replace(`"version":${SCAN_STATE_VERSION}`, '"version":4'), new RegExp(`has version 4, not ${SCAN_STATE_VERSION}; discarding it`)],
    ['without a version', (saved) => saved.replace(`"version":${SCAN_STATE_VERSION},`, ''), new RegExp(`has version undefined, not ${SCAN_STATE_VERSION}`)],
    ['null', () => 'null', /has version undefined/],
    ['of version 5 (one JSON text) and the wrong shape', () => JSON.stringify({ version: 5, savedAt: 'now', files: [], strings: [], increments: [], threads: [] }), shape('files')],
    ['of version 5 with a line after its text', () => `${JSON.stringify({ version: 5, savedAt: 'now' })}\n["strings",[]]\n`, shape('line 2 follows the last line')],
    ['whose strings are not all strings', (saved) => saved.replace(/\["strings",\["(?:[^"\\]|\\.)*"/, '["strings",[7'), shape('strings\\.0')],
    ['holding a line that is not a section\'s part', beforeTheEnd('{"strings":[]}'), shape('line 10 is not a section\'s part')],
    ['holding a section of no known name', beforeTheEnd('["increments",[]]'), shape('line 10: no section is named "increments"')],
    ['holding file records that are not an object', replaced('files', '["files",[]]'), shape('line 2: the file records are not an object')],
    ['holding a file\'s record twice', (saved) => beforeTheEnd(lines(saved)[sectionLine(lines(saved), 'files')]!)(saved), shape('line 10: the file .* is given twice')],
    ['holding its rate limits twice', beforeTheEnd('["rateLimits",null]'), shape('line 10: the rate limits are given twice')],
    ['whose threads are not a list', replaced('threads', '["threads",{}]'), shape('line 7: the threads are not a list')],
    ['holding a line after its last', (saved) => `${saved}["strings",[]]\n`, shape('line 11 follows the last line')],
    ['whose last line has no counts', replaced('end', '["end",{"files":2}]'), shape('line 10: the last line has no counts')],
    ['whose last line counts other threads than it holds', (saved) => saved.replace('"threads":2,', '"threads":3,'), shape('the last line counts 3 threads, the lines hold 2')],
    ['without the time it was saved', (saved) => saved.replace(/"savedAt":"[^"]*"/, '"savedAt":0'), shape('savedAt')],
    ['holding an increment that points at no string', (saved) => withStoredNumbers(saved, (numbers) => withWord(numbers, 0, 99)), shape('increment 0 has no thread or source')],
    ['holding an increment without a timestamp', (saved) => saved.replace(/(\["timestamps",\[)"[^"]*"/, '$15'), shape('increment 0 has no timestamp or figures')],
    ['holding an increment with figures that are not counts', beforeTheEnd('["otherNumbers",[[0,0,-1]]]'), shape('the other figures are not of the increments\' own')],
    ['holding an increment with raw figures of no known shape', (saved) => withStoredNumbers(saved, (numbers) => withWord(numbers, 3, (wordsOf(numbers)[3]! & 0xff) | (1 << 8))), shape('increment 0 has raw figures of no known shape')],
    ['holding a file record without its sample digest', (saved) => saved.replace(/"sampleDigest":"[^"]*",/, ''), shape('files\\..*rollout-2026-11-20T10-00-00-t1\\.jsonl')],
    ['holding a column of increments cut short', (saved) => withStoredNumbers(saved, (numbers) => numbers.slice(80)), shape('the increments\' numbers are not one per increment')],
    ['holding numbers that are not whole increments', (saved) => withStoredNumbers(saved, (numbers) => numbers.slice(4)), shape('line 3: the increments\' numbers are not whole increments')],
    ['holding the numbers of version 4', replaced('numbers', '["numbers",[0,-1,-1,1,1,1,1,1,1,0,0,0,0,0,0,0]]'), shape('line 3: the increments\' numbers are not whole increments')],
    ['holding increments whose keys are not a list', replaced('keys', '["keys",{"x":[]}]'), shape('line 4: the keys are not a list')],
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
