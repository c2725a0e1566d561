import { describe, expect, it } from 'vitest';
import { DEFAULT_BUDGET, evaluateBudget } from '../../../src/core/budget/index.js';
import { escapeMarkdown, meterView, scanningView, TOOLTIP_COMMANDS } from '../../../src/extension/meterText.js';
import { type MeterSummary } from '../../../src/core/meterCache.js';

const summary = (overrides: Partial<MeterSummary> = {}): MeterSummary => ({
  buckets: { uncachedInput: 500_000, cachedInput: 100_000, cacheWriteInput: 0, output: 20_000, reasoningOutput: 5_000 },
  totalTokens: 620_000,
  costUsd: 1.23,
  unpricedTokens: 0,
  estimatedTokens: 0,
  agents: [{ agent: 'Codex CLI', kind: 'top-level', totalTokens: 600_000 }, { agent: '[evil](command:workbench.action.terminal.new) <b>x</b>', kind: 'thread_spawn', totalTokens: 20_000 }],
  rateLimits: { observedAt: '2026-11-24T10:00:00Z', primary: { usedPercent: 42, windowMinutes: 300, resetsAt: Date.parse('2026-11-24T11:30:00Z') } },
  badLines: 0,
  files: 3,
  ...overrides,
});

function view(totalBudget: number, s = summary(), lastSession?: 'unchecked' | 'stale') {
  const budget = { ...DEFAULT_BUDGET, totalBudget };
  const status = evaluateBudget(budget, { totalTokens: s.totalTokens, costUsd: s.costUsd, estimatedTokens: s.estimatedTokens, perAgent: s.agents.map((a) => ({ agent: a.agent, totalTokens: a.totalTokens })) });
  return meterView({ summary: s, budget, status, periodLabel: 'this month', periodEnds: undefined, now: new Date('2026-11-24T10:00:00Z'), ...(lastSession ? { lastSession } : {}) });
}

describe('status bar meter text', () => {
  it('shows share and amount with a budget, tokens and cost without', () => {
    expect(view(1_000_000).text).toBe('$(pulse) 62% · 620k/1M');
    expect(view(1_000_000).level).toBe('ok');
    expect(view(0).text).toBe('$(pulse) 620k tokens · $1.23');
    expect(view(0, summary({ costUsd: undefined })).text).toBe('$(pulse) 620k tokens');
  });

  it('turns to warning at the threshold and error at 100 %', () => {
    expect(view(775_000).level).toBe('warning'); // 80 %
    expect(view(620_000).level).toBe('error');
  });

  it('says so while it shows the last session\'s figures, not yet checked, and spins once they are known to be behind', () => {
    const unchecked = view(1_000_000, summary(), 'unchecked');
    expect(unchecked.text).toBe(view(1_000_000).text);
    expect(unchecked.tooltip).toContain('The last session\'s figures: checking the Codex logs for anything new');
    expect(unchecked.accessibility).toMatch(/from the last session, checking the logs for new usage$/);
    const stale = view(1_000_000, summary(), 'stale');
    expect(stale.text).toBe('$(sync~spin) 62% · 620k/1M');
    expect(view(0, summary(), 'stale').text).toBe('$(sync~spin) 620k tokens · $1.23');
    expect(stale.tooltip).toContain('The last session\'s figures: reading what the Codex logs gained since');
    expect(stale.accessibility).toMatch(/from the last session, reading the usage since$/);
    expect(view(1_000_000).tooltip).not.toContain('last session');
  });

  it('spins while the first scan runs', () => {
    expect(scanningView(3, 10).text).toBe('$(sync~spin) Codex');
    expect(scanningView(3, 10).tooltip).toContain('3 of 10 rollout files');
  });
});

describe('tooltip', () => {
  it('breaks down buckets, cost, agents and rate limits, and links only this extension’s commands', () => {
    const t = view(1_000_000).tooltip;
    expect(t).toContain('| Cached input | 100,000 |');
    expect(t).toContain('of which reasoning | 5,000');
    expect(t).toContain('Cost: **$1.23**');
    expect(t).toContain('5-hour: 42% used, resets in 1 h 30 min');
    // Real links only: `](command:` whose bracket is not escaped.
    const linked = [...t.matchAll(/(?<!\\)\]\(command:([\w.]+)/g)].map((m) => m[1]);
    expect(linked.length).toBeGreaterThan(0);
    for (const command of linked) expect(TOOLTIP_COMMANDS).toContain(command);
  });

  it('escapes log-derived names so they cannot become links or HTML', () => {
    const t = view(1_000_000).tooltip;
    expect(t).not.toContain('[evil](command:workbench.action.terminal.new)');
    expect(t).not.toContain('<b>');
    expect(escapeMarkdown('[a](command:x) <img> *b* `c`')).toBe('\\[a\\]\\(command:x\\) &lt;img\\> \\*b\\* \\`c\\`');
  });
});
