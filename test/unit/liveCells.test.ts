import { describe, expect, it } from 'vitest';
import { UsageLedger } from '../../src/core/ledger.js';
import { type ThreadInfo, type UsageIncrement } from '../../src/core/ledgerTypes.js';
import { cellsOfDays } from '../../src/core/dayCells.js';
import { LiveCells, LiveCellViews } from '../../src/core/liveCells.js';
import { type CellOptions, collectCells, type Pricer, reportFromCells, summaryFromCells } from '../../src/core/reports.js';
import { startOfLocalDay } from '../../src/core/timeZones.js';
import { totalTokens, type TokenBuckets } from '../../src/core/usage.js';

/** Prices m-a and m-b at odd rates (so sums in another order would differ in their last bits), and counts its calls. */
class CountingPricer implements Pricer {
  calls = 0;
  price(model: string | undefined, buckets: TokenBuckets) {
    this.calls += 1;
    const rate = model === 'm-a' ? 0.0000031 : model === 'm-b' ? 0.0000173 : undefined;
    return rate === undefined ? { usd: undefined, known: false } : { usd: totalTokens(buckets) * rate, known: true };
  }
}

/** A small deterministic generator (mulberry32), so a failing sequence can be run again. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const fileOf = (thread: number): string => `/h/sessions/2026/11/0${1 + (thread % 9)}/rollout-T${thread}.jsonl`;
const info = (thread: number, agent: string, cwd: string): ThreadInfo => ({
  threadId: `T${thread}`, file: fileOf(thread), cwd, agent: { id: `originator:${agent}`, name: agent, kind: 'top-level' },
});

function increment(rand: () => number, n: number, thread: number): UsageIncrement {
  const day = 1 + Math.floor(rand() * 28);
  const out = Math.floor(rand() * 900);
  return {
    key: `k${n}`,
    threadId: `T${thread}`,
    timestamp: `2026-11-${String(day).padStart(2, '0')}T${String(Math.floor(rand() * 24)).padStart(2, '0')}:30:00.000Z`,
    ...(rand() < 0.8 ? { model: rand() < 0.5 ? 'm-a' : rand() < 0.7 ? 'm-b' : 'mystery' } : {}),
    ...(rand() < 0.3 ? { cwd: `/p/${Math.floor(rand() * 3)}` } : {}),
    source: rand() < 0.1 ? 'estimate' : 'snapshot',
    buckets: { uncachedInput: Math.floor(rand() * 5000), cachedInput: Math.floor(rand() * 3000), cacheWriteInput: 0, output: out, reasoningOutput: Math.floor(out / 3) },
  };
}

/** `increments` random increments over threads T0…T(withMeta), all but the last with session metadata (agents codex and exec). */
function randomLedger(seed: number, withMeta: number, increments: number): UsageLedger {
  const rand = random(seed);
  const ledger = new UsageLedger();
  for (let t = 0; t < withMeta; t += 1) ledger.setThread(info(t, t % 2 ? 'exec' : 'codex', `/p/${t}`));
  for (let n = 0; n < increments; n += 1) {
    const thread = Math.floor(rand() * (withMeta + 1));
    ledger.add(fileOf(thread), increment(rand, n, thread));
  }
  return ledger;
}

describe('UsageLedger.forEachIncrementFrom', () => {
  it('visits only what was added since a position, and refuses a position once increments were taken out', () => {
    const rand = random(1);
    const ledger = new UsageLedger();
    for (let n = 0; n < 3; n += 1) ledger.add(fileOf(1), increment(rand, n, 1));
    const start = ledger.incrementsEnd;
    for (let n = 3; n < 5; n += 1) ledger.add(fileOf(2), increment(rand, n, 2));
    ledger.add(fileOf(3), { ...increment(rand, 0, 1), key: 'k0' }); // a key seen before: no new increment
    const seen: string[] = [];
    const end = ledger.forEachIncrementFrom(start, (inc) => seen.push(inc.key));
    expect(seen).toEqual(['k3', 'k4']);
    expect(ledger.forEachIncrementFrom(end!, () => seen.push('again'))).toEqual(end);
    expect(seen).toHaveLength(2);

    ledger.removeFile(fileOf(2));
    expect(ledger.forEachIncrementFrom(end!, () => seen.push('after removal'))).toBeUndefined();
    expect(seen).toHaveLength(2);
  });

  it('refuses a position taken on a loaded state once the state is indexed (its first add)', () => {
    const rand = random(2);
    const original = new UsageLedger();
    for (let n = 0; n < 4; n += 1) original.add(fileOf(1), increment(rand, n, 1));
    const loaded = UsageLedger.fromJSON(JSON.parse(JSON.stringify(original)));
    const before = loaded.incrementsEnd;
    expect(before.next).toBe(4);
    loaded.add(fileOf(1), increment(rand, 4, 1));
    expect(loaded.forEachIncrementFrom(before, () => undefined)).toBeUndefined();
  });
});

