import { describe, expect, it } from 'vitest';
import { BudgetConfigStore, CrossingTracker, DEFAULT_BUDGET, evaluateBudget, parseBudgetToml, patchFromEnv, patchFromSettings, periodWindow } from '../../src/core/budget/index.js';

function reader(files: Record<string, string>) {
  return async (path: string) => files[path];
}

const home = '/home/u/.codex';
const ws = '/work/repo';

describe('budget configuration', () => {
  it('reads [token_budget] with per-agent limits and ignores Codex tables and [features.token_budget]', () => {
    const text = `model = "gpt-5"\n[features]\ntoken_budget = true\n\n[token_budget]\ntotal_budget = 5_000_000\nwarning_threshold = 75\nperiod = "week"\ncost_budget_usd = 40.5\n\n[token_budget.per_agent_limits]\n"code-reviewer" = 100_000\nexplorer = 2000\n`;
    const result = parseBudgetToml(`${home}/config.toml`, text);
    expect(result.problems).toEqual([]);
    expect(result.patch).toEqual({ totalBudget: 5_000_000, warningThreshold: 75, period: 'week', costBudgetUsd: 40.5, perAgentLimits: { 'code-reviewer': 100_000, explorer: 2000 } });
  });

  it('names file, line and key for a value of the wrong type', () => {
    const text = `# budget\n[token_budget]\ntotal_budget = 1000\nwarning_threshold = "high"\n`;
    const result = parseBudgetToml('/x/config.toml', text);
    expect(result.patch).toBeUndefined();
    expect(result.problems).toHaveLength(1);
    expect(result.problems[0]).toMatchObject({ line: 4, key: 'token_budget.warning_threshold', severity: 'error' });
    expect(result.problems[0]!.message).toBe('/x/config.toml:4: token_budget.warning_threshold must be a number from 0 to 100 (got "high")');
  });

  it('names the line of a bad per-agent limit and of a TOML syntax error', () => {
    const limits = parseBudgetToml('/x/config.toml', `[token_budget]\ntotal_budget = 10\n[token_budget.per_agent_limits]\nok = 5\nbad = -3\n`);
    expect(limits.problems[0]).toMatchObject({ line: 5, key: 'token_budget.per_agent_limits.bad' });
    const syntax = parseBudgetToml('/x/config.toml', `[token_budget]\ntotal_budget = 10\nwarning_threshold = = 3\n`);
    expect(syntax.patch).toBeUndefined();
    expect(syntax.problems[0]).toMatchObject({ line: 3, key: 'warning_threshold', severity: 'error' });
    expect(syntax.problems[0]!.message).toMatch(/^\/x\/config\.toml:3:\d+: invalid TOML at key warning_threshold/);
  });

  it('warns about unknown keys without discarding the rest', () => {
    const result = parseBudgetToml('/x/config.toml', `[token_budget]\ntotal_budget = 10\ntotal_budgett = 20\n`);
    expect(result.patch).toEqual({ totalBudget: 10 });
    expect(result.problems[0]).toMatchObject({ severity: 'warning', line: 3, key: 'token_budget.total_budgett' });
  });

  it('accepts top-level keys in a dedicated token-budget.toml', () => {
    expect(parseBudgetToml('/x/token-budget.toml', `total_budget = 7\n[per_agent_limits]\na = 1\n`).patch).toEqual({ totalBudget: 7, perAgentLimits: { a: 1 } });
  });

  it('layers home, token-budget.toml, trusted workspace, env and settings, later winning', async () => {
    const store = new BudgetConfigStore(reader({
      [`${home}/config.toml`]: `[token_budget]\ntotal_budget = 100\nwarning_threshold = 50\n[token_budget.per_agent_limits]\na = 1\n`,
      [`${home}/token-budget.toml`]: `[token_budget]\nperiod = "day"\n`,
      [`${ws}/.codex/config.toml`]: `[token_budget]\ntotal_budget = 200\n[token_budget.per_agent_limits]\nb = 2\n`,
    }));
    const trusted = await store.load({ codexHome: home, workspaceFolders: [ws], trusted: true, env: { CODEX_TOKEN_WARNING_THRESHOLD: '60' }, settings: { costBudgetUsd: 9 } });
    expect(trusted.budget).toEqual({ totalBudget: 200, warningThreshold: 60, period: 'day', costBudgetUsd: 9, perAgentLimits: { a: 1, b: 2 } });
    expect(trusted.sources.map((s) => s.source)).toEqual([`${home}/config.toml`, `${home}/token-budget.toml`, `${ws}/.codex/config.toml`, 'env', 'settings']);
    const untrusted = await store.load({ codexHome: home, workspaceFolders: [ws], trusted: false, env: { CODEX_TOKEN_BUDGET: '300' }, settings: { totalBudget: 400 } });
    expect(untrusted.budget.totalBudget).toBe(400);
    expect(untrusted.budget.perAgentLimits).toEqual({ a: 1 });
    const envOnly = await store.load({ codexHome: home, workspaceFolders: [], trusted: false, env: { CODEX_TOKEN_BUDGET: '300' } });
    expect(envOnly.budget.totalBudget).toBe(300);
  });

  it('keeps the last good budget of a file that breaks, and applies the fix', async () => {
    const files: Record<string, string> = { [`${home}/config.toml`]: `[token_budget]\ntotal_budget = 1000\n` };
    const store = new BudgetConfigStore(reader(files));
    const input = { codexHome: home, workspaceFolders: [], trusted: false, env: {} };
    expect((await store.load(input)).budget.totalBudget).toBe(1000);
    files[`${home}/config.toml`] = `[token_budget]\ntotal_budget = "lots"\n`;
    const broken = await store.load(input);
    expect(broken.budget.totalBudget).toBe(1000);
    expect(broken.problems[0]!.message).toContain('last good budget');
    files[`${home}/config.toml`] = `[token_budget]\ntotal_budget = 2000\n`;
    expect((await store.load(input)).budget.totalBudget).toBe(2000);
  });

  it('refuses bad env and settings values with a message and uses the default', () => {
    const env = patchFromEnv({ CODEX_TOKEN_BUDGET: 'a lot', CODEX_TOKEN_WARNING_THRESHOLD: '120' });
    expect(env.patch).toEqual({});
    expect(env.problems.map((p) => p.key)).toEqual(['CODEX_TOKEN_BUDGET', 'CODEX_TOKEN_WARNING_THRESHOLD']);
    const settings = patchFromSettings({ totalBudget: -5, warningThreshold: 101, budgetPeriod: 'fortnight', costBudgetUsd: -1, perAgentLimits: { a: 10, b: 'x' } });
    expect(settings.patch).toEqual({ perAgentLimits: { a: 10 } });
    expect(settings.problems).toHaveLength(5);
    expect(settings.problems[0]!.message).toMatch(/codexTokenMeter\.totalBudget must be a whole number.*default is used/);
  });
});

