import { describe, expect, it } from 'vitest';
import { UsageLedger } from '../../src/core/ledger.js';
import { LiveCells, LiveCellViews } from '../../src/core/liveCells.js';
import { type StoredStamp } from '../../src/core/cacheStamp.js';
import { emptyCounters } from '../../src/core/ledgerTypes.js';
import { decodeCells, encodeReportCache } from '../../src/core/reportCache.js';
import { CellCollector, type CellOptions, collectCells, type Pricer, type ReportCells, reportFromCells, summaryFromCells } from '../../src/core/reports.js';
import { CountingPricer, fileOf, increment, info, random, randomLedger } from './helpers/randomLedger.js';

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

  it('keeps a position taken on a loaded state valid once the state is indexed (its first add): slots keep their numbers', () => {
    const rand = random(2);
    const original = new UsageLedger();
    for (let n = 0; n < 4; n += 1) original.add(fileOf(1), increment(rand, n, 1));
    const loaded = UsageLedger.fromJSON(JSON.parse(JSON.stringify(original)));
    const before = loaded.incrementsEnd;
    expect(before.next).toBe(4);
    loaded.add(fileOf(1), increment(rand, 4, 1));
    const seen: string[] = [];
    expect(loaded.forEachIncrementFrom(before, (inc) => seen.push(inc.key))).toEqual({ layout: before.layout, next: 5 });
    expect(seen).toEqual(['k4']);
    loaded.removeFile(fileOf(1));
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

describe('CellCollector.continuing', () => {
  const stamp: StoredStamp = { build: 'b', timeZone: 'Europe/Berlin', roots: ['/h'], state: [1, 2, 3, -1, -1, -1], files: [0, ''] };
  const facts = { warnings: [], counters: emptyCounters(), estimatedThreads: 0, trackedFiles: 0 };
  /** The cells as the report cache stores and reads them back. */
  const throughCache = (cells: ReportCells): ReportCells =>
    decodeCells(JSON.parse(JSON.stringify(encodeReportCache({ key: { build: 'b', timeZone: 'Europe/Berlin', roots: ['/h'] }, files: { count: 0, digest: '' }, cells, facts }, stamp))) as never);

  it('goes on from cells read back from the report cache to what collectCells gives the grown ledger, to the last bit and in its order', () => {
    for (const seed of [11, 12, 13]) {
      const rand = random(seed);
      const ledger = randomLedger(seed, 5, 300);
      const options: CellOptions = { timeZone: 'Europe/Berlin', pricer: new CountingPricer() };
      // As the CLI does: the ledger loaded from its saved form, the cells of that ledger from the cache.
      const loaded = UsageLedger.fromJSON(JSON.parse(JSON.stringify(ledger)));
      const collector = CellCollector.continuing(loaded, options, throughCache(collectCells(ledger, options)))!;
      const from = loaded.incrementsEnd;
      for (let n = 300; n < 340; n += 1) {
        const thread = Math.floor(rand() * 8); // T6 and T7 are new threads
        loaded.add(fileOf(thread), increment(rand, n, thread));
      }
      loaded.add(fileOf(2), { ...increment(rand, 0, 2), key: 'k5' }); // a key seen before
      expect(loaded.forEachIncrementFrom(from, collector.add)).toBeDefined();
      expect(collector.threadsUnchanged()).toBe(true);
      expect(collector.cells(), `seed ${seed}`).toStrictEqual(collectCells(loaded, options));
    }
  });

  it('is not made for the cells of a period, or of another time zone', () => {
    const ledger = randomLedger(14, 3, 50);
    const all: CellOptions = { timeZone: 'Europe/Berlin', pricer: new CountingPricer() };
    const november: CellOptions = { ...all, since: new Date('2026-11-10T00:00:00Z') };
    expect(CellCollector.continuing(ledger, all, collectCells(ledger, all))).toBeDefined();
    expect(CellCollector.continuing(ledger, november, collectCells(ledger, all))).toBeUndefined();
    expect(CellCollector.continuing(ledger, all, collectCells(ledger, november))).toBeUndefined();
    expect(CellCollector.continuing(ledger, { ...all, timeZone: 'UTC' }, collectCells(ledger, all))).toBeUndefined();
  });

  it('tells when a thread it holds has other metadata now', () => {
    const ledger = randomLedger(15, 3, 50);
    const options: CellOptions = { timeZone: 'UTC', pricer: new CountingPricer() };
    const collector = CellCollector.continuing(ledger, options, collectCells(ledger, options))!;
    expect(collector.threadsUnchanged()).toBe(true);
    ledger.setThread(info(1, 'exec', '/p/moved'));
    expect(collector.threadsUnchanged()).toBe(false);
  });
});

describe('LiveCells.upToDate', () => {
  it('is true when current() would sum nothing (and so price nothing), and false after an add, a removal or a thread\'s metadata replaced', () => {
    const rand = random(7);
    const ledger = new UsageLedger();
    for (let n = 0; n < 3; n += 1) ledger.add(fileOf(1), increment(rand, n, 1));
    ledger.setThread(info(1, 'codex', '/p/1'));
    const pricer = new CountingPricer();
    const view = new LiveCells(ledger, { timeZone: 'UTC', pricer });
    expect(view.upToDate).toBe(true);
    const priced = pricer.calls;
    view.current();
    expect(pricer.calls).toBe(priced);
    ledger.add(fileOf(2), increment(rand, 3, 2));
    expect(view.upToDate).toBe(false);
    view.current();
    expect(view.upToDate).toBe(true);
    // A key seen before adds nothing.
    ledger.add(fileOf(3), { ...increment(rand, 0, 1), key: 'k0' });
    expect(view.upToDate).toBe(true);
    ledger.setThread(info(1, 'codex', '/elsewhere'));
    expect(view.upToDate).toBe(false);
    view.current();
    expect(view.upToDate).toBe(true);
    ledger.removeFile(fileOf(2));
    expect(view.upToDate).toBe(false);
    view.current();
    expect(view.upToDate).toBe(true);
    expect(view.current()).toEqual(collectCells(ledger, { timeZone: 'UTC', pricer }));
  });
});