describe('LiveCells', () => {
  const options = (pricer: Pricer, since?: string, until?: string): CellOptions => ({
    timeZone: 'Europe/Berlin', pricer, ...(since ? { since: new Date(since) } : {}), ...(until ? { until: new Date(until) } : {}),
  });

  it('gives what collectCells gives, to the last bit, through appends, re-reports, removals, thread changes and a reload', () => {
    for (const seed of [3, 4, 5]) {
      const rand = random(seed);
      let ledger = new UsageLedger();
      for (let t = 0; t < 6; t += 1) ledger.setThread(info(t, 'codex', `/p/t${t}`));
      const pricer = new CountingPricer();
      const windows = [options(pricer), options(pricer, '2026-11-10T00:00:00Z', '2026-11-20T00:00:00Z')];
      let views = windows.map((o) => new LiveCells(ledger, o));
      let n = 0;
      for (let step = 0; step < 60; step += 1) {
        const r = rand();
        if (r < 0.6) {
          for (let k = 0, count = 1 + Math.floor(rand() * 5); k < count; k += 1) {
            const thread = Math.floor(rand() * 8); // T6 and T7 have no session_meta yet
            ledger.add(fileOf(thread), increment(rand, n++, thread));
          }
        } else if (r < 0.7) {
          ledger.add('/h/archived_sessions/copy.jsonl', { ...increment(rand, 0, 0), key: `k${Math.floor(rand() * n)}` });
        } else if (r < 0.8) {
          ledger.removeFile(fileOf(Math.floor(rand() * 8)));
        } else if (r < 0.87) {
          const t = Math.floor(rand() * 8);
          ledger.setThread(info(t, rand() < 0.5 ? 'codex' : 'exec', `/p/moved${step}`));
        } else if (r < 0.93) {
          ledger.noteRateLimits({ observedAt: `2026-11-30T00:00:${String(step).padStart(2, '0')}.000Z`, primary: { usedPercent: step, windowMinutes: 300 } });
        } else {
          ledger = UsageLedger.fromJSON(JSON.parse(JSON.stringify(ledger)));
          views = windows.map((o) => new LiveCells(ledger, o));
        }
        views.forEach((view, i) => expect(view.current(), `seed ${seed}, step ${step}, window ${i}`).toEqual(collectCells(ledger, windows[i]!)));
      }
    }
  });

  it('prices only the increments added since it last looked', () => {
    const rand = random(6);
    const ledger = new UsageLedger();
    ledger.setThread(info(1, 'codex', '/p'));
    for (let n = 0; n < 500; n += 1) ledger.add(fileOf(1), increment(rand, n, 1));
    const pricer = new CountingPricer();
    const view = new LiveCells(ledger, options(pricer));
    view.current();
    expect(pricer.calls).toBe(500);
    ledger.add(fileOf(1), increment(rand, 500, 1));
    ledger.add(fileOf(1), increment(rand, 501, 1));
    view.current();
    expect(pricer.calls).toBe(502);
    // A thread seen for the first time, and a thread with no increments here, leave the sums as they are.
    ledger.setThread(info(2, 'exec', '/q'));
    ledger.add(fileOf(2), increment(rand, 502, 2));
    view.current();
    expect(pricer.calls).toBe(503);
    expect(view.fullSums).toBe(1);
    // New metadata for a thread already summed (its agent or cwd may change the cells): summed again.
    ledger.setThread(info(1, 'exec', '/p/elsewhere'));
    expect(view.current()).toEqual(collectCells(ledger, options(new CountingPricer())));
    expect(view.fullSums).toBe(2);
    expect(pricer.calls).toBe(503 + 503);
  });
});

