import { describe, expect, it } from 'vitest';
import { UsageLedger } from '../../src/core/ledger.js';
import { type ThreadInfo, type UsageIncrement } from '../../src/core/ledgerTypes.js';
import { buildReport, type Pricer, totalTokensBetween } from '../../src/core/reports.js';
import { parseDateBoundary } from '../../src/core/timeZones.js';
import { totalTokens, type TokenBuckets } from '../../src/core/usage.js';

const B = (uncachedInput: number, cachedInput: number, output: number, reasoningOutput = 0, cacheWriteInput = 0): TokenBuckets => ({ uncachedInput, cachedInput, cacheWriteInput, output, reasoningOutput });

/** $1 per 1000 tokens for m-a, $2 per 1000 for m-b, nothing else known. */
class FakePricer implements Pricer {
  readonly calls: { model: string | undefined; at: string }[] = [];
  price(model: string | undefined, buckets: TokenBuckets, at: Date) {
    this.calls.push({ model, at: at.toISOString() });
    const rate = model === 'm-a' ? 0.001 : model === 'm-b' ? 0.002 : undefined;
    return rate === undefined ? { usd: undefined, known: false } : { usd: totalTokens(buckets) * rate, known: true };
  }
}

function build(): UsageLedger {
  const ledger = new UsageLedger();
  const threads: ThreadInfo[] = [
    { threadId: 'T1', file: '/h/sessions/2026/11/20/rollout-T1.jsonl', cwd: '/p/one', agent: { id: 'originator:codex_cli_rs', name: 'Codex CLI', kind: 'top-level' } },
    { threadId: 'T2', file: '/h/sessions/2026/11/21/rollout-T2.jsonl', cwd: '/p/one/sub', parentThreadId: 'T1', agent: { id: 'subagent:Curie', name: 'Curie', kind: 'thread_spawn', parentThreadId: 'T1' } },
    { threadId: 'T3', file: '/h/sessions/2026/11/22/rollout-T3.jsonl', cwd: '/p/two', agent: { id: 'originator:codex_exec', name: 'codex exec', kind: 'top-level' } },
    { threadId: 'T4', file: '/h/archived_sessions/rollout-T4.jsonl', agent: { id: 'originator:unknown', name: 'Codex', kind: 'top-level' } },
  ];
  for (const t of threads) ledger.setThread(t);
  const incs: UsageIncrement[] = [
    // 23:30 local on Nov 20 in Berlin (UTC+1): 1000+500+100 = 1600 tokens
    { key: 'i1', threadId: 'T1', timestamp: '2026-11-20T22:30:00.000Z', model: 'm-a', source: 'snapshot', buckets: B(1000, 500, 100, 40) },
    // 00:30 local on Nov 21: 250 tokens; same UTC day as i1
    { key: 'i2', threadId: 'T1', timestamp: '2026-11-20T23:30:00.000Z', model: 'm-a', source: 'snapshot', buckets: B(200, 0, 50) },
    { key: 'i3', threadId: 'T2', timestamp: '2026-11-21T10:00:00.000Z', model: 'm-b', cwd: '/p/one/sub', source: 'record', buckets: B(300, 0, 100, 0, 100) },
    { key: 'i4', threadId: 'T3', timestamp: '2026-11-22T09:00:00.000Z', model: 'mystery', source: 'record', buckets: B(1000, 0, 0) },
    { key: 'i5', threadId: 'T4', timestamp: '2026-11-19T12:00:00.000Z', source: 'estimate', buckets: B(50, 0, 10) },
  ];
  for (const inc of incs) ledger.add(ledger.thread(inc.threadId)!.file, inc);
  ledger.noteRateLimits({ observedAt: '2026-11-22T09:00:00.000Z', primary: { usedPercent: 12, windowMinutes: 300 } });
  return ledger;
}

const projectOf = (cwd: string | undefined) => (cwd === undefined ? undefined : cwd.startsWith('/p/one') ? '/p/one' : cwd);
const rows = <T extends { key: string; totalTokens: number }>(list: T[]) => list.map((r) => [r.key, r.totalTokens]);

