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
import { DEFAULT_THREAD_SORT, sortRows } from '../shared/sorting.js';
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
    agents: agentTree(report, budgetTokens, budget?.perAgentLimits ?? {}),
    models: report.models.map(groupFigures),
    projects: report.projects.map(groupFigures),
    threads: firstThreads(threadTree(report.threads), input.filter, input.threadLimit),
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
function agentTree(report: UsageReport, budgetTokens: number | null, limits: Record<string, number>): AgentPanelRow[] {
  const threadAgent = new Map(report.threads.map((t) => [t.threadId, t.agentId]));
  const parentAgentOf = new Map<string, string>();
  for (const t of report.threads) {
    if (t.agentKind === 'top-level' || !t.parentThreadId) continue;
    const parentAgent = threadAgent.get(t.parentThreadId);
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

/** The first `limit` roots in the filter's order (all, in the report's order, when there are no more). */
function firstThreads(roots: ThreadPanelRow[], filter: PanelFilter, limit: number | undefined): ThreadPanelRow[] {
  if (limit === undefined || roots.length <= limit) return roots;
  return sortRows(roots, filter.threadSort ?? DEFAULT_THREAD_SORT).slice(0, limit);
}

/** Threads as a tree: a sub-agent's thread under the thread that spawned it, usage rolled up. */
function threadTree(threads: ThreadRow[]): ThreadPanelRow[] {
  const rows = new Map<string, ThreadPanelRow>();
  for (const t of threads) rows.set(t.threadId, threadPanelRow(t));
  const roots: ThreadPanelRow[] = [];
  for (const row of rows.values()) {
    const parent = row.parentThreadId ? rows.get(row.parentThreadId) : undefined;
    if (parent && parent !== row && !threadIsAncestor(row, parent, rows)) parent.children.push(row);
    else roots.push(row);
  }
  const rollUp = (row: ThreadPanelRow, depth: number): void => {
    if (depth > 64) return;
    for (const child of row.children) {
      rollUp(child, depth + 1);
      row.rolledUpTokens += child.rolledUpTokens;
      if (child.rolledUpCostUsd !== null) row.rolledUpCostUsd = (row.rolledUpCostUsd ?? 0) + child.rolledUpCostUsd;
    }
  };
  for (const root of roots) rollUp(root, 0);
  return roots;
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

function threadIsAncestor(candidate: ThreadPanelRow, of: ThreadPanelRow, rows: Map<string, ThreadPanelRow>): boolean {
  let current: ThreadPanelRow | undefined = of;
  for (let depth = 0; current && depth < 64; depth += 1) {
    if (current === candidate) return true;
    current = current.parentThreadId ? rows.get(current.parentThreadId) : undefined;
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
