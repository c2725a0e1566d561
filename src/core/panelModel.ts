import {
  type AgentPanelRow,
  type FigureRow,
  type PanelDiagnostics,
  type PanelFilter,
  type PanelSnapshot,
  type RateLimitFigures,
  type ThreadPanelRow,
} from '../shared/protocol.js';
import { type LedgerCounters, type RateLimitSnapshot } from './ledgerTypes.js';
import { DEFAULT_THREAD_SORT, sortedBy, sortRows, sortValue } from '../shared/sorting.js';
import { type GroupRow, type ThreadRow, type UsageReport, type UsageTotals } from './reports.js';


/** The budget as the panel shows it. */
export interface PanelBudget {
  totalBudget: number;
  warningThreshold: number;
  period: string;
  costBudgetUsd?: number;
  perAgentLimits: Record<string, number>;
  periodEnd?: Date;
}

export interface PanelModelInput {
  report: UsageReport;
  filter: PanelFilter;
  periodLabel: string;
  budget?: PanelBudget;
  /** Tokens used in the budget period (may differ from the report when the panel shows another period). */
  budgetUsedTokens?: number;
  counters: LedgerCounters;
  estimatedThreads: number;
  unreadableFiles: number;
  scanning: boolean;
  choices: PanelSnapshot['choices'];
  now?: Date;
  /** At most this many root threads (with their sub-agents), the first in `filter.threadSort` order; all when undefined. */
  threadLimit?: number;
}

/** Turns a report into what the panel draws: rows, the agent tree, the thread tree, header cards. */
export function buildPanelSnapshot(input: PanelModelInput): PanelSnapshot {
  const { report, budget } = input;
  const budgetTokens = budget && budget.totalBudget > 0 ? budget.totalBudget : null;
  const usedTokens = input.budgetUsedTokens ?? report.totals.totalTokens;
  const budgetPercent = budgetTokens ? (usedTokens / budgetTokens) * 100 : null;
  const level = budgetPercent === null ? 'ok' : budgetPercent >= 100 ? 'exceeded' : budgetPercent >= (budget?.warningThreshold ?? 80) ? 'warning' : 'ok';
  const diagnostics: PanelDiagnostics = {
    badLines: input.counters.badLines,
    repeatedSnapshots: input.counters.repeatedSnapshots,
    replayedSnapshots: input.counters.replayedSnapshots,
    estimatedThreads: input.estimatedThreads,
    unpricedTokens: report.totals.unpricedTokens,
    sourceDisagreements: input.counters.sourceDisagreements,
    unreadableFiles: input.unreadableFiles,
  };
  // By id, the last row of an id where several have one (as the trees below have always found them).
  const threadsById = new Map<string, ThreadRow>();
  for (const t of report.threads) threadsById.set(t.threadId, t);
  return {
    generatedAt: (input.now ?? new Date()).toISOString(),
    filter: input.filter,
    periodLabel: input.periodLabel,
    timeZone: report.timeZone,
    scanning: input.scanning,
    header: {
      usedTokens,
      budgetTokens,
      budgetPercent,
      level,
      budgetPeriod: budget?.period ?? 'month',
      periodResetsAt: budget?.periodEnd ? budget.periodEnd.toISOString() : null,
      costUsd: report.totals.costUsd ?? null,
      unpricedTokens: report.totals.unpricedTokens,
      costBudgetUsd: budget?.costBudgetUsd ?? null,
      cacheHitRate: report.cacheHitRate ?? null,
      reasoningShare: report.reasoningShare ?? null,
      estimatedTokens: report.totals.estimatedTokens,
      rateLimits: rateLimitFigures(report.rateLimits),
    },
    totals: figureRow('total', 'Total', report.totals),
    agents: agentTree(report, threadsById, budgetTokens, budget?.perAgentLimits ?? {}),
    models: report.models.map(groupFigures),
    projects: report.projects.map(groupFigures),
    threads: shownThreads(threadsById, input.filter, input.threadLimit),
    threadCount: report.threads.length,
    days: report.days.map(groupFigures),
    choices: input.choices,
    diagnostics,
  };
}

function figureRow(key: string, label: string, t: UsageTotals): FigureRow {
  return {
    key,
    label,
    buckets: { ...t.buckets },
    totalTokens: t.totalTokens,
    costUsd: t.costUsd ?? null,
    unpricedTokens: t.unpricedTokens,
    estimatedTokens: t.estimatedTokens,
    responses: t.responses,
    firstSeen: t.firstSeen ?? null,
    lastSeen: t.lastSeen ?? null,
  };
}

