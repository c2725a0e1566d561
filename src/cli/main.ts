import { join } from 'node:path';
import { defaultCodexHome } from '../core/discovery.js';
import { readerThreadOptions } from '../core/fileReadPool.js';
import { type Logger } from '../core/logger.js';
import { openPriceBook } from '../core/pricing.js';
import { ProjectResolver } from '../core/projects.js';
import { buildReport, type GroupRow, type UsageReport } from '../core/reports.js';
import { UsageScanner } from '../core/scanner.js';
import { ScanStateStore } from '../core/stateStore.js';
import { isValidTimeZone, parseDateBoundary, systemTimeZone } from '../core/timeZones.js';
import { countTextTokens } from '../core/tokenizer.js';
import { type CliArguments, parseArguments, USAGE, UsageError } from './args.js';
import { runBudgetCommand } from './budgetCommand.js';
import { type Column, formatCount, formatPercent, formatUsd, renderTable } from './tables.js';

/** Where the CLI writes; injected so tests can capture it. */
export interface CliIo {
  out: (text: string) => void;
  err: (text: string) => void;
  env: NodeJS.ProcessEnv;
  /** A script that can serve as a reader thread (see fileReadPool.ts); without it every file is read in this thread. */
  readerThreadScript?: string;
}

/** Runs `codex-meter` and returns its exit code (0 ok, 1 a configuration problem, 2 a usage error). */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  let args: CliArguments | 'help';
  try {
    args = parseArguments(argv);
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`codex-meter: ${err.message}\n\n${USAGE}`);
      return 2;
    }
    throw err;
  }
  if (args === 'help') {
    io.out(USAGE);
    return 0;
  }
  const timeZone = args.timeZone ?? systemTimeZone();
  if (!isValidTimeZone(timeZone)) {
    io.err(`codex-meter: unknown time zone "${timeZone}"\n`);
    return 2;
  }
  let since: Date | undefined;
  let until: Date | undefined;
  try {
    if (args.since) since = parseDateBoundary(args.since, timeZone);
    if (args.until) until = parseDateBoundary(args.until, timeZone);
  } catch (err) {
    io.err(`codex-meter: ${(err as Error).message}\n`);
    return 2;
  }

  const logger = stderrLogger(io, args.verbose);
  const codexHomes = args.codexHomes.length > 0 ? args.codexHomes : [defaultCodexHome(io.env)];
  const store = args.stateDir ? new ScanStateStore(join(args.stateDir, 'scan-state.json'), logger) : undefined;
  const state = store ? await store.load() : undefined;
  // One core is kept free: this thread's own.
  const readers = readerThreadOptions(io.readerThreadScript, 1, io.env);
  const scanner = new UsageScanner({ roots: [...codexHomes, ...args.roots], logger, countTokens: countTextTokens, ...readers }, state);
  const summary = await scanner.scanAll();
  // Saved only when something changed: a warm run with nothing new reads and writes no state.
  const changed = !state || summary.bytesRead > 0 || summary.removedFiles > 0 || summary.newIncrements > 0;
  if (store && changed) {
    try {
      await store.save(scanner.toState());
    } catch (err) {
      io.err(`codex-meter: could not save the state to ${store.path}: ${(err as Error).message}\n`);
    }
  }
  const pricer = await openPriceBook();
  const projectOf = new ProjectResolver().projectOf;
  const report = buildReport(scanner.ledger, { since, until, timeZone, pricer, projectOf });
  const warnings = [
    ...scanner.problems().map((p) => ({ file: p.file, line: p.line, reason: p.reason })),
    ...summary.problems.map((p) => ({ file: p.path, line: 0, reason: p.reason })),
  ];
  const counters = scanner.counters();
  const diagnostics = { ...counters, estimatedThreads: scanner.estimatedThreads.size, unreadableFiles: scanner.unreadableFiles.size, files: scanner.trackedFiles, bytesRead: summary.bytesRead };
  const badLines = counters.badLines;
  if (!args.json && badLines > 0) io.err(`codex-meter: ${badLines} line(s) could not be used and were skipped (--json lists them, --verbose logs them).\n`);

  switch (args.command) {
    case 'budget':
      return runBudgetCommand({ args, io, codexHomes, ledger: scanner.ledger, pricer, timeZone, warnings, projectOf, now: new Date() });
    case 'threads':
      io.out(args.json ? json({ threads: threadRows(report), warnings, diagnostics }) : threadsTable(report));
      return 0;
    case 'daily':
      io.out(args.json ? json({ days: groupRows(report.days), totals: totalsJson(report), warnings }) : groupTable(report.days, 'Day') + totalsLine(report));
      return 0;
    case 'agents':
      io.out(args.json ? json({ agents: report.agents.map((a) => ({ ...groupRowJson(a), kind: a.kind, threads: a.threads })), warnings }) : groupTable(report.agents, 'Agent'));
      return 0;
    case 'models':
      io.out(args.json ? json({ models: groupRows(report.models), warnings }) : groupTable(report.models, 'Model'));
      return 0;
    case 'projects':
      io.out(args.json ? json({ projects: groupRows(report.projects), warnings }) : groupTable(report.projects, 'Project'));
      return 0;
  }
}

