import { statSync } from 'node:fs';
import { mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { discoverRolloutFiles } from '../../src/core/discovery.js';
import { defaultReaderThreads, type FileReadPool, type PooledRead, readerThreadOptions, ThreadFileReadPool } from '../../src/core/fileReadPool.js';
import { MemoryLogger } from '../../src/core/logger.js';
import { UsageScanner } from '../../src/core/scanner.js';
import { file, legacyHeader, legacyMessage, resetClock, sessionMeta, tokenCount, turnContext, type Usage4 } from './helpers/rolloutBuilder.js';
import { figures, sumUsage, TempHome } from './helpers/tempHome.js';
import { bundleReaderScript } from './helpers/readerScript.js';

let bundleDir: string;
let script: string;
beforeAll(async () => {
  bundleDir = await mkdtemp(join(tmpdir(), 'codex-meter-reader-bundle-'));
  script = await bundleReaderScript(bundleDir);
});
afterAll(async () => rm(bundleDir, { recursive: true, force: true }));

let home: TempHome;
beforeEach(async () => {
  home = await TempHome.create();
  resetClock();
});
afterEach(async () => {
  delete process.env.CODEX_METER_TEST_READER_CRASH;
  await home.dispose();
});

const wordCount = (t: string): number => t.split(/\s+/).filter(Boolean).length;
const a: Usage4 = [1000, 200, 50, 10];
const b: Usage4 = [3000, 2000, 70, 20];

/** Forty threads of two responses, five legacy (estimated) threads, one thread copied into archived_sessions. */
async function writeHome(): Promise<void> {
  for (let i = 0; i < 40; i += 1) {
    const id = `t${i}`;
    const text = file(sessionMeta(id), turnContext(i % 2 ? 'gpt-5' : 'gpt-5-mini'), tokenCount(a, a), tokenCount(sumUsage(a, b), b));
    await home.write(id, text);
    if (i === 7) await home.write(`archived_sessions/rollout-2026-11-20T10-00-00-${id}.jsonl`, text);
  }
  for (let i = 0; i < 5; i += 1) {
    await home.write(`legacy${i}`, file(legacyHeader(`legacy${i}`), legacyMessage('user', 'please count these words'), legacyMessage('assistant', 'three words here')));
  }
}

function scanner(openReadPool?: () => FileReadPool, logger = new MemoryLogger(), poolThresholdBytes = 0): UsageScanner {
  return new UsageScanner({ roots: [home.root], logger, countTokens: wordCount, poolThreshold: 4, poolThresholdBytes, ...(openReadPool ? { openReadPool } : {}) });
}

describe('reading a cold home with reader threads', () => {
  it('gives exactly the figures, counters and state of a read in one thread', async () => {
    await writeHome();
    const single = scanner();
    await single.scanAll();
    let opened = 0;
    let readInThreads = 0;
    const pooled = scanner(() => {
      opened += 1;
      const threads = new ThreadFileReadPool({ script, threads: 2 });
      return {
        readAll: (next, onRead) => threads.readAll(next, (read) => {
          if (read.outcome) readInThreads += 1;
          onRead(read);
        }),
        close: () => threads.close(),
      };
    });
    const summary = await pooled.scanAll();
    expect(opened).toBe(1);
    expect(readInThreads).toBeGreaterThan(0);
    expect(summary.files).toBe(46);
    expect(figures(pooled)).toEqual(figures(single));
    expect(pooled.counters()).toEqual(single.counters());
    expect([...pooled.estimatedThreads].sort()).toEqual([...single.estimatedThreads].sort());
    expect(pooled.ledger.incrementCount).toBe(single.ledger.incrementCount);
    // Every increment as it was read, raw figures and all (the threads hand theirs over packed).
    const byKey = (s: UsageScanner) => [...s.ledger.allIncrements()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    expect(byKey(pooled)).toStrictEqual(byKey(single));
    const files = (s: UsageScanner) => Object.fromEntries(Object.entries(s.toState().files).map(([path, r]) => [path, { ...r, mtimeMs: 0 }]));
    expect(files(pooled)).toEqual(files(single));
    // The archived copy of t7 counts once.
    expect(figures(pooled).t7!.responses).toBe(2);
  });

  it('does not start threads for a few new files, nor on a warm scan', async () => {
    await writeHome();
    let opened = 0;
    const s = scanner(() => {
      opened += 1;
      return new ThreadFileReadPool({ script, threads: 1 });
    });
    await s.scanAll();
    await home.write('one-more', file(sessionMeta('one-more'), tokenCount(a, a)));
    await s.scanAll();
    expect(opened).toBe(1);
    expect(figures(s)['one-more']!.responses).toBe(1);
  });

  it('starts threads only when the new files add up to the byte threshold (512 MiB by default)', async () => {
    await writeHome();
    const found = await discoverRolloutFiles([home.root], new MemoryLogger());
    const bytes = found.files.reduce((sum, f) => sum + statSync(f.path).size, 0);
    let opened = 0;
    const open = (): FileReadPool => {
      opened += 1;
      return new ThreadFileReadPool({ script, threads: 1 });
    };
    await scanner(open, new MemoryLogger(), bytes + 1).scanAll();
    expect(opened).toBe(0);
    await new UsageScanner({ roots: [home.root], logger: new MemoryLogger(), countTokens: wordCount, poolThreshold: 4, openReadPool: open }).scanAll();
    expect(opened).toBe(0);
    await scanner(open, new MemoryLogger(), bytes).scanAll();
    expect(opened).toBe(1);
  });

  it('reads the files of a reader thread that crashed in this thread instead', async () => {
    await writeHome();
    process.env.CODEX_METER_TEST_READER_CRASH = '1';
    const single = scanner();
    await single.scanAll();
    const logger = new MemoryLogger();
    const pooled = scanner(() => new ThreadFileReadPool({ script, threads: 2 }), logger);
    const summary = await pooled.scanAll();
    expect(summary.files).toBe(46);
    expect(figures(pooled)).toEqual(figures(single));
    expect(logger.messages.filter((m) => m.level === 'warn' && /a reader thread stopped: reader thread crashed on purpose; reading its files in this thread instead/.test(m.message)).length).toBeGreaterThanOrEqual(1);
  });

  it('reads here the files of a pool whose threads stopped before the scan began (started early, as the CLI does)', async () => {
    await writeHome();
    process.env.CODEX_METER_TEST_READER_CRASH = '1';
    const single = scanner();
    await single.scanAll();
    const early = new ThreadFileReadPool({ script, threads: 2 });
    await vi.waitFor(() => expect(early.stoppedThreads).toBe(2), { timeout: 20_000, interval: 20 });
    const logger = new MemoryLogger();
    const pooled = scanner(() => early, logger);
    const summary = await pooled.scanAll();
    expect(summary.files).toBe(46);
    expect(figures(pooled)).toEqual(figures(single));
    expect(logger.messages.filter((m) => m.level === 'warn' && /a reader thread stopped: reader thread crashed on purpose; reading its files in this thread instead/.test(m.message))).toHaveLength(1);
  });

  it('falls back to this thread when the pool cannot be opened, with a warning', async () => {
    await writeHome();
    const logger = new MemoryLogger();
    const s = scanner(() => {
      throw new Error('no threads here');
    }, logger);
    await s.scanAll();
    expect(Object.keys(figures(s))).toHaveLength(45);
    expect(logger.messages.some((m) => m.level === 'warn' && m.message.includes('no threads here'))).toBe(true);
  });

  it('reports a file a reader thread cannot read, keeps the rest, and forgets a file that vanished', async () => {
    await writeHome();
    const loop = join(home.root, 'sessions', '2026', '11', '20', 'rollout-2026-11-20T10-00-00-loop.jsonl');
    await symlink(loop, loop); // ELOOP: unreadable whatever the user's rights
    const gone = await home.write('gone', file(sessionMeta('gone'), tokenCount(a, a)));
    const logger = new MemoryLogger();
    // A pool whose "thread" says the file vanished (as a real one would after a delete).
    const fake: FileReadPool = {
      async readAll(next, onRead) {
        for (let path = next(); path !== undefined; path = next()) {
          const read: PooledRead = path === gone
            ? { path, error: { code: 'ENOENT', message: 'gone' } }
            : path === loop ? { path, error: { code: 'ELOOP', message: 'too many symbolic links' } } : { path, threadFailed: true };
          onRead(read);
        }
      },
      async close() {},
    };
    const s = scanner(() => fake, logger);
    const summary = await s.scanAll();
    expect(figures(s).t3!.responses).toBe(2);
    expect(figures(s).gone).toBeUndefined();
    expect(summary.problems.map((p) => p.reason)).toEqual(['ELOOP: too many symbolic links']);
    expect(s.unreadableFiles.get(loop)).toMatch(/ELOOP/);
    expect(logger.messages.some((m) => m.level === 'warn' && m.message.includes(loop))).toBe(true);
  });
});

describe('how many reader threads', () => {
  it('one per core beyond those kept free (two by default: the extension; one: the CLI), at most three, or what CODEX_METER_READER_THREADS says', () => {
    expect([1, 2, 3, 4, 8, 64].map((cores) => defaultReaderThreads({}, cores))).toEqual([0, 0, 1, 2, 3, 3]);
    expect([1, 2, 3, 4, 8].map((cores) => defaultReaderThreads({}, cores, 1))).toEqual([0, 1, 2, 3, 3]);
    expect(defaultReaderThreads({ CODEX_METER_READER_THREADS: '0' }, 8)).toBe(0);
    expect(defaultReaderThreads({ CODEX_METER_READER_THREADS: ' 2 ' }, 2)).toBe(2);
    expect(defaultReaderThreads({ CODEX_METER_READER_THREADS: 'lots' }, 4)).toBe(2);
  });

  it('gives the scanner a pool only with a script and threads, and one asked for by CODEX_METER_READER_THREADS whatever the size of the scan', () => {
    expect(readerThreadOptions(undefined, 1, { CODEX_METER_READER_THREADS: '2' })).toEqual({});
    expect(readerThreadOptions(script, 1, { CODEX_METER_READER_THREADS: '0' })).toEqual({});
    const asked = readerThreadOptions(script, 1, { CODEX_METER_READER_THREADS: '2' });
    expect(asked.openReadPool).toBeTypeOf('function');
    expect(asked.poolThresholdBytes).toBe(0);
    const automatic = readerThreadOptions(script, 0, {});
    expect(automatic.openReadPool).toBeTypeOf('function');
    expect(automatic.poolThresholdBytes).toBeUndefined();
  });
});
