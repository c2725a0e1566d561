import { appendFile, cp, mkdir, readdir, readFile, rename, rm, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { capturingIo } from '../../src/cli/cachedRun.js';
import { type CliIo, runCli } from '../../src/cli/main.js';
import { MAX_KEPT, type OutputInputs } from '../../src/cli/printedOutputCache.js';
import { REPORT_CACHE_FILE } from '../../src/core/reportCache.js';
import {
  assistantMessage, file, legacyHeader, legacyMessage, rateLimitsResetsIn, resetClock, sessionMeta, threadSpawnSource, tokenCount, turnContext, usageRecord, userMessage,
} from './helpers/rolloutBuilder.js';
import { TempHome } from './helpers/tempHome.js';

let home: TempHome;
let state: string;
beforeEach(async () => {
  home = await TempHome.create();
  state = home.path('state');
  resetClock('2026-11-20T22:30:00.000Z');
});
afterEach(async () => home.dispose());

interface Run {
  code: number;
  out: string;
  err: string;
}

/** Runs the CLI; with a build (null: none), it reads and writes the report cache as bin.ts does. */
async function cli(argv: string[], build: string | null = 'build-1', env: NodeJS.ProcessEnv = {}): Promise<Run> {
  let out = '';
  let err = '';
  const io: CliIo = { out: (t) => (out += t), err: (t) => (err += t), env, ...(build === null ? {} : { reportCacheBuild: build }) };
  const code = await runCli(argv, io);
  return { code, out, err };
}

const base = (): string[] => ['--codex-home', home.root, '--state', state];
const answeredFromCache = (run: Run): boolean => run.err.includes('the report comes from');
/** Whether the run printed again what the same command line printed before (printedOutputCache.ts). */
const printedAgain = (run: Run): boolean => / from \S*printed-output-[0-9a-f]{8}\.txt, as printed then\./.test(run.err);
/** Removes what the report cache's answers printed, so that the next run reads the report cache. */
const forgetPrinted = async (): Promise<void> => {
  for (const name of await readdir(state)) if (name.startsWith('printed-output-')) await rm(join(state, name));
};
/** Why the cache was not used, as --verbose logs it. */
const missReason = (run: Run): string | undefined => /Report cache not used: (.*)\.\n/.exec(run.err)?.[1];

/** Threads of several kinds: a CLI thread over two days and two models, a sub-agent, an archived exec thread, a legacy file (estimated) and a bad line. */
async function fixture(): Promise<void> {
  await home.write('parent', file(
    sessionMeta('parent', { cwd: '/work/repo/app' }),
    turnContext('gpt-5.1-codex', { cwd: '/work/repo/app' }),
    tokenCount([1000, 400, 100, 30], [1000, 400, 100, 30]),
    '{not json',
    turnContext('gpt-5.1-codex-mini', { cwd: '/work/repo/app' }),
    tokenCount([3000, 400, 150, 30], [2000, 0, 50, 0]),
  ));
  resetClock('2026-11-21T09:00:00.000Z');
  await home.write('sessions/2026/11/21/rollout-2026-11-21T09-00-00-child.jsonl', file(
    sessionMeta('child', { cwd: '/work/repo/app', source: threadSpawnSource('parent', 'Curie', 'explorer') }),
    turnContext('gpt-5.1-codex', { cwd: '/work/repo/app' }),
    usageRecord('child', 'resp-1', [500, 100, 50, 10]),
    usageRecord('child', 'resp-2', [700, 300, 70, 20]),
  ));
  await home.write('archived_sessions/rollout-2026-11-19T08-00-00-old.jsonl', file(
    sessionMeta('old', { originator: 'codex_exec', source: 'exec', cwd: '/elsewhere' }),
    turnContext('some-unpriced-model', { cwd: '/elsewhere' }),
    tokenCount([90, 0, 9, 0], [90, 0, 9, 0]),
  ));
  await home.write('sessions/2025/06/01/rollout-2025-06-01-legacy.jsonl', file(
    legacyHeader('legacy-thread'),
    legacyMessage('user', 'count these words please'),
    legacyMessage('assistant', 'here are some words in reply'),
  ));
}

const COMMANDS = ['threads', 'daily', 'agents', 'models', 'projects'] as const;

describe('the report cache', () => {
  it('answers a run with nothing new with exactly what a full run prints, for every report command, as JSON and as tables', async () => {
    await fixture();
    for (const zone of ['UTC', 'Asia/Kathmandu']) {
      await rm(join(state, REPORT_CACHE_FILE), { force: true });
      const first = await cli(['threads', '--json', '--tz', zone, ...base()]);
      expect(first.code).toBe(0);
      for (const command of COMMANDS) {
        for (const asJson of [true, false]) {
          const argv = [command, ...(asJson ? ['--json'] : []), '--tz', zone, ...base()];
          const cached = await cli(argv);
          // The same run without a build identity reads the state and scans (and finds nothing new).
          const full = await cli(argv, null);
          expect(cached.out, `${command} ${asJson ? '--json' : ''} in ${zone}`).toBe(full.out);
          expect(cached.err).toBe(full.err);
          expect(cached.code).toBe(full.code);
          expect(answeredFromCache(await cli([...argv, '--verbose']))).toBe(true);
        }
      }
    }
    const threads = JSON.parse((await cli(['threads', '--json', ...base()])).out) as { threads: { threadId: string; estimated: boolean }[]; warnings: unknown[]; diagnostics: Record<string, number> };
    // What the fixture is for: each kind is in the cached report.
    expect(threads.threads.map((t) => t.threadId).sort()).toEqual(['child', 'legacy-thread', 'old', 'parent']);
    expect(threads.threads.find((t) => t.threadId === 'legacy-thread')?.estimated).toBe(true);
    expect(threads.warnings).toHaveLength(1);
    expect(threads.diagnostics.bytesRead).toBe(0);
    expect(threads.diagnostics.files).toBe(4);
  });

  it('answers the budget command with nothing new with exactly what a full run prints, for each period, as JSON and as text', async () => {
    await fixture();
    // "Now" in the fixture's month, so that each period holds some of its usage.
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2026-11-21T12:00:00.000Z'));
    try {
      for (const zone of ['UTC', 'Asia/Kathmandu']) {
        for (const period of ['day', 'week', 'month', 'all']) {
          await writeFile(home.path('config.toml'), `[token_budget]\ntotal_budget = 9000\nperiod = "${period}"\ncost_budget_usd = 0.02\n[token_budget.per_agent_limits]\n"Curie (explorer)" = 1000\n`);
          await rm(join(state, REPORT_CACHE_FILE), { force: true });
          expect((await cli(['threads', '--tz', zone, ...base()])).code).toBe(0);
          for (const asJson of [true, false]) {
            const argv = ['budget', ...(asJson ? ['--json'] : []), '--tz', zone, ...base()];
            const cached = await cli(argv);
            const full = await cli(argv, null);
            expect(cached.out, `${period} ${asJson ? '--json' : ''} in ${zone}`).toBe(full.out);
            expect(cached.err).toBe(full.err);
            expect(cached.code).toBe(full.code);
            expect((await cli([...argv, '--verbose'])).err).toContain('the budget\'s figures come from');
          }
        }
      }
      // What the periods are for: they hold different usage, and the sub-agent is over its limit this month.
      const used: number[] = [];
      let month: { status: { usedTokens: number; agents: { agent: string; level: string }[] } } | undefined;
      for (const period of ['day', 'week', 'month', 'all']) {
        await writeFile(home.path('config.toml'), `[token_budget]\ntotal_budget = 9000\nperiod = "${period}"\n[token_budget.per_agent_limits]\n"Curie (explorer)" = 1000\n`);
        const run = JSON.parse((await cli(['budget', '--json', '--tz', 'UTC', ...base()])).out) as NonNullable<typeof month>;
        used.push(run.status.usedTokens);
        if (period === 'month') month = run;
      }
      const [day, week, inMonth, all] = used as [number, number, number, number];
      expect(day).toBeGreaterThan(0);
      expect(day).toBeLessThan(week);
      expect(week).toBeLessThanOrEqual(inMonth); // the fixture's week holds all its November
      expect(inMonth).toBeLessThan(all); // the legacy thread of 2025
      expect(month?.status.agents).toContainEqual(expect.objectContaining({ agent: 'Curie (explorer)', level: 'exceeded' }));
    } finally {
      vi.useRealTimers();
    }
  });

  it('resolves projects when it answers: a folder that became a git repository since is the project', async () => {
    await fixture();
    const repo = home.path('work-repo');
    await home.write('sessions/2026/11/22/rollout-2026-11-22T10-00-00-inrepo.jsonl', file(
      sessionMeta('inrepo', { cwd: join(repo, 'pkg') }),
      turnContext('gpt-5.1-codex', { cwd: join(repo, 'pkg') }),
      tokenCount([100, 0, 10, 0], [100, 0, 10, 0]),
    ));
    await cli(['projects', '--json', ...base()]);
    await mkdir(join(repo, '.git'), { recursive: true });
    const cached = await cli(['projects', '--json', '--verbose', ...base()]);
    expect(answeredFromCache(cached)).toBe(true);
    const keys = (JSON.parse(cached.out) as { projects: { key: string }[] }).projects.map((p) => p.key);
    expect(keys).toContain(repo);
    expect(cached.out).toBe((await cli(['projects', '--json', ...base()], null)).out);
  });

  describe('is not used when something changed, and the full run that follows writes it again', () => {
    const cases: [string, () => Promise<unknown>, RegExp][] = [
      ['a rollout grew', () => appendFile(home.path('sessions/2026/11/21/rollout-2026-11-21T09-00-00-child.jsonl'), `${usageRecord('child', 'resp-3', [10, 0, 1, 0])}\n`), /a rollout file changed/],
      ['a rollout was touched', () => utimes(home.path('sessions/2026/11/21/rollout-2026-11-21T09-00-00-child.jsonl'), new Date(), new Date('2026-11-25T00:00:00Z')), /a rollout file changed/],
      ['a rollout came', () => home.write('late', file(sessionMeta('late'), turnContext('gpt-5.1-codex'), tokenCount([5, 0, 5, 0], [5, 0, 5, 0]))), /1 rollout file\(s\) came or went/],
      ['a rollout went', () => rm(home.path('archived_sessions/rollout-2026-11-19T08-00-00-old.jsonl')), /1 rollout file\(s\) came or went/],
      ['a rollout was replaced by one of the same size', async () => {
        const path = home.path('archived_sessions/rollout-2026-11-19T08-00-00-old.jsonl');
        const text = await readFile(path, 'utf8');
        await writeFile(`${path}.new`, text.replace('"output_tokens":9', '"output_tokens":8'));
        await rename(`${path}.new`, path);
      }, /a rollout file changed/],
      ['the scan state was saved again', async () => writeFile(join(state, 'scan-state.json'), await readFile(join(state, 'scan-state.json'))), /the scan state changed since/],
      ['the scan state is gone', () => rm(join(state, 'scan-state.json')), /the scan state changed since/],
      ['the scan state\'s journal grew', () => appendFile(join(state, 'scan-state.json.journal'), '\n'), /the scan state changed since/],
      // The printed output does not depend on the report cache's file, only on its stamp: forgotten here, to read the cache.
      ['the cache is corrupt', async () => {
        await writeFile(join(state, REPORT_CACHE_FILE), '{"version":1,"build":"build-1",');
        await forgetPrinted();
      }, /is not valid JSON/],
      ['the cache has another shape', async () => {
        const [stamp, rest] = (await readFile(join(state, REPORT_CACHE_FILE), 'utf8')).split('\n');
        const stored = JSON.parse(rest!) as { threads: unknown[][] };
        stored.threads[0]![4] = ['x'];
        await writeFile(join(state, REPORT_CACHE_FILE), `${stamp}\n${JSON.stringify(stored)}`);
        await forgetPrinted();
      }, /does not have the expected shape \(thread 0\)/],
      ['the cache\'s cells are cut off, its stamp whole', async () => {
        const [stamp] = (await readFile(join(state, REPORT_CACHE_FILE), 'utf8')).split('\n');
        await writeFile(join(state, REPORT_CACHE_FILE), `${stamp}\n{"threads":[`);
        await forgetPrinted();
      }, /is not valid JSON/],
      // Its stamp stale, the cells are not parsed: the reason is the stamp's.
      ['the cache\'s cells are cut off and a rollout grew', async () => {
        const [stamp] = (await readFile(join(state, REPORT_CACHE_FILE), 'utf8')).split('\n');
        await writeFile(join(state, REPORT_CACHE_FILE), `${stamp}\n{"threads":[`);
        await forgetPrinted();
        await appendFile(home.path('sessions/2026/11/21/rollout-2026-11-21T09-00-00-child.jsonl'), `${usageRecord('child', 'resp-9', [10, 0, 1, 0])}\n`);
      }, /^a rollout file changed$/],
      ['the cache is of the version before (one line of JSON)', async () => {
        const [stamp, rest] = (await readFile(join(state, REPORT_CACHE_FILE), 'utf8')).split('\n');
        await writeFile(join(state, REPORT_CACHE_FILE), JSON.stringify({ ...JSON.parse(rest!), ...JSON.parse(stamp!), version: 3 }));
        await forgetPrinted();
      }, /is of another version/],
      ['the cache is empty', async () => {
        await writeFile(join(state, REPORT_CACHE_FILE), '');
        await forgetPrinted();
      }, /is not valid JSON/],
    ];
    for (const [what, change, reason] of cases) {
      it(what, async () => {
        await fixture();
        await cli(['threads', '--json', ...base()]);
        expect(answeredFromCache(await cli(['threads', '--json', '--verbose', ...base()]))).toBe(true);
        await change();
        const after = await cli(['threads', '--json', '--verbose', ...base()]);
        expect(missReason(after)).toMatch(reason);
        const full = JSON.parse(after.out) as { threads: unknown[] };
        // The full run's report, and the next run answers from the cache it wrote, with the same.
        const again = await cli(['threads', '--json', '--verbose', ...base()]);
        expect(answeredFromCache(again)).toBe(true);
        expect((JSON.parse(again.out) as { threads: unknown[] }).threads).toEqual(full.threads);
        expect(again.out).toBe((await cli(['threads', '--json', ...base()], null)).out);
      });
    }

    it('a grown rollout counts: the figures after it are the new ones', async () => {
      await fixture();
      const before = JSON.parse((await cli(['models', '--json', ...base()])).out) as { models: { key: string; totalTokens: number }[] };
      await appendFile(home.path('sessions/2026/11/21/rollout-2026-11-21T09-00-00-child.jsonl'), `${usageRecord('child', 'resp-3', [10, 0, 1, 0])}\n`);
      const run = await cli(['models', '--json', '--verbose', ...base()]);
      const after = JSON.parse(run.out) as { models: { key: string; totalTokens: number }[] };
      const total = (r: typeof before, key: string) => r.models.find((m) => m.key === key)!.totalTokens;
      expect(total(after, 'gpt-5.1-codex') - total(before, 'gpt-5.1-codex')).toBe(11);
      // The full run went on from the rollouts as the cache's check found them (listed and stat'ed once).
      expect(run.err).toMatch(/The scan goes on from the \d+ rollout file\(s\) the check listed a moment ago, as they were stat'ed then\./);
      expect(after).toEqual(JSON.parse((await cli(['models', '--json', '--codex-home', home.root])).out));
    });
  });

  it('is for one time zone, one build and one set of roots', async () => {
    await fixture();
    await cli(['daily', '--json', '--tz', 'UTC', ...base()]);
    expect(missReason(await cli(['daily', '--json', '--verbose', '--tz', 'Europe/Berlin', ...base()]))).toMatch(/it is for the time zone UTC/);
    // Each full run writes the cache for itself: now for Berlin.
    expect(missReason(await cli(['daily', '--json', '--verbose', '--tz', 'Europe/Berlin', ...base()], 'build-2'))).toMatch(/another build/);
    const extra = home.path('extra');
    await mkdir(extra);
    expect(missReason(await cli(['daily', '--json', '--verbose', '--tz', 'Europe/Berlin', '--root', extra, ...base()], 'build-2'))).toMatch(/other roots/);
    expect(answeredFromCache(await cli(['daily', '--json', '--verbose', '--tz', 'Europe/Berlin', '--root', extra, ...base()], 'build-2'))).toBe(true);
  });

  it('answers a period of whole local days (--since, --until) from the cells of all time, as a full run does; a period from another time is read in full', async () => {
    await fixture();
    const cacheFile = join(state, REPORT_CACHE_FILE);
    const exists = () => readFile(cacheFile).then(() => true, () => false);
    // A run for a period writes the cache of all time, which the next run for any period of days answers.
    await cli(['daily', '--json', '--since', '2026-11-21', ...base()]);
    expect(await exists()).toBe(true);
    for (const zone of ['UTC', 'Asia/Kathmandu']) {
      await cli(['daily', '--since', '2026-11-21', '--tz', zone, ...base()]); // the cache is of one time zone
      for (const period of [['--since', '2026-11-21'], ['--until', '2026-11-21'], ['--since', '2026-11-20', '--until', '2026-11-21'], ['--since', '2025-01-01', '--until', '2025-12-31']]) {
        for (const command of COMMANDS) {
          const argv = [command, '--json', ...period, '--tz', zone, ...base()];
          const cached = await cli([...argv, '--verbose']);
          expect(answeredFromCache(cached), `${command} ${period.join(' ')} in ${zone}`).toBe(true);
          const full = await cli(argv, null);
          expect(cached.out, `${command} ${period.join(' ')} in ${zone}`).toBe(full.out);
          expect(cached.code).toBe(full.code);
        }
      }
    }
    const since = JSON.parse((await cli(['daily', '--json', '--since', '2026-11-21', '--tz', 'UTC', ...base()])).out) as { days: { key: string }[] };
    expect(since.days.map((d) => d.key)).toEqual(['2026-11-21']);
    // An ISO time that is not a local midnight: the state is read.
    const atNoon = await cli(['daily', '--json', '--verbose', '--since', '2026-11-20T12:00:00Z', '--tz', 'UTC', ...base()]);
    expect(answeredFromCache(atNoon)).toBe(false);
    expect(atNoon.out).toBe((await cli(['daily', '--json', '--since', '2026-11-20T12:00:00Z', '--tz', 'UTC', ...base()], null)).out);
  });

  it('is neither read nor written without --state or a build identity; the budget command writes it', async () => {
    await fixture();
    const cacheFile = join(state, REPORT_CACHE_FILE);
    const exists = () => readFile(cacheFile).then(() => true, () => false);
    await cli(['daily', '--json', ...base()], null);
    expect(await exists()).toBe(false);
    await cli(['budget', '--json', ...base()]);
    expect(await exists()).toBe(true);
    const noState = await cli(['daily', '--json', '--verbose', '--codex-home', home.root]);
    expect(answeredFromCache(noState)).toBe(false);
  });
});

describe('a full run after a change, beside a report cache written with the state it loads', () => {
  const child = 'sessions/2026/11/21/rollout-2026-11-21T09-00-00-child.jsonl';
  const continued = /The cells of all time are the report cache's, with the (\d+) increment\(s\) added since\./;
  const summedAgain = /The cells of all time are summed again: the scan took increments out or changed the metadata of a thread\./;
  /** A command's JSON as a run without a state or a cache prints it (the diagnostics, which say what was read, left out). */
  const stateless = async (command: string): Promise<unknown> => withoutDiagnostics((await cli([command, '--json', '--codex-home', home.root], null)).out);
  const withoutDiagnostics = (out: string): unknown => {
    const value = JSON.parse(out) as Record<string, unknown>;
    delete value.diagnostics;
    return value;
  };
  /** Every report command answers from the cache that run wrote, with what a run without a state prints. */
  const expectEveryCommandFromCache = async (): Promise<void> => {
    for (const command of COMMANDS) {
      const again = await cli([command, '--json', '--verbose', ...base()]);
      expect(answeredFromCache(again)).toBe(true);
      expect(withoutDiagnostics(again.out)).toEqual(await stateless(command));
    }
  };
  /** The report cache's cells as stored (its stamp left out). */
  const storedCells = async (dir: string): Promise<unknown> => {
    const { threads, strings, agents, rateLimits } = JSON.parse((await readFile(join(dir, REPORT_CACHE_FILE), 'utf8')).split('\n')[1]!) as Record<string, unknown>;
    return { threads, strings, agents, rateLimits };
  };

  const cases: [string, () => Promise<unknown>, number | 'summed again'][] = [
    ['a response more in a cell there was', () => appendFile(home.path(child), `${usageRecord('child', 'resp-3', [10, 0, 1, 0])}\n`), 1],
    ['responses on another model and the next day: new cells of a thread there was', async () => {
      resetClock('2026-11-22T08:00:00.000Z');
      await appendFile(home.path(child), `${turnContext('gpt-5.1-codex-mini', { cwd: '/work/repo/app' })}\n${usageRecord('child', 'resp-3', [4000, 1000, 300, 100])}\n${usageRecord('child', 'resp-4', [123, 45, 6, 7])}\n`);
    }, 2],
    ['a new thread', () => home.write('sessions/2026/11/22/rollout-2026-11-22T08-00-00-late.jsonl', file(sessionMeta('late', { cwd: '/work/other' }), turnContext('gpt-5.1-codex'), tokenCount([5000, 2500, 700, 300], [5000, 2500, 700, 300]))), 1],
    ['lines without usage (a message, a reply): nothing new to count', () => appendFile(home.path(child), `${userMessage('go on')}\n${assistantMessage('done')}\n`), 0],
    ['an archived copy of a thread (nothing new to count)', async () => home.write('archived_sessions/rollout-2026-11-21T09-00-00-child.jsonl', await readFile(home.path(child), 'utf8')), 0],
    ['a rollout gone', () => rm(home.path('archived_sessions/rollout-2026-11-19T08-00-00-old.jsonl')), 'summed again'],
    ['a thread\'s metadata from a file that now comes first', () => home.write('sessions/2026/11/20/rollout-2026-11-20T07-00-00-child.jsonl', file(
      sessionMeta('child', { cwd: '/work/elsewhere', originator: 'codex_exec', source: 'exec' }),
      turnContext('gpt-5.1-codex', { cwd: '/work/elsewhere' }),
      usageRecord('child', 'resp-9', [50, 0, 5, 0]),
    )), 'summed again'],
  ];
  for (const [what, change, expected] of cases) {
    it(`${what}: ${expected === 'summed again' ? 'sums every increment again' : 'goes on from the cached cells'}, and prints and caches what summing them all gives`, async () => {
      await fixture();
      await cli(['threads', '--json', ...base()]);
      // The same state beside no report cache: the run after the change sums every increment of the same ledger.
      const summing = home.path('summing-state');
      await cp(state, summing, { recursive: true });
      await rm(join(summing, REPORT_CACHE_FILE));
      await change();
      const after = await cli(['daily', '--json', '--verbose', ...base()]);
      expect(after.code).toBe(0);
      if (expected === 'summed again') {
        expect(after.err).toMatch(summedAgain);
        expect(after.err).not.toMatch(continued);
      } else {
        expect(continued.exec(after.err)?.[1]).toBe(String(expected));
      }
      // Nothing new to sum, nothing to price: the price book is not opened.
      expect(after.err.includes('The price book was not opened')).toBe(expected === 0);
      expect(JSON.parse(after.out)).toEqual(await stateless('daily'));
      // Printed and cached, to the last bit and in the same order, as summing them all gives.
      const summed = await cli(['daily', '--json', '--codex-home', home.root, '--state', summing]);
      expect(after.out).toBe(summed.out);
      expect(await storedCells(state)).toStrictEqual(await storedCells(summing));
      await expectEveryCommandFromCache();
    });
  }

  it('writes the cells read again as they were after lines without usage, under the new stamp; encodes them again when the facts changed', async () => {
    await fixture();
    await cli(['threads', '--json', ...base()]);
    const cacheLines = async (): Promise<string[]> => (await readFile(join(state, REPORT_CACHE_FILE), 'utf8')).split('\n');
    const [stampBefore, cellsBefore] = await cacheLines();
    await appendFile(home.path(child), `${assistantMessage('looking')}\n`);
    const quiet = await cli(['daily', '--json', '--verbose', ...base()]);
    expect(quiet.err).toMatch(/The report cache's cells are written again as they were read, under the new stamp\./);
    const [stampAfter, cellsAfter] = await cacheLines();
    expect(stampAfter).not.toBe(stampBefore);
    expect(cellsAfter).toBe(cellsBefore);
    expect(answeredFromCache(await cli(['daily', '--json', '--verbose', ...base()]))).toBe(true);
    // A line that cannot be used: no usage either, but the facts (its warning, the counters) changed.
    await appendFile(home.path(child), '{not json\n');
    const bad = await cli(['daily', '--json', '--verbose', ...base()]);
    expect(bad.err).not.toMatch(/written again as they were read/);
    expect(bad.err).toMatch(/The price book was not opened/);
    expect(JSON.parse((await cacheLines())[1]!).facts.counters.badLines).toBe(JSON.parse(cellsBefore!).facts.counters.badLines + 1);
    // Rate limits without usage: the cells' rate limits changed.
    await appendFile(home.path(child), `${tokenCount(null, null, { rateLimits: rateLimitsResetsIn(42, 3600, 7, 86400) })}\n`);
    const limits = await cli(['daily', '--json', '--verbose', ...base()]);
    expect(limits.err).not.toMatch(/written again as they were read/);
    expect(JSON.parse((await cacheLines())[1]!).rateLimits).not.toEqual(JSON.parse(cellsBefore!).rateLimits);
    await expectEveryCommandFromCache();
  });

  it('opens the price book after lines without usage when what it prints is not in the cached cells: the budget, a period not of whole days', async () => {
    await fixture();
    await writeFile(home.path('config.toml'), `[token_budget]\ntotal_budget = 4000\nperiod = "all"\n`);
    await cli(['threads', '--json', ...base()]);
    const noUsage = (): Promise<void> => appendFile(home.path(child), `${assistantMessage('thinking')}\n`);
    await noUsage();
    const budget = await cli(['budget', '--json', '--verbose', ...base()]);
    expect(budget.err).toMatch(continued);
    expect(budget.err).not.toMatch(/The price book was not opened/);
    expect(JSON.parse(budget.out)).toEqual(JSON.parse((await cli(['budget', '--json', '--codex-home', home.root], null)).out));
    await noUsage();
    const atNoon = ['daily', '--json', '--since', '2026-11-20T12:00:00Z', '--tz', 'UTC'];
    const period = await cli([...atNoon, '--verbose', ...base()]);
    expect(period.err).not.toMatch(/The price book was not opened/);
    expect(withoutDiagnostics(period.out)).toEqual(withoutDiagnostics((await cli([...atNoon, '--codex-home', home.root], null)).out));
    // A period of whole days, after lines without usage: from the cached cells, unpriced.
    await noUsage();
    const days = ['daily', '--json', '--since', '2026-11-21', '--tz', 'UTC'];
    const whole = await cli([...days, '--verbose', ...base()]);
    expect(whole.err).toMatch(/The price book was not opened/);
    expect(withoutDiagnostics(whole.out)).toEqual(withoutDiagnostics((await cli([...days, '--codex-home', home.root], null)).out));
  });

  it('sums them all again when the report cache was written beside another state, or is of another time zone', async () => {
    await fixture();
    await cli(['threads', '--json', ...base()]);
    const cache = await readFile(join(state, REPORT_CACHE_FILE));
    await appendFile(home.path(child), `${usageRecord('child', 'resp-3', [10, 0, 1, 0])}\n`);
    await cli(['threads', '--json', ...base()]);
    // The cache of the state before, put back beside the state after.
    await writeFile(join(state, REPORT_CACHE_FILE), cache);
    await appendFile(home.path(child), `${usageRecord('child', 'resp-4', [20, 0, 2, 0])}\n`);
    const beside = await cli(['daily', '--json', '--verbose', ...base()]);
    expect(beside.err).toMatch(/The report cache's cells are summed again: it was written beside another scan state\./);
    expect(beside.err).not.toMatch(continued);
    expect(JSON.parse(beside.out)).toEqual(await stateless('daily'));
    await appendFile(home.path(child), `${usageRecord('child', 'resp-5', [30, 0, 3, 0])}\n`);
    const zone = await cli(['daily', '--json', '--verbose', '--tz', 'Asia/Kathmandu', ...base()]);
    expect(zone.err).toMatch(/The report cache's cells are summed again: it is for the time zone /);
    expect(JSON.parse(zone.out)).toEqual(withoutDiagnostics((await cli(['daily', '--json', '--tz', 'Asia/Kathmandu', '--codex-home', home.root], null)).out));
  });
});

describe('the printed output of a command answered from the report cache', () => {
  /** The printed-output files in the state folder. */
  const printedFiles = async (): Promise<string[]> => (await readdir(state)).filter((n) => n.startsWith('printed-output-')).sort();

  it('is printed again, exactly, for the same command line, without the report cache being read', async () => {
    await fixture();
    await writeFile(home.path('config.toml'), '[token_budget]\ntotal_budget = 9000\nperiod = "all"\n');
    await cli(['threads', '--json', ...base()]);
    const lines = [...COMMANDS.flatMap((c) => [[c, '--json'], [c]]), ['budget', '--json'], ['budget'], ['daily', '--json', '--since', '2026-11-21']];
    const first = new Map<string, Run>();
    for (const line of lines) {
      const run = await cli([...line, ...base(), '--verbose']);
      expect(answeredFromCache(run) || run.err.includes('the budget\'s figures come from'), line.join(' ')).toBe(true);
      expect(printedAgain(run)).toBe(false);
      first.set(line.join(' '), run);
    }
    expect(await printedFiles()).toHaveLength(lines.length);
    // Not read: the answers come from the printed outputs even with the report cache gone bad.
    await writeFile(join(state, REPORT_CACHE_FILE), 'not json');
    for (const line of lines) {
      const again = await cli([...line, ...base(), '--verbose']);
      expect(printedAgain(again), line.join(' ')).toBe(true);
      const quiet = await cli([...line, ...base()]);
      const full = await cli([...line, ...base()], null);
      expect(quiet.out, line.join(' ')).toBe(first.get(line.join(' '))!.out);
      expect(quiet.out).toBe(full.out);
      expect(quiet.err).toBe(full.err);
      expect(quiet.code).toBe(full.code);
    }
    // The fixture's bad line is noted on stderr by the table commands, printed again as it was.
    expect((await cli(['daily', ...base()])).err).toMatch(/1 line\(s\) could not be used/);
  });

  it('writes the kept bytes as they are where the io takes bytes, the same text as printed first', async () => {
    await fixture();
    await cli(['threads', ...base()]);
    const first = await cli(['threads', '--json', ...base()]);
    let text = '';
    const chunks: Uint8Array[] = [];
    const io: CliIo = { out: (t) => (text += t), outBytes: (b) => chunks.push(b), err: () => undefined, env: {}, reportCacheBuild: 'build-1' };
    expect(await runCli(['threads', '--json', ...base()], io)).toBe(0);
    expect(text).toBe('');
    expect(chunks).toHaveLength(1);
    expect(Buffer.from(chunks[0]!).toString('utf8')).toBe(first.out);
  });

  it('keeps the exit code and the messages of a budget with a broken configuration', async () => {
    await fixture();
    await writeFile(home.path('config.toml'), '[token_budget]\ntotal_budget = "lots"\n');
    await cli(['threads', ...base()]);
    const first = await cli(['budget', ...base()]);
    const again = await cli(['budget', ...base(), '--verbose']);
    expect(printedAgain(again)).toBe(true);
    expect(first.code).toBe(1);
    expect(again.code).toBe(1);
    expect(first.err).toMatch(/config\.toml:2: token_budget\.total_budget/);
    expect(again.err).toContain(first.err);
    expect(again.out).toBe(first.out);
  });

  describe('is not printed again when what it was made from changed, and the answer is the new one', () => {
    const cases: [string, string[], () => Promise<unknown>, RegExp, NodeJS.ProcessEnv?][] = [
      ['a rollout grew', ['models', '--json'], () => appendFile(home.path('sessions/2026/11/21/rollout-2026-11-21T09-00-00-child.jsonl'), `${usageRecord('child', 'resp-3', [10, 0, 1, 0])}\n`), /a rollout file changed/],
      ['the scan state was saved again', ['models', '--json'], async () => writeFile(join(state, 'scan-state.json'), await readFile(join(state, 'scan-state.json'))), /the scan state changed since/],
      ['a folder became a git repository', ['projects', '--json'], () => mkdir(home.path('work-repo/.git'), { recursive: true }), /the project of .*work-repo\/pkg changed/],
      ['the budget\'s configuration changed', ['budget', '--json'], () => writeFile(home.path('config.toml'), '[token_budget]\ntotal_budget = 12\n'), /config\.toml changed/],
      ['the budget\'s configuration is gone', ['budget', '--json'], () => rm(home.path('config.toml')), /config\.toml changed/],
      ['a budget variable was set', ['budget', '--json'], async () => undefined, /the environment variable CODEX_TOKEN_BUDGET changed/, { CODEX_TOKEN_BUDGET: '77' }],
      ['the file is corrupt', ['daily', '--json'], async () => {
        for (const name of await printedFiles()) await writeFile(join(state, name), '{"version":1,');
      }, /does not start with a JSON line/],
      ['the file was cut off', ['daily', '--json'], async () => {
        for (const name of await printedFiles()) {
          const text = await readFile(join(state, name), 'utf8');
          await writeFile(join(state, name), text.slice(0, -5));
        }
      }, /was cut off/],
      ['the file is of another command line', ['daily', '--json'], async () => {
        for (const name of await printedFiles()) {
          const text = await readFile(join(state, name), 'utf8');
          await writeFile(join(state, name), text.replace('"commandLine":"[\\"daily\\"', '"commandLine":"[\\"models\\"'));
        }
      }, /is of another command line/],
    ];
    for (const [what, line, change, reason, env] of cases) {
      it(what, async () => {
        await fixture();
        await home.write('sessions/2026/11/22/rollout-2026-11-22T10-00-00-inrepo.jsonl', file(
          sessionMeta('inrepo', { cwd: home.path('work-repo/pkg') }),
          turnContext('gpt-5.1-codex', { cwd: home.path('work-repo/pkg') }),
          tokenCount([100, 0, 10, 0], [100, 0, 10, 0]),
        ));
        await writeFile(home.path('config.toml'), '[token_budget]\ntotal_budget = 9000\nperiod = "all"\n');
        await cli(['threads', ...base()]);
        await cli([...line, ...base()]);
        expect(printedAgain(await cli([...line, ...base(), '--verbose']))).toBe(true);
        await change();
        const after = await cli([...line, ...base(), '--verbose'], 'build-1', env);
        expect(printedAgain(after)).toBe(false);
        expect(/Printed output not used: (.*)\.\n/.exec(after.err)?.[1]).toMatch(reason);
        const full = await cli([...line, ...base()], null, env);
        expect(after.out).toBe(full.out);
        expect(after.code).toBe(full.code);
        // Printed again from here on (after the full run, once the report cache has answered).
        await cli([...line, ...base()], 'build-1', env);
        const again = await cli([...line, ...base(), '--verbose'], 'build-1', env);
        expect(printedAgain(again)).toBe(true);
        expect(again.out).toBe(full.out);
      });
    }

    it('the budget\'s period is over', async () => {
      await fixture();
      await writeFile(home.path('config.toml'), '[token_budget]\ntotal_budget = 9000\nperiod = "day"\n');
      vi.useFakeTimers({ toFake: ['Date'] });
      try {
        vi.setSystemTime(new Date('2026-11-21T23:59:00.000Z'));
        await cli(['threads', '--tz', 'UTC', ...base()]);
        const today = await cli(['budget', '--json', '--tz', 'UTC', ...base()]);
        expect(printedAgain(await cli(['budget', '--json', '--tz', 'UTC', ...base(), '--verbose']))).toBe(true);
        vi.setSystemTime(new Date('2026-11-22T00:00:00.000Z'));
        const tomorrow = await cli(['budget', '--json', '--tz', 'UTC', ...base(), '--verbose']);
        expect(/Printed output not used: (.*)\.\n/.exec(tomorrow.err)?.[1]).toBe('its period is over');
        const used = (run: Run): number => (JSON.parse(run.out) as { status: { usedTokens: number } }).status.usedTokens;
        expect(used(today)).toBeGreaterThan(0);
        expect(used(tomorrow)).toBe(0);
        expect(tomorrow.out).toBe((await cli(['budget', '--json', '--tz', 'UTC', ...base()], null)).out);
      } finally {
        vi.useRealTimers();
      }
    });
  });

  it('out of date by its stamp, means the report cache of the same stamp is not read to be found so too', async () => {
    await fixture();
    await cli(['daily', '--json', ...base()]);
    await cli(['daily', '--json', ...base()]); // keeps what it printed
    await appendFile(home.path('sessions/2026/11/21/rollout-2026-11-21T09-00-00-child.jsonl'), `${usageRecord('child', 'resp-3', [10, 0, 1, 0])}\n`);
    // Damaged now: a run that read it to check it would say so.
    await writeFile(join(state, REPORT_CACHE_FILE), '{"version":1,');
    const after = await cli(['daily', '--json', '--verbose', ...base()]);
    expect(missReason(after)).toBe('a rollout file changed');
    expect(after.err).not.toMatch(/Report cache not used: .*is not valid JSON/);
    // The full run finds it damaged, sums every increment, and prints what a run without state prints.
    expect(after.err).toMatch(/The report cache's cells are summed again: .*is not valid JSON/);
    expect(JSON.parse(after.out)).toEqual(JSON.parse((await cli(['daily', '--json', '--codex-home', home.root], null)).out));
  });

  it('is removed when a full run writes the report cache again', async () => {
    await fixture();
    await cli(['threads', ...base()]);
    await cli(['daily', ...base()]);
    await cli(['models', ...base()]);
    expect(await printedFiles()).toHaveLength(2);
    await appendFile(home.path('sessions/2026/11/21/rollout-2026-11-21T09-00-00-child.jsonl'), `${usageRecord('child', 'resp-3', [10, 0, 1, 0])}\n`);
    await cli(['daily', ...base()]);
    expect(await printedFiles()).toEqual([]);
  });

  it('follows the workspace\'s configuration too, and is kept apart from the same command without it', async () => {
    await fixture();
    const workspace = home.path('ws');
    await mkdir(join(workspace, '.codex'), { recursive: true });
    await writeFile(join(workspace, '.codex', 'config.toml'), '[token_budget]\ntotal_budget = 5000\n');
    await cli(['threads', ...base()]);
    const inWorkspace = ['budget', '--json', '--workspace', workspace, ...base()];
    const first = await cli(inWorkspace);
    expect(printedAgain(await cli([...inWorkspace, '--verbose']))).toBe(true);
    const plain = await cli(['budget', '--json', ...base(), '--verbose']);
    expect(printedAgain(plain)).toBe(false);
    expect(plain.out).not.toBe(first.out);
    await writeFile(join(workspace, '.codex', 'config.toml'), '[token_budget]\ntotal_budget = 6000\n');
    const changed = await cli([...inWorkspace, '--verbose']);
    expect(/Printed output not used: (.*)\.\n/.exec(changed.err)?.[1]).toMatch(/ws\/\.codex\/config\.toml changed/);
    expect((JSON.parse(changed.out) as { budget: { totalBudget: number } }).budget.totalBudget).toBe(6000);
    expect(changed.out).toBe((await cli(inWorkspace, null)).out);
  });

  it('is kept for the newest command lines only, at most MAX_KEPT of them', async () => {
    await fixture();
    await cli(['threads', ...base()]);
    const days = Array.from({ length: MAX_KEPT + 3 }, (_, i) => new Date(Date.UTC(2026, 0, 1 + i)).toISOString().slice(0, 10));
    for (const [i, day] of days.entries()) {
      const before = new Set(await printedFiles());
      await cli(['daily', '--json', '--since', day, '--tz', 'UTC', ...base()]);
      const written = await printedFiles();
      // The new one a second apart from the one before, so that their ages differ on any file system.
      const added = written.filter((n) => !before.has(n));
      expect(added).toHaveLength(1);
      await utimes(join(state, added[0]!), new Date(), new Date(Date.UTC(2026, 0, 1, 0, 0, i)));
      expect(written.length).toBe(Math.min(i + 1, MAX_KEPT));
    }
    // The newest are kept: the last day's is printed again, the first day's is not.
    expect(printedAgain(await cli(['daily', '--json', '--since', days.at(-1)!, '--tz', 'UTC', ...base(), '--verbose']))).toBe(true);
    expect(printedAgain(await cli(['daily', '--json', '--since', days[0]!, '--tz', 'UTC', ...base(), '--verbose']))).toBe(false);
  });

  it('is written only beside a state, by a build with an identity', async () => {
    await fixture();
    await cli(['threads', ...base()], null);
    await cli(['threads', ...base()], null);
    expect(await printedFiles()).toEqual([]);
  });
});

describe('what an answer from the report cache printed and read', () => {
  it('is kept as printed, with each environment variable read (once) and its value; a listing of them all is told', () => {
    let printed = '';
    const inputs: OutputInputs = { projects: [], readFiles: [], env: [], from: null, until: null };
    const capture = capturingIo({ out: (t) => (printed += t), outBytes: () => undefined, err: () => undefined, env: { CODEX_TOKEN_BUDGET: '5', OTHER: 'x' } }, inputs);
    // Everything printed goes through out and err, where it is kept.
    expect(capture.io.outBytes).toBeUndefined();
    expect(capture.io.env.CODEX_TOKEN_BUDGET).toBe('5');
    expect(capture.io.env.CODEX_TOKEN_BUDGET).toBe('5');
    expect('CODEX_TOKEN_WARNING_THRESHOLD' in capture.io.env).toBe(false);
    capture.io.out('a');
    capture.io.err('b');
    capture.io.out('c');
    expect(printed).toBe('ac');
    expect(capture.printed()).toEqual({ stdout: 'ac', stderr: 'b' });
    expect(inputs.env).toEqual([['CODEX_TOKEN_BUDGET', '5'], ['CODEX_TOKEN_WARNING_THRESHOLD', null]]);
    expect(capture.listed()).toBe(false);
    expect(Object.keys(capture.io.env)).toEqual(['CODEX_TOKEN_BUDGET', 'OTHER']);
    expect(capture.listed()).toBe(true);
  });
});