describe('buildReport', () => {
  it('sums everything, priced per increment; unknown models are unpriced, never $0', () => {
    const pricer = new FakePricer();
    const r = buildReport(build(), { timeZone: 'Europe/Berlin', pricer, projectOf });
    expect(r.totals.totalTokens).toBe(1600 + 250 + 500 + 1000 + 60);
    expect(r.totals.buckets).toEqual(B(2550, 500, 260, 40, 100));
    expect(r.totals.costUsd).toBeCloseTo(1.85 + 1.0, 10);
    expect(r.totals.unpricedTokens).toBe(1060);
    expect(r.totals.estimatedTokens).toBe(60);
    expect(r.totals.responses).toBe(5);
    expect(r.totals.firstSeen).toBe('2026-11-19T12:00:00.000Z');
    expect(r.totals.lastSeen).toBe('2026-11-22T09:00:00.000Z');
    expect(r.cacheHitRate).toBeCloseTo(500 / 3150, 12);
    expect(r.reasoningShare).toBeCloseTo(40 / 260, 12);
    expect(r.rateLimits!.primary!.usedPercent).toBe(12);
    expect(pricer.calls).toContainEqual({ model: 'm-a', at: '2026-11-20T22:30:00.000Z' });
    expect(pricer.calls).toContainEqual({ model: undefined, at: '2026-11-19T12:00:00.000Z' });
  });

  it('groups by local day: 23:30 and 00:30 in Berlin fall on two days, in UTC on one', () => {
    const berlin = buildReport(build(), { timeZone: 'Europe/Berlin', pricer: new FakePricer() });
    expect(rows(berlin.days)).toEqual([['2026-11-19', 60], ['2026-11-20', 1600], ['2026-11-21', 750], ['2026-11-22', 1000]]);
    const utc = buildReport(build(), { timeZone: 'UTC', pricer: new FakePricer() });
    expect(rows(utc.days)).toEqual([['2026-11-19', 60], ['2026-11-20', 1850], ['2026-11-21', 500], ['2026-11-22', 1000]]);
  });

  it('groups by agent, model and project, largest first, with the model without a price left unpriced', () => {
    const r = buildReport(build(), { timeZone: 'UTC', pricer: new FakePricer(), projectOf });
    expect(r.agents.map((a) => [a.key, a.label, a.kind, a.totalTokens, a.threads])).toEqual([
      ['originator:codex_cli_rs', 'Codex CLI', 'top-level', 1850, 1],
      ['originator:codex_exec', 'codex exec', 'top-level', 1000, 1],
      ['subagent:Curie', 'Curie', 'thread_spawn', 500, 1],
      ['originator:unknown', 'Codex', 'top-level', 60, 1],
    ]);
    expect(rows(r.models)).toEqual([['m-a', 1850], ['mystery', 1000], ['m-b', 500], ['unknown', 60]]);
    const mystery = r.models.find((m) => m.key === 'mystery')!;
    expect(mystery.costUsd).toBeUndefined();
    expect(mystery.unpricedTokens).toBe(1000);
    expect(r.models.find((m) => m.key === 'm-b')!.costUsd).toBeCloseTo(1.0, 12);
    expect(r.projects.map((p) => [p.key, p.label, p.totalTokens])).toEqual([['/p/one', '/p/one', 2350], ['/p/two', '/p/two', 1000], ['(unknown)', '(unknown project)', 60]]);
  });

  it('gives one row per thread, newest first, with parent, agent, models, project and flags', () => {
    const r = buildReport(build(), { timeZone: 'UTC', pricer: new FakePricer(), projectOf });
    expect(r.threads.map((t) => t.threadId)).toEqual(['T3', 'T2', 'T1', 'T4']);
    const [t3, t2, t1, t4] = r.threads;
    expect(t1).toMatchObject({ totalTokens: 1850, responses: 2, models: ['m-a'], project: '/p/one', cwd: '/p/one', agent: 'Codex CLI', estimated: false, archived: false, parentThreadId: undefined });
    expect(t1!.costUsd).toBeCloseTo(1.85, 12);
    expect(t2).toMatchObject({ parentThreadId: 'T1', agent: 'Curie', agentKind: 'thread_spawn', agentId: 'subagent:Curie', project: '/p/one', cwd: '/p/one/sub' });
    expect(t3).toMatchObject({ costUsd: undefined, unpricedTokens: 1000 });
    expect(t4).toMatchObject({ estimated: true, archived: true, models: ['unknown'], project: undefined, estimatedTokens: 60 });
  });

  it('filters by since (inclusive) and until (exclusive), days being local midnights', () => {
    const zone = 'Europe/Berlin';
    const since = parseDateBoundary('2026-11-21', zone); // 2026-11-20T23:00Z
    const until = parseDateBoundary('2026-11-22', zone); // 2026-11-21T23:00Z
    const r = buildReport(build(), { timeZone: zone, pricer: new FakePricer(), since, until });
    expect(r.since).toBe('2026-11-20T23:00:00.000Z');
    expect(r.until).toBe('2026-11-21T23:00:00.000Z');
    expect(r.totals.totalTokens).toBe(250 + 500);
    expect(rows(r.days)).toEqual([['2026-11-21', 750]]);
    const exact = buildReport(build(), { timeZone: zone, pricer: new FakePricer(), since: new Date('2026-11-20T23:30:00.000Z'), until: new Date('2026-11-21T10:00:00.000Z') });
    expect(exact.totals.totalTokens).toBe(250);
    expect(totalTokensBetween(build(), since, until)).toBe(750);
    expect(totalTokensBetween(build(), undefined)).toBe(3410);
    expect(totalTokensBetween(build(), new Date('2026-11-22T00:00:00Z'))).toBe(1000);
  });

  it('filters by agent, model and project', () => {
    const opts = { timeZone: 'UTC', pricer: new FakePricer(), projectOf };
    expect(buildReport(build(), { ...opts, agentId: 'subagent:Curie' }).totals.totalTokens).toBe(500);
    const mystery = buildReport(build(), { ...opts, model: 'mystery' });
    expect(mystery.totals).toMatchObject({ totalTokens: 1000, costUsd: undefined, unpricedTokens: 1000 });
    expect(buildReport(build(), { ...opts, project: '/p/one' }).totals.totalTokens).toBe(2350);
    expect(buildReport(build(), { ...opts, model: 'nothing-like-it' }).totals).toMatchObject({ totalTokens: 0, responses: 0, costUsd: undefined });
  });

  it('an empty ledger gives an empty report without rates', () => {
    const r = buildReport(new UsageLedger(), { timeZone: 'UTC', pricer: new FakePricer() });
    expect(r.totals.totalTokens).toBe(0);
    expect(r.cacheHitRate).toBeUndefined();
    expect(r.reasoningShare).toBeUndefined();
    expect([r.threads, r.agents, r.models, r.projects, r.days]).toEqual([[], [], [], [], []]);
  });

  it('puts an increment whose thread has no session_meta under an unknown agent', () => {
    const ledger = new UsageLedger();
    ledger.add('/f', { key: 'k', threadId: 'ghost', timestamp: '2026-11-20T10:00:00.000Z', model: 'm-a', source: 'snapshot', buckets: B(10, 0, 1) });
    const r = buildReport(ledger, { timeZone: 'UTC', pricer: new FakePricer() });
    expect(r.agents.map((a) => [a.key, a.label])).toEqual([['unknown', 'Unknown']]);
    expect(r.threads[0]).toMatchObject({ threadId: 'ghost', archived: false, cwd: undefined });
  });
});

describe('the same ledger read in another order', () => {
  it('reports the same figures, to the last digit, and the same row order', async () => {
    const { UsageLedger } = await import('../../src/core/ledger.js');
    const { buildReport } = await import('../../src/core/reports.js');
    const pricer = { price: (_m: string | undefined, b: { output: number }) => ({ usd: b.output * 0.1 + 0.2, known: true }) };
    const incs = Array.from({ length: 200 }, (_, i) => ({
      key: `k${i}`, threadId: `t${i % 7}`, timestamp: `2026-11-${String(10 + (i % 5)).padStart(2, '0')}T10:00:00.000Z`, model: i % 3 ? 'a' : 'b', source: 'snapshot' as const,
      buckets: { uncachedInput: 1, cachedInput: 0, cacheWriteInput: 0, output: i % 13, reasoningOutput: 0 },
    }));
    const report = (order: typeof incs) => {
      const ledger = new UsageLedger();
      for (const inc of order) ledger.add('/f', inc);
      return JSON.stringify(buildReport(ledger, { timeZone: 'UTC', pricer }));
    };
    expect(report([...incs].reverse())).toBe(report(incs));
    expect(report([...incs.slice(100), ...incs.slice(0, 100)])).toBe(report(incs));
  });
});