function json(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

function threadRows(report: UsageReport): unknown[] {
  return report.threads.map((t) => ({
    threadId: t.threadId,
    parentThreadId: t.parentThreadId ?? null,
    agent: t.agent,
    agentKind: t.agentKind,
    models: t.models,
    project: t.project ?? null,
    uncachedInputTokens: t.buckets.uncachedInput,
    cachedInputTokens: t.buckets.cachedInput,
    cacheWriteInputTokens: t.buckets.cacheWriteInput,
    outputTokens: t.buckets.output,
    reasoningOutputTokens: t.buckets.reasoningOutput,
    totalTokens: t.totalTokens,
    costUsd: t.costUsd ?? null,
    unpricedTokens: t.unpricedTokens,
    estimated: t.estimated,
    firstSeen: t.firstSeen ?? null,
    lastSeen: t.lastSeen ?? null,
  }));
}

function groupRowJson(row: GroupRow): Record<string, unknown> {
  return {
    key: row.key,
    label: row.label,
    uncachedInputTokens: row.buckets.uncachedInput,
    cachedInputTokens: row.buckets.cachedInput,
    cacheWriteInputTokens: row.buckets.cacheWriteInput,
    outputTokens: row.buckets.output,
    reasoningOutputTokens: row.buckets.reasoningOutput,
    totalTokens: row.totalTokens,
    costUsd: row.costUsd ?? null,
    unpricedTokens: row.unpricedTokens,
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
  { title: 'Cost', value: (r) => formatUsd(r.costUsd, r.unpricedTokens) },
];

function groupTable(rows: GroupRow[], title: string): string {
  if (rows.length === 0) return 'No Codex usage found.\n';
  return `${renderTable(rows, [{ title, value: (r) => r.label + (r.estimatedTokens > 0 ? ' (estimated)' : ''), align: 'left' }, ...bucketColumns])}\n`;
}

function totalsLine(report: UsageReport): string {
  const t = report.totals;
  return `\nTotal ${formatCount(t.totalTokens)} tokens, ${formatUsd(t.costUsd, t.unpricedTokens)}, cache hit rate ${formatPercent(report.cacheHitRate)}\n`;
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

function stderrLogger(io: CliIo, verbose: boolean): Logger {
  const write = (level: string) => (message: string) => io.err(`[${level}] ${message}\n`);
  const quiet = () => undefined;
  return {
    trace: quiet,
    debug: verbose ? write('debug') : quiet,
    info: verbose ? write('info') : quiet,
    warn: verbose ? write('warn') : quiet,
    error: write('error'),
  };
}
