import { type GroupRow, type UsageReport, type UsageTotals } from '../core/reports.js';
import { formatInteger as formatCount } from '../shared/format.js';
import { type CommandName } from './args.js';
import { type CliIo } from './io.js';
import { type Column, formatCostCell, formatPercent, renderTable } from './tables.js';

/** A line of a rollout that could not be used, or a file or folder that could not be read (line 0). */
export interface CliWarning {
  file: string;
  line: number;
  reason: string;
}

/** What a run read and skipped, printed by `threads --json`. */
export type CliDiagnostics = Record<string, number>;

/** Prints a report command's output (tables, or --json), and on stderr how many lines were skipped. */
export function printReport(command: Exclude<CommandName, 'budget'>, asJson: boolean, report: UsageReport, warnings: CliWarning[], diagnostics: CliDiagnostics, badLines: number, io: CliIo): number {
  noteSkippedLines(asJson, badLines, io);
  switch (command) {
    case 'threads':
      io.out(asJson ? json({ threads: threadRows(report), warnings, diagnostics }) : threadsTable(report));
      return 0;
    case 'daily':
      io.out(asJson ? json({ days: groupRows(report.days), totals: totalsJson(report), warnings }) : groupTable(report.days, 'Day') + totalsLine(report));
      return 0;
    case 'agents':
      io.out(asJson ? json({ agents: report.agents.map((a) => ({ ...groupRowJson(a), kind: a.kind, threads: a.threads })), warnings }) : groupTable(report.agents, 'Agent'));
      return 0;
    case 'models':
      io.out(asJson ? json({ models: groupRows(report.models), warnings }) : groupTable(report.models, 'Model'));
      return 0;
    case 'projects':
      io.out(asJson ? json({ projects: groupRows(report.projects), warnings }) : groupTable(report.projects, 'Project'));
      return 0;
  }
}

/** Says on stderr how many lines were skipped, unless the output is JSON (which lists them). */
export function noteSkippedLines(asJson: boolean, badLines: number, io: CliIo): void {
  if (!asJson && badLines > 0) io.err(`codex-meter: ${badLines} line(s) could not be used and were skipped (--json lists them, --verbose logs them).\n`);
}

function json(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

/** A row's buckets, total and cost, as --json names them (thread and group rows alike). */
function figuresJson(row: UsageTotals): Record<string, number | null> {
  return {
    uncachedInputTokens: row.buckets.uncachedInput,
    cachedInputTokens: row.buckets.cachedInput,
    cacheWriteInputTokens: row.buckets.cacheWriteInput,
    outputTokens: row.buckets.output,
    reasoningOutputTokens: row.buckets.reasoningOutput,
    totalTokens: row.totalTokens,
    costUsd: row.costUsd ?? null,
    unpricedTokens: row.unpricedTokens,
  };
}

function threadRows(report: UsageReport): unknown[] {
  return report.threads.map((t) => ({
    threadId: t.threadId,
    parentThreadId: t.parentThreadId ?? null,
    agent: t.agent,
    agentKind: t.agentKind,
    models: t.models,
    project: t.project ?? null,
    ...figuresJson(t),
    estimated: t.estimated,
    firstSeen: t.firstSeen ?? null,
    lastSeen: t.lastSeen ?? null,
  }));
}

function groupRowJson(row: GroupRow): Record<string, unknown> {
  return {
    key: row.key,
    label: row.label,
    ...figuresJson(row),
    estimatedTokens: row.estimatedTokens,
    responses: row.responses,
    firstSeen: row.firstSeen ?? null,
    lastSeen: row.lastSeen ?? null,
  };
}

function groupRows(rows: GroupRow[]): unknown[] {
  return rows.map(groupRowJson);
}

function totalsJson(report: UsageReport): Record<string, unknown> {
  return { ...groupRowJson({ ...report.totals, key: 'total', label: 'Total' }), cacheHitRate: report.cacheHitRate ?? null };
}

const bucketColumns: Column<GroupRow>[] = [
  { title: 'Input', value: (r) => formatCount(r.buckets.uncachedInput) },
  { title: 'Cached', value: (r) => formatCount(r.buckets.cachedInput) },
  { title: 'Cache write', value: (r) => formatCount(r.buckets.cacheWriteInput) },
  { title: 'Output', value: (r) => formatCount(r.buckets.output) },
  { title: 'Reasoning', value: (r) => formatCount(r.buckets.reasoningOutput) },
  { title: 'Total', value: (r) => formatCount(r.totalTokens) },
  { title: 'Cost', value: (r) => formatCostCell(r.costUsd, r.unpricedTokens) },
];

function groupTable(rows: GroupRow[], title: string): string {
  if (rows.length === 0) return 'No Codex usage found.\n';
  return `${renderTable(rows, [{ title, value: (r) => r.label + (r.estimatedTokens > 0 ? ' (estimated)' : ''), align: 'left' }, ...bucketColumns])}\n`;
}

function totalsLine(report: UsageReport): string {
  const t = report.totals;
  return `\nTotal ${formatCount(t.totalTokens)} tokens, ${formatCostCell(t.costUsd, t.unpricedTokens)}, cache hit rate ${formatPercent(report.cacheHitRate)}\n`;
}

function threadsTable(report: UsageReport): string {
  if (report.threads.length === 0) return 'No Codex usage found.\n';
  type Row = UsageReport['threads'][number];
  const columns: Column<Row>[] = [
    { title: 'Thread', value: (r) => r.threadId, align: 'left' },
    { title: 'Agent', value: (r) => r.agent, align: 'left' },
    { title: 'Models', value: (r) => r.models.join(', '), align: 'left' },
    { title: 'Last seen', value: (r) => (r.lastSeen ?? '').slice(0, 16).replace('T', ' '), align: 'left' },
    ...(bucketColumns as unknown as Column<Row>[]),
    { title: '', value: (r) => (r.estimated ? 'estimated' : ''), align: 'left' },
  ];
  return `${renderTable(report.threads, columns)}\n${totalsLine(report)}`;
}