function groupFigures(row: GroupRow): FigureRow {
  return figureRow(row.key, row.label, row);
}

/**
 * One row per agent; a sub-agent is nested under the agent of the thread that spawned it.
 * Per-agent limits are looked up by display name, then by nickname-less id.
 */
function agentTree(report: UsageReport, threadsById: ReadonlyMap<string, ThreadRow>, budgetTokens: number | null, limits: Record<string, number>): AgentPanelRow[] {
  const parentAgentOf = new Map<string, string>();
  for (const t of report.threads) {
    if (t.agentKind === 'top-level' || !t.parentThreadId) continue;
    const parentAgent = threadsById.get(t.parentThreadId)?.agentId;
    if (parentAgent && parentAgent !== t.agentId && !parentAgentOf.has(t.agentId)) parentAgentOf.set(t.agentId, parentAgent);
  }
  const rows = new Map<string, AgentPanelRow>();
  for (const a of report.agents) {
    const limit = limits[a.label] ?? limits[a.key] ?? null;
    rows.set(a.key, {
      ...figureRow(a.key, a.label, a),
      kind: a.kind,
      threads: a.threads,
      budgetShare: budgetTokens ? a.totalTokens / budgetTokens : null,
      limit,
      limitShare: limit ? a.totalTokens / limit : null,
      children: [],
    });
  }
  const roots: AgentPanelRow[] = [];
  for (const row of rows.values()) {
    const parent = parentAgentOf.get(row.key);
    const parentRow = parent ? rows.get(parent) : undefined;
    if (parentRow && !isAncestor(row.key, parent!, parentAgentOf)) parentRow.children.push(row);
    else roots.push(row);
  }
  return roots;
}

function isAncestor(candidate: string, of: string, parentOf: Map<string, string>): boolean {
  let current: string | undefined = of;
  for (let depth = 0; current !== undefined && depth < 64; depth += 1) {
    if (current === candidate) return true;
    current = parentOf.get(current);
  }
  return false;
}

/**
 * The thread tree the panel shows, of the report's threads by id: the roots (threads that are no
 * sub-agent of another thread in the view) with their sub-agents under them, usage rolled up. All
 * of them, in the report's order, when there are at most `limit`; else the first `limit` in the
 * filter's order, each with its children sorted so too (sortRows of the whole tree, cut). Rows are made only for the threads
 * shown: on a 10 GB home's All time view, 25,199 threads of which 1,000 roots are shown, making a
 * row for each thread after every change was ~40 ms of the worker's ~180.
 */
function shownThreads(byId: ReadonlyMap<string, ThreadRow>, filter: PanelFilter, limit: number | undefined): ThreadPanelRow[] {
  const roots: ThreadRow[] = [];
  const childrenOf = new Map<ThreadRow, ThreadRow[]>();
  for (const t of byId.values()) {
    const parent = t.parentThreadId ? byId.get(t.parentThreadId) : undefined;
    if (parent && parent !== t && !threadIsAncestor(t, parent, byId)) {
      const children = childrenOf.get(parent);
      if (children) children.push(t);
      else childrenOf.set(parent, [t]);
    } else {
      roots.push(t);
    }
  }
  // A root's row with its sub-agents' rows under it; each row then takes its children's usage in,
  // the deepest first, and the rows more than 64 levels down keep their own.
  const rowOf = (root: ThreadRow): ThreadPanelRow => {
    const top = threadPanelRow(root);
    const made: { row: ThreadPanelRow; thread: ThreadRow; depth: number }[] = [];
    const pending = [{ row: top, thread: root, depth: 0 }];
    for (let next = pending.pop(); next; next = pending.pop()) {
      made.push(next);
      for (const child of childrenOf.get(next.thread) ?? []) {
        const childRow = threadPanelRow(child);
        next.row.children.push(childRow);
        pending.push({ row: childRow, thread: child, depth: next.depth + 1 });
      }
    }
    for (let i = made.length - 1; i >= 0; i -= 1) {
      const { row, depth } = made[i]!;
      if (depth > 64) continue;
      for (const child of row.children) {
        row.rolledUpTokens += child.rolledUpTokens;
        if (child.rolledUpCostUsd !== null) row.rolledUpCostUsd = (row.rolledUpCostUsd ?? 0) + child.rolledUpCostUsd;
      }
    }
    return top;
  };
  if (limit === undefined || roots.length <= limit) return roots.map(rowOf);
  const spec = filter.threadSort ?? DEFAULT_THREAD_SORT;
  // A thread's row is labelled with its id (threadPanelRow).
  const first = sortedBy(roots, spec, (t, column) => sortValue(t, t.threadId, column)).slice(0, limit);
  return sortRows(first.map(rowOf), spec);
}

