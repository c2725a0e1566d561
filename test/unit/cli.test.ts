import { appendFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runFromReportCache } from '../../src/cli/cachedRun.js';
import { rolloutFilesNow } from '../../src/core/cacheStamp.js';
import { silentLogger } from '../../src/core/logger.js';
import { resolveInvocation } from '../../src/cli/invocation.js';
import { type CliIo, runCli } from '../../src/cli/main.js';
import { scanReaders } from '../../src/cli/readerStart.js';
import { runScan } from '../../src/cli/scanRun.js';
import { file, resetClock, sessionMeta, tokenCount, turnContext, usageRecord } from './helpers/rolloutBuilder.js';
import { TempHome } from './helpers/tempHome.js';

let home: TempHome;
beforeEach(async () => {
  home = await TempHome.create();
  resetClock('2026-11-20T22:30:00.000Z');
});
afterEach(async () => home.dispose());

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runCli(argv, { out: (t) => (out += t), err: (t) => (err += t), env: {} });
  return { code, out, err };
}

async function fixture(): Promise<void> {
  await home.write('t1', file(sessionMeta('t1', { originator: 'codex_exec', source: 'exec' }), turnContext('gpt-5.1-codex'), tokenCount([1000, 400, 100, 30], [1000, 400, 100, 30]), '{oops', tokenCount([3000, 400, 150, 30], [2000, 0, 50, 0])));
}