describe('budget periods', () => {
  it('starts days, weeks (Monday) and months at local midnight, DST days included', () => {
    const now = new Date('2026-11-01T15:00:00Z'); // Sunday; New York leaves DST at 06:00Z this day
    const day = periodWindow('day', now, 'America/New_York');
    expect(day.start!.toISOString()).toBe('2026-11-01T04:00:00.000Z');
    expect(day.end!.toISOString()).toBe('2026-11-02T05:00:00.000Z');
    const week = periodWindow('week', now, 'America/New_York');
    expect(week.start!.toISOString()).toBe('2026-10-26T04:00:00.000Z'); // Monday 26 October, EDT
    const month = periodWindow('month', new Date('2026-11-24T12:00:00Z'), 'Europe/Berlin');
    expect(month.start!.toISOString()).toBe('2026-10-31T23:00:00.000Z');
    expect(month.end!.toISOString()).toBe('2026-11-30T23:00:00.000Z');
    expect(periodWindow('all', now, 'UTC').start).toBeUndefined();
  });

  it('moves the start to a later reset and changes the period key', () => {
    const now = new Date('2026-11-24T12:00:00Z');
    const reset = new Date('2026-11-20T08:00:00Z');
    const w = periodWindow('month', now, 'UTC', reset);
    expect(w.start).toEqual(reset);
    expect(w.key).not.toBe(periodWindow('month', now, 'UTC').key);
    expect(periodWindow('month', now, 'UTC', new Date('2026-10-01T00:00:00Z')).start!.toISOString()).toBe('2026-11-01T00:00:00.000Z');
  });
});