/**
 * A thread's row: its figure row with the thread's fields added one by one. Not spread from it
 * (`{ ...figureRow(…), … }`): a spread into an object literal takes V8's slow generic path, ~13 µs a
 * row (a 1 GB home's All time view: 2,538 rows, 32 ms); added fields follow one map transition.
 */
function threadPanelRow(t: ThreadRow): ThreadPanelRow {
  const row = figureRow(t.threadId, t.threadId, t) as ThreadPanelRow;
  row.threadId = t.threadId;
  row.parentThreadId = t.parentThreadId ?? null;
  row.agent = t.agent;
  row.models = [...t.models];
  row.project = t.project ?? null;
  row.estimated = t.estimated;
  row.rolledUpTokens = t.totalTokens;
  row.rolledUpCostUsd = t.costUsd ?? null;
  row.children = [];
  return row;
}

function threadIsAncestor(candidate: ThreadRow, of: ThreadRow, byId: ReadonlyMap<string, ThreadRow>): boolean {
  let current: ThreadRow | undefined = of;
  for (let depth = 0; current && depth < 64; depth += 1) {
    if (current === candidate) return true;
    current = current.parentThreadId ? byId.get(current.parentThreadId) : undefined;
  }
  return false;
}

function rateLimitFigures(snapshot: RateLimitSnapshot | undefined): RateLimitFigures[] {
  if (!snapshot) return [];
  const out: RateLimitFigures[] = [];
  const label = (minutes: number | undefined, fallback: string): string =>
    minutes === 300 ? '5-hour' : minutes === 10080 ? 'Weekly' : minutes ? `${Math.round(minutes / 60)}-hour` : fallback;
  if (snapshot.primary) out.push({ label: label(snapshot.primary.windowMinutes, 'Primary'), usedPercent: snapshot.primary.usedPercent, resetsAt: snapshot.primary.resetsAt ? new Date(snapshot.primary.resetsAt).toISOString() : null });
  if (snapshot.secondary) out.push({ label: label(snapshot.secondary.windowMinutes, 'Secondary'), usedPercent: snapshot.secondary.usedPercent, resetsAt: snapshot.secondary.resetsAt ? new Date(snapshot.secondary.resetsAt).toISOString() : null });
  return out;
}

/** Rows of the current view as CSV (RFC 4180 quoting; formula-looking cells neutralised). */
export function snapshotToCsv(snapshot: PanelSnapshot): string {
  const header = ['kind', 'key', 'label', 'uncached_input', 'cached_input', 'cache_write_input', 'output', 'reasoning_output', 'total_tokens', 'cost_usd', 'estimated_tokens', 'first_seen', 'last_seen'];
  const lines = [header.join(',')];
  const push = (kind: string, r: FigureRow): void => {
    lines.push([kind, r.key, r.label, r.buckets.uncachedInput, r.buckets.cachedInput, r.buckets.cacheWriteInput, r.buckets.output, r.buckets.reasoningOutput, r.totalTokens, r.costUsd ?? '', r.estimatedTokens, r.firstSeen ?? '', r.lastSeen ?? ''].map(csvCell).join(','));
  };
  const walkAgents = (rows: AgentPanelRow[]): void => rows.forEach((r) => { push('agent', r); walkAgents(r.children); });
  const walkThreads = (rows: ThreadPanelRow[]): void => rows.forEach((r) => { push('thread', r); walkThreads(r.children); });
  push('total', snapshot.totals);
  walkAgents(snapshot.agents);
  snapshot.models.forEach((r) => push('model', r));
  snapshot.projects.forEach((r) => push('project', r));
  walkThreads(snapshot.threads);
  snapshot.days.forEach((r) => push('day', r));
  return `${lines.join('\r\n')}\r\n`;
}

function csvCell(value: string | number): string {
  let text = String(value);
  if (typeof value === 'string' && /^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}