describe('codex-meter', () => {
  it('keeps its state\'s journal short (at most 64 KiB for a small state), as it replays the journal at every run', async () => {
    await fixture();
    const state = home.path('state');
    const journal = join(state, 'scan-state.json.journal');
    const rollout = home.path('sessions/2026/11/20/rollout-2026-11-20T10-00-00-t1.jsonl');
    await cli('threads', '--json', '--codex-home', home.root, '--state', state);
    const sizes: number[] = [];
    for (let n = 0; n < 70; n += 1) {
      await appendFile(rollout, `${usageRecord('t1', `resp-${n}`, [10, 0, 1, 0])}\n`);
      expect((await cli('threads', '--json', '--codex-home', home.root, '--state', state)).code).toBe(0);
      sizes.push((await stat(journal).catch(() => ({ size: 0 }))).size);
    }
    expect(Math.max(...sizes)).toBeLessThanOrEqual(64 * 1024);
    // Written whole at least once meanwhile: the journal started again.
    expect(sizes.some((size, i) => i > 0 && size < sizes[i - 1]!)).toBe(true);
    const json = JSON.parse((await cli('threads', '--json', '--codex-home', home.root, '--state', state)).out);
    expect(json.threads[0].totalTokens).toBe(3150 + 70 * 11);
  });

  it('threads --json prints the documented shape and lists bad lines as warnings', async () => {
    await fixture();
    const { code, out } = await cli('threads', '--json', '--codex-home', home.root);
    expect(code).toBe(0);
    const json = JSON.parse(out);
    expect(json.threads).toHaveLength(1);
    const t = json.threads[0];
    for (const key of ['threadId', 'parentThreadId', 'agent', 'models', 'uncachedInputTokens', 'cachedInputTokens', 'cacheWriteInputTokens', 'outputTokens', 'reasoningOutputTokens', 'totalTokens', 'costUsd', 'estimated', 'firstSeen', 'lastSeen']) expect(t).toHaveProperty(key);
    expect(t).toMatchObject({ threadId: 't1', parentThreadId: null, agent: 'codex exec', models: ['gpt-5.1-codex'], uncachedInputTokens: 2600, cachedInputTokens: 400, outputTokens: 150, reasoningOutputTokens: 30, totalTokens: 3150, estimated: false });
    expect(t.costUsd).toBeGreaterThan(0);
    expect(json.warnings).toEqual([expect.objectContaining({ line: 4, reason: expect.stringContaining('not valid JSON') })]);
    expect(json.warnings[0].file).toContain('rollout-');
  });

  it('daily splits days at local midnight of --tz, and --since/--until filter', async () => {
    await fixture(); // events at 22:30:03Z and later: 23:30 in Berlin, 17:30 in New York
    const berlin = JSON.parse((await cli('daily', '--json', '--tz', 'Europe/Berlin', '--codex-home', home.root)).out);
    expect(berlin.days.map((d: { key: string }) => d.key)).toEqual(['2026-11-20']);
    const tokyo = JSON.parse((await cli('daily', '--json', '--tz', 'Asia/Tokyo', '--codex-home', home.root)).out);
    expect(tokyo.days.map((d: { key: string }) => d.key)).toEqual(['2026-11-21']);
    const after = JSON.parse((await cli('threads', '--json', '--since', '2026-11-21', '--tz', 'UTC', '--codex-home', home.root)).out);
    expect(after.threads).toEqual([]);
    const before = JSON.parse((await cli('threads', '--json', '--until', '2026-11-21', '--tz', 'UTC', '--codex-home', home.root)).out);
    expect(before.threads).toHaveLength(1);
  });

  it('prints human tables by default', async () => {
    await fixture();
    const { out, err } = await cli('agents', '--codex-home', home.root);
    expect(out).toMatch(/^Agent\s+Input\s+Cached/);
    expect(out).toContain('codex exec');
    expect(err).toContain('1 line(s) could not be used');
  });

  it('budget reports a broken config.toml with path and line, and exits 1', async () => {
    await fixture();
    await writeFile(home.path('config.toml'), `model = "gpt-5"\n[token_budget]\ntotal_budget = "a lot"\n`);
    const { code, err } = await cli('budget', '--codex-home', home.root);
    expect(code).toBe(1);
    expect(err).toContain(`${home.root}/config.toml:3: token_budget.total_budget must be a whole number of tokens`);
  });

  it('budget prints where usage stands', async () => {
    await fixture();
    await writeFile(home.path('config.toml'), `[token_budget]\ntotal_budget = 4000\nperiod = "all"\n[token_budget.per_agent_limits]\n"codex exec" = 3000\n`);
    const { code, out } = await cli('budget', '--codex-home', home.root);
    expect(code).toBe(0);
    expect(out).toContain('3,150 of 4,000 tokens (78.8%)');
    expect(out).toContain('Agent codex exec: 3,150 of 3,000 tokens (105.0%) — EXCEEDED');
    const json = JSON.parse((await cli('budget', '--json', '--codex-home', home.root)).out);
    expect(json.status.level).toBe('ok');
  });

  it('refuses unknown commands, options and time zones with exit 2', async () => {
    expect((await cli('tokens')).code).toBe(2);
    expect((await cli('threads', '--colour')).code).toBe(2);
    expect((await cli('threads', '--tz', 'Mars/Olympus')).code).toBe(2);
    expect((await cli('threads', '--since', 'yesterday-ish', '--codex-home', home.root)).code).toBe(2);
    expect((await cli('--help')).out).toContain('Usage: codex-meter');
  });

  it('prints its version with --version, before any other argument is looked at', async () => {
    let out = '';
    const code = await runCli(['threads', '--colour', '--version'], { out: (t) => (out += t), err: () => undefined, env: {}, version: 'codex-meter 9.9.9; genai-prices 1.2.3' });
    expect(code).toBe(0);
    expect(out).toBe('codex-meter 9.9.9; genai-prices 1.2.3\n');
    expect(await cli('--version')).toEqual({ code: 0, out: 'codex-meter (version unknown)\n', err: '' });
  });

  it('treats a missing Codex home as empty, not as an error', async () => {
    const { code, out } = await cli('threads', '--codex-home', home.path('does-not-exist'));
    expect(code).toBe(0);
    expect(out).toContain('No Codex usage found');
  });

  it("answers in Intl's zone when the system's, read from /etc/localtime, is one Intl does not know: in full, from the report cache, and a budget", async () => {
    await fixture();
    await writeFile(home.path('config.toml'), `[token_budget]\ntotal_budget = 4000\nperiod = "all"\n`);
    const state = home.path('state');
    // As runCli, with the system's zone taken to be one Intl lacks (a zone newer than Node's time-zone data).
    const run = async (...argv: string[]): Promise<{ code: number; cached: boolean; out: string; err: string }> => {
      let out = '';
      let err = '';
      const io: CliIo = { out: (t) => (out += t), err: (t) => (err += t), env: {}, reportCacheBuild: 'test build' };
      const inv = resolveInvocation(argv, io);
      if (typeof inv === 'number') throw new Error(`exit ${inv}: ${err}`);
      const unknown = { ...inv, timeZone: 'Mars/Olympus_Mons' };
      const rollouts = rolloutFilesNow(unknown.roots, silentLogger);
      const cached = await runFromReportCache(unknown, io, rollouts);
      const code = cached ?? (await runScan(unknown, io, await scanReaders(unknown, io), rollouts));
      return { code, cached: cached !== undefined, out, err };
    };
    const intlZone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    const expected = JSON.parse((await cli('daily', '--json', '--tz', intlZone, '--codex-home', home.root)).out);
    const full = await run('daily', '--json', '--state', state, '--codex-home', home.root);
    const again = await run('daily', '--json', '--state', state, '--codex-home', home.root);
    expect(full).toMatchObject({ code: 0, cached: false });
    expect(again).toMatchObject({ code: 0, cached: true });
    expect(JSON.parse(full.out).days).toEqual(expected.days);
    expect(JSON.parse(again.out).days).toEqual(expected.days);
    const budget = await run('budget', '--json', '--state', state, '--codex-home', home.root);
    expect(budget).toMatchObject({ code: 0, cached: true });
    expect(JSON.parse(budget.out)).toMatchObject({ period: { name: "all" }, status: { usedTokens: 3150 } });
  });

  it('keeps state with --state so the second run reads nothing new', async () => {
    await fixture();
    const state = home.path('state');
    const first = JSON.parse((await cli('threads', '--json', '--state', state, '--codex-home', home.root)).out);
    const second = JSON.parse((await cli('threads', '--json', '--state', state, '--codex-home', home.root)).out);
    expect(first.diagnostics.bytesRead).toBeGreaterThan(0);
    expect(second.diagnostics.bytesRead).toBe(0);
    expect(second.threads).toEqual(first.threads);
    expect(second.warnings).toEqual(first.warnings);
  });
});