describe('budget evaluation and notifications', () => {
  const budget = { ...DEFAULT_BUDGET, totalBudget: 1_000_000, perAgentLimits: { 'code-reviewer': 100_000 } };

  it('levels: ok, warning at the threshold, exceeded at 100 %', () => {
    const at = (n: number) => evaluateBudget(budget, { totalTokens: n, estimatedTokens: 0, perAgent: [] }).level;
    expect(at(799_999)).toBe('ok');
    expect(at(800_000)).toBe('warning');
    expect(at(1_000_000)).toBe('exceeded');
    expect(evaluateBudget(DEFAULT_BUDGET, { totalTokens: 5, estimatedTokens: 0, perAgent: [] }).percent).toBeUndefined();
  });

  it('announces each crossing once per period, phrased for people', () => {
    const tracker = new CrossingTracker();
    const status = (total: number, reviewer: number) => evaluateBudget(budget, { totalTokens: total, estimatedTokens: 0, perAgent: [{ agent: 'code-reviewer', totalTokens: reviewer }] });
    expect(tracker.update(status(100, 10), budget, 'month:2026-11-01', 'this month')).toEqual([]);
    const first = tracker.update(status(820_000, 98_000), budget, 'month:2026-11-01', 'this month');
    expect(first.map((c) => c.message)).toEqual([
      'Codex token budget at 82% (820,000 of 1,000,000 tokens this month)',
      'Agent code-reviewer would exceed its limit of 100,000 tokens (current: 98,000)',
    ]);
    expect(tracker.update(status(830_000, 99_000), budget, 'month:2026-11-01', 'this month')).toEqual([]);
    const over = tracker.update(status(1_020_000, 104_500), budget, 'month:2026-11-01', 'this month');
    expect(over.map((c) => c.message)).toEqual([
      'Codex token budget exceeded: 1,020,000 of 1,000,000 tokens this month',
      'Agent code-reviewer exceeded its limit of 100,000 tokens (current: 104,500)',
    ]);
    const restored = new CrossingTracker(JSON.parse(JSON.stringify(tracker.snapshot)));
    expect(restored.update(status(1_030_000, 105_000), budget, 'month:2026-11-01', 'this month')).toEqual([]);
    expect(restored.update(status(900_000, 0), budget, 'month:2026-12-01', 'this month')).toHaveLength(1);
  });
});

describe('last good budget across restarts', () => {
  it('remembers each file’s last good values as plain JSON for the next run', async () => {
    const files: Record<string, string> = { [`${home}/config.toml`]: `[token_budget]\ntotal_budget = 1000\n` };
    const first = new BudgetConfigStore(reader(files));
    const input = { codexHome: home, workspaceFolders: [], trusted: false, env: {} };
    await first.load(input);
    files[`${home}/config.toml`] = `[token_budget]\ntotal_budget = -1\n`;
    const second = new BudgetConfigStore(reader(files), JSON.parse(JSON.stringify(first.remembered())));
    const loaded = await second.load(input);
    expect(loaded.budget.totalBudget).toBe(1000);
    expect(loaded.problems[0]!.severity).toBe('error');
  });
});
