// What the extension's worker computes after each change it reads (scanWorker.ts): the status bar's
// figures for the budget period (`meter`) and, with the token panel open, the panel's (`panel`
// request). Both come from live cells (liveCells.ts), summed on from where they stopped; beside
// them, in the same run, the same figures summed again from the whole ledger (what the worker did
// until round 6 of docs/performance.md).
import { type UsageIncrement } from '../src/core/ledgerTypes.js';
import { LiveCellViews } from '../src/core/liveCells.js';
import { queryPanel } from '../src/core/panelQuery.js';
import { openPriceBook } from '../src/core/pricing.js';
import { ProjectResolver } from '../src/core/projects.js';
import { buildReport, summaryFromCells } from '../src/core/reports.js';
import { type UsageScanner } from '../src/core/scanner.js';
import { periodWindow } from '../src/core/budget/index.js';
import { PANEL_THREAD_ROWS } from '../src/shared/protocol.js';

export interface FiguresAfterChange {
  /** Median ms per change: meter with an all-time budget, live and summed again; the panel on All time, live and summed again. */
  meterLiveMillis: number;
  meterSummedMillis: number;
  panelLiveMillis: number;
  panelSummedMillis: number;
  /** The panel from live cells after a response to the first thread of its view (every thread summed again: the worst case). */
  panelLiveFirstThreadMillis: number;
  cells: number;
}

/**
 * Adds one increment at a time to the scanner's ledger (as a read of one appended usage line does)
 * and times, after each, the worker's figures both ways; medians of `rounds`.
 */
export async function timeFiguresAfterChange(scanner: UsageScanner, rounds: number): Promise<FiguresAfterChange> {
  const pricer = await openPriceBook({});
  const projects = new ProjectResolver();
  const views = new LiveCellViews();
  const timeZone = 'UTC';
  const window = periodWindow('all', new Date(), timeZone);
  const cellOptions = { since: window.start, until: window.end, timeZone, pricer };
  const panel = (live: boolean): void => {
    queryPanel({ period: 'all' }, { scanner, pricer, timeZone, now: new Date(), scanning: false, projectOf: projects.projectOf, threadLimit: PANEL_THREAD_ROWS, ...(live ? { views } : {}) });
  };
  const meter = (live: boolean): void => {
    if (live) summaryFromCells(views.cells(scanner.ledger, cellOptions));
    else buildReport(scanner.ledger, { ...cellOptions, projectOf: projects.projectOf });
    scanner.counters();
  };
  // The views exist from the worker's first request on: made here, before the changes are timed.
  meter(true);
  panel(true);
  const times: Record<'meterLive' | 'meterSummed' | 'panelLive' | 'panelSummed', number[]> = { meterLive: [], meterSummed: [], panelLive: [], panelSummed: [] };
  const timed = (list: number[], work: () => void): void => {
    const t0 = performance.now();
    work();
    list.push(performance.now() - t0);
  };
  for (let round = 0; round < rounds; round += 1) {
    scanner.ledger.add('/bench/appended.jsonl', benchIncrement(round));
    timed(times.meterLive, () => meter(true));
    timed(times.panelLive, () => panel(true));
    timed(times.meterSummed, () => meter(false));
    timed(times.panelSummed, () => panel(false));
  }
  // The rounds above add to a new thread, the last of the views (a new session); a response to a
  // session the views hold first makes the panel sum every thread again (LiveReport).
  const first = views.cells(scanner.ledger, cellOptions).threads[0]?.threadId ?? 'bench-figures-thread';
  const firstThread: number[] = [];
  for (let round = 0; round < rounds; round += 1) {
    scanner.ledger.add('/bench/appended-first.jsonl', { ...benchIncrement(round), key: `bench-figures-first-${round}`, threadId: first });
    timed(firstThread, () => panel(true));
  }
  let cells = 0;
  for (const thread of views.cells(scanner.ledger, cellOptions).threads) cells += thread.cells.length;
  return {
    meterLiveMillis: median(times.meterLive), meterSummedMillis: median(times.meterSummed), panelLiveMillis: median(times.panelLive), panelSummedMillis: median(times.panelSummed),
    panelLiveFirstThreadMillis: median(firstThread), cells,
  };
}

function benchIncrement(round: number): UsageIncrement {
  return {
    key: `bench-figures-${round}`,
    threadId: 'bench-figures-thread',
    timestamp: new Date().toISOString(),
    model: 'gpt-5',
    source: 'record',
    buckets: { uncachedInput: 1200, cachedInput: 3400, cacheWriteInput: 0, output: 560, reasoningOutput: 120 },
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[sorted.length >> 1]!;
}
