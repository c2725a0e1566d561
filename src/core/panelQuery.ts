import { type PanelFilter, type PanelSnapshot } from '../shared/protocol.js';
import { periodWindow } from './budget/index.js';
import { buildPanelSnapshot, type PanelBudget } from './panelModel.js';
import { type LiveCellViews } from './liveCells.js';
import { collectCells, type Pricer, type ReportCells, reportFromCells, totalTokensBetween, type UsageReport } from './reports.js';
import { type UsageScanner } from './scanner.js';
import { nextDay, startOfLocalDay } from './timeZones.js';

export interface PanelQueryContext {
  scanner: UsageScanner;
  pricer: Pricer;
  timeZone: string;
  now: Date;
  scanning: boolean;
  budget?: PanelBudget & { resetAt?: Date };
  projectOf?: (cwd: string | undefined) => string | undefined;
  /** Root threads the snapshot holds at most (see PANEL_THREAD_ROWS); all when undefined. */
  threadLimit?: number;
  /** Cells kept up to date between queries (a watching process's); without them, each query sums the ledger. */
  views?: LiveCellViews;
}

/** The instants a panel filter covers, and how to name them. */
export function resolvePanelPeriod(filter: PanelFilter, now: Date, timeZone: string): { since?: Date; until?: Date; label: string } {
  switch (filter.period) {
    case 'all':
      return { label: 'All time' };
    case 'custom': {
      const since = filter.since ? startOfLocalDay(filter.since, timeZone) : undefined;
      const until = filter.until ? startOfLocalDay(nextDay(filter.until), timeZone) : undefined;
      const label = `${filter.since ?? 'the beginning'} to ${filter.until ?? 'now'}`;
      return { since, until, label };
    }
    case 'today':
    case 'week':
    case 'month': {
      const window = periodWindow(filter.period === 'today' ? 'day' : filter.period, now, timeZone);
      const label = filter.period === 'today' ? 'Today' : filter.period === 'week' ? 'This week' : 'This month';
      return { since: window.start, until: window.end, label };
    }
  }
}

/** Everything the token panel shows for a filter, computed from the scanner's ledger. */
export function queryPanel(filter: PanelFilter, ctx: PanelQueryContext): PanelSnapshot {
  const period = resolvePanelPeriod(filter, ctx.now, ctx.timeZone);
  const base = { since: period.since, until: period.until, timeZone: ctx.timeZone, pricer: ctx.pricer, projectOf: ctx.projectOf };
  // The ledger is summed once; the filter's report and the unfiltered one (its choices) group the same cells.
  const ledger = ctx.scanner.ledger;
  const filters = filter.agentId || filter.model || filter.project ? { ...base, agentId: filter.agentId, model: filter.model, project: filter.project } : undefined;
  let unfiltered: UsageReport;
  let filtered: UsageReport;
  if (ctx.views) {
    // Summed on from the last query's reports: after a change, from the first thread it changed.
    unfiltered = ctx.views.report(ledger, base);
    filtered = filters ? ctx.views.report(ledger, filters) : unfiltered;
  } else {
    const cells = collectCells(ledger, base);
    unfiltered = reportFromCells(cells, base);
    filtered = filters ? reportFromCells(cells, filters) : unfiltered;
  }
  let budgetUsedTokens: number | undefined;
  let budget: PanelBudget | undefined;
  if (ctx.budget) {
    const window = periodWindow(ctx.budget.period as 'all' | 'month' | 'week' | 'day', ctx.now, ctx.timeZone, ctx.budget.resetAt);
    budgetUsedTokens = ctx.views
      ? tokensOf(ctx.views.cells(ledger, { since: window.start, until: window.end, timeZone: ctx.timeZone, pricer: ctx.pricer }))
      : totalTokensBetween(ledger, window.start, window.end);
    budget = { ...ctx.budget, periodEnd: window.end };
  }
  return buildPanelSnapshot({
    report: filtered,
    filter,
    periodLabel: period.label,
    budget,
    budgetUsedTokens,
    counters: ctx.scanner.counters(),
    estimatedThreads: ctx.scanner.estimatedThreads.size,
    unreadableFiles: ctx.scanner.unreadableFiles.size,
    scanning: ctx.scanning,
    choices: {
      agents: unfiltered.agents.map((a) => ({ id: a.key, label: a.label })),
      models: unfiltered.models.map((m) => m.key),
      projects: unfiltered.projects.map((p) => p.key),
    },
    now: ctx.now,
    ...(ctx.threadLimit === undefined ? {} : { threadLimit: ctx.threadLimit }),
  });
}

/** The tokens of a set of cells (what totalTokensBetween gives for their period). */
function tokensOf(cells: ReportCells): number {
  let sum = 0;
  for (const thread of cells.threads) for (const cell of thread.cells) sum += cell.totalTokens;
  return sum;
}