describe('LiveCellViews', () => {
  it('keeps a view per period, time zone, price book and ledger, the most recent few', () => {
    const rand = random(7);
    const ledger = new UsageLedger();
    for (let n = 0; n < 50; n += 1) ledger.add(fileOf(1), increment(rand, n, 1));
    const pricer = new CountingPricer();
    const views = new LiveCellViews(2);
    const all = { timeZone: 'UTC', pricer };
    const november = { timeZone: 'UTC', pricer, since: new Date('2026-11-01T00:00:00Z'), until: new Date('2026-12-01T00:00:00Z') };
    views.cells(ledger, all);
    views.cells(ledger, { ...november, since: new Date(november.since) }); // equal instants, other Date objects
    expect(pricer.calls).toBe(100);
    views.cells(ledger, all);
    views.cells(ledger, november);
    expect(pricer.calls).toBe(100);
    ledger.add(fileOf(1), increment(rand, 50, 1));
    expect(views.cells(ledger, all)).toEqual(collectCells(ledger, { ...all, pricer: new CountingPricer() }));
    expect(pricer.calls).toBe(101);

    views.cells(ledger, { ...all, timeZone: 'Asia/Tokyo' }); // a third view: november's, the oldest, goes
    expect(pricer.calls).toBe(152);
    views.cells(ledger, november);
    expect(pricer.calls).toBe(203);
    views.cells(ledger, { ...all, pricer: new CountingPricer() });
    views.cells(UsageLedger.fromJSON(JSON.parse(JSON.stringify(ledger))), november);
    views.clear();
    views.cells(ledger, november);
    expect(pricer.calls).toBe(254 + 51);
  });
});

describe('summaryFromCells', () => {
  it('gives reportFromCells’ totals and agents', () => {
    const ledger = randomLedger(8, 5, 400);
    const cells = collectCells(ledger, { timeZone: 'UTC', pricer: new CountingPricer() });
    const report = reportFromCells(cells, {});
    const summary = summaryFromCells(cells);
    expect(summary.totals).toEqual(report.totals);
    expect(summary.agents).toEqual(report.agents);
    expect(summary.agents.map((a) => a.key)).toEqual(['originator:codex', 'originator:exec', 'unknown']);
  });
});

describe('cellsOfDays', () => {
  const zone = 'Europe/Berlin';
  const midnight = (day: string): Date => startOfLocalDay(day, zone);

  const ledgerOverNovember = (): UsageLedger => randomLedger(9, 4, 600);

  it('gives the figures a sum over whole local days gives, from the cells of all time', () => {
    const ledger = ledgerOverNovember();
    const pricer = new CountingPricer();
    const all = collectCells(ledger, { timeZone: zone, pricer });
    const windows: [Date | undefined, Date | undefined][] = [
      [midnight('2026-11-10'), midnight('2026-11-11')],
      [midnight('2026-11-09'), midnight('2026-11-16')],
      [midnight('2026-11-01'), midnight('2026-12-01')],
      [midnight('2026-11-20'), undefined],
      [undefined, midnight('2026-11-05')],
      [undefined, undefined],
      [midnight('2026-12-02'), midnight('2026-12-03')], // nothing in it
    ];
    for (const [since, until] of windows) {
      const days = cellsOfDays(all, since, until)!;
      const direct = collectCells(ledger, { timeZone: zone, pricer, since, until });
      const got = summaryFromCells(days);
      const expected = summaryFromCells(direct);
      const label = `${since?.toISOString()}..${until?.toISOString()}`;
      expect({ ...got.totals, costUsd: undefined }, label).toEqual({ ...expected.totals, costUsd: undefined });
      expect(got.totals.costUsd ?? 0, label).toBeCloseTo(expected.totals.costUsd ?? 0, 9);
      expect(got.agents.map((a) => [a.key, a.totalTokens, a.threads]), label).toEqual(expected.agents.map((a) => [a.key, a.totalTokens, a.threads]));
      expect(days.since, label).toBe(since?.toISOString());
      expect(days.until, label).toBe(until?.toISOString());
    }
  });

  it('gives nothing for a period that does not start and end at local midnights, or that the cells do not cover', () => {
    const ledger = ledgerOverNovember();
    const pricer = new CountingPricer();
    const all = collectCells(ledger, { timeZone: zone, pricer });
    expect(cellsOfDays(all, new Date('2026-11-10T00:00:00Z'), midnight('2026-11-12'))).toBeUndefined(); // UTC midnight, 01:00 in Berlin
    expect(cellsOfDays(all, midnight('2026-11-10'), new Date(midnight('2026-11-12').getTime() + 1))).toBeUndefined();
    const november = collectCells(ledger, { timeZone: zone, pricer, since: midnight('2026-11-01'), until: midnight('2026-12-01') });
    expect(cellsOfDays(november, midnight('2026-11-03'), midnight('2026-11-04'))).toBeDefined();
    expect(cellsOfDays(november, midnight('2026-10-31'), midnight('2026-11-04'))).toBeUndefined();
    expect(cellsOfDays(november, midnight('2026-11-03'), undefined)).toBeUndefined();
  });
});
