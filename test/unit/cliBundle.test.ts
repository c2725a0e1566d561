import { execFileSync, spawnSync } from 'node:child_process';
import { appendFile } from 'node:fs/promises';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { file, resetClock, sessionMeta, tokenCount, turnContext, usageRecord } from './helpers/rolloutBuilder.js';
import { TempHome } from './helpers/tempHome.js';

const repo = resolve(__dirname, '..', '..');
const cli = join(repo, 'dist', 'cli.js');

beforeAll(() => {
  if (!existsSync(cli) || !existsSync(join(repo, 'dist', 'cliScan.js')) || !existsSync(join(repo, 'dist', 'cliReader.js'))) execFileSync(process.execPath, [join(repo, 'esbuild.mjs')], { cwd: repo, stdio: 'ignore' });
});

let home: TempHome;
beforeEach(async () => {
  home = await TempHome.create();
  resetClock('2026-11-20T08:00:00.000Z');
});
afterEach(async () => home.dispose());

interface ThreadsJson {
  threads: { threadId: string; totalTokens: number }[];
  diagnostics: Record<string, number>;
}

function run(args: string[], env: NodeJS.ProcessEnv = {}): { out: ThreadsJson; err: string } {
  const result = spawnSync(process.execPath, [cli, 'threads', '--json', '--verbose', '--codex-home', home.root, '--state', home.path('state'), ...args], {
    encoding: 'utf8', env: { ...process.env, ...env }, maxBuffer: 16 << 20,
  });
  expect(result.status, result.stderr).toBe(0);
  return { out: JSON.parse(result.stdout) as ThreadsJson, err: result.stderr };
}

const total = (out: ThreadsJson): number => out.threads.reduce((sum, t) => sum + t.totalTokens, 0);

describe('the shipped CLI (dist/cli.js, dist/cliScan.js and dist/cliReader.js)', () => {
  it('counts days in UTC when TZ names no zone Intl can compute in (empty, Factory, unknown)', async () => {
    await home.write('t1', file(sessionMeta('t1'), turnContext('gpt-5.1-codex'), tokenCount([1000, 400, 100, 30], [1000, 400, 100, 30])));
    const daily = (env: NodeJS.ProcessEnv, ...args: string[]): { status: number | null; stdout: string; stderr: string } =>
      spawnSync(process.execPath, [cli, 'daily', '--json', '--codex-home', home.root, ...args], { encoding: 'utf8', env: { ...process.env, ...env } });
    const utc = daily({}, '--tz', 'UTC');
    expect(utc.status, utc.stderr).toBe(0);
    for (const tz of ['', 'Factory', 'Foo/Bar']) {
      const result = daily({ TZ: tz });
      expect(result.stderr, `TZ=${tz}`).toBe('');
      expect(result.status, `TZ=${tz}`).toBe(0);
      expect(JSON.parse(result.stdout).days, `TZ=${tz}`).toEqual(JSON.parse(utc.stdout).days);
    }
  });

  it('ends quietly when its output is a pipe closed early (| head), and still saves its state', async () => {
    await home.write('t1', file(sessionMeta('t1'), turnContext('gpt-5.1-codex'), tokenCount([1000, 400, 100, 30], [1000, 400, 100, 30])));
    // A full run, an answer from the report cache, and the same printed again (written as bytes).
    for (const args of [['threads', '--json'], ['daily'], ['daily']]) {
      // `true` has exited long before Node starts, so the first write meets a closed pipe.
      const result = spawnSync('bash', ['-c', 'node "$@" | true; echo "exit ${PIPESTATUS[0]}"', 'bash', cli, ...args, '--codex-home', home.root, '--state', home.path('state')], { encoding: 'utf8' });
      expect(result.stderr).toBe('');
      expect(result.stdout).toBe('exit 0\n');
    }
    expect(existsSync(home.path('state/scan-state.json'))).toBe(true);
    expect(readdirSync(home.path('state')).filter((n) => n.startsWith('printed-output-'))).toHaveLength(1);
  });

  it('prints the version of this package and of its price data', () => {
    const result = spawnSync(process.execPath, [cli, '--version'], { encoding: 'utf8' });
    const version = (path: string): string => (JSON.parse(readFileSync(path, 'utf8')) as { version: string }).version;
    expect(result.status).toBe(0);
    expect(result.stdout).toBe(`codex-meter ${version(join(repo, 'package.json'))}; genai-prices ${version(join(repo, 'node_modules', '@pydantic', 'genai-prices', 'package.json'))}\n`);
  });

  it('reads a cold home with reader threads from cliReader.js, answers the next run from the report cache, and reads an append in full', async () => {
    // 40 files: enough for reader threads (32), which CODEX_METER_READER_THREADS asks for whatever their size.
    for (let i = 0; i < 40; i += 1) {
      await home.write(`t${i}`, file(sessionMeta(`t${i}`), turnContext('gpt-5.1-codex'), tokenCount([100 + i, 0, 10, 0], [100 + i, 0, 10, 0])));
    }
    const expected = Array.from({ length: 40 }, (_, i) => 110 + i).reduce((a, b) => a + b, 0);

    const cold = run([], { CODEX_METER_READER_THREADS: '1' });
    expect(cold.err).toMatch(/Reading 40 files never read before with reader threads/);
    expect(cold.err).not.toMatch(/reading (its|their) files in this thread instead/);
    expect(total(cold.out)).toBe(expected);
    expect(cold.out.diagnostics.bytesRead).toBeGreaterThan(0);

    const warm = run([]);
    expect(warm.err).toMatch(/Nothing new in the 40 rollout file\(s\) since the last run; the report comes from .*report-cache\.json/);
    expect(warm.out.threads).toEqual(cold.out.threads);
    expect(warm.out.diagnostics).toEqual({ ...cold.out.diagnostics, bytesRead: 0 });
    // The same command line again: what the warm run printed, written as the bytes kept.
    const again = run([]);
    expect(again.err).toMatch(/the report comes from .*printed-output-[0-9a-f]{8}\.txt, as printed then/);
    expect(again.out).toEqual(warm.out);

    await appendFile(home.path('sessions/2026/11/20/rollout-2026-11-20T10-00-00-t7.jsonl'), `${usageRecord('t7', 'resp-9', [5, 0, 1, 0])}\n`);
    const appended = run([]);
    expect(appended.err).toMatch(/Report cache not used: a rollout file changed/);
    // The full run, in cliScan.js, went on from what the check in cli.js found.
    expect(appended.err).toMatch(/The scan goes on from the 40 rollout file\(s\) the check listed a moment ago, as they were stat'ed then\./);
    expect(total(appended.out)).toBe(expected + 6);
    expect(appended.out.diagnostics.bytesRead).toBeGreaterThan(0);
    expect(total(run([]).out)).toBe(expected + 6);
  }, 60_000);
});
