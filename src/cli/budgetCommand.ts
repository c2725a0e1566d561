import { BudgetConfigStore, evaluateBudget, periodWindow } from '../core/budget/index.js';
import { type ReportCells, summaryFromCells } from '../core/reports.js';
import { formatInteger, formatUsd } from '../shared/format.js';
import { type CliArguments } from './args.js';
import { type CliIo } from './io.js';
import { noteSkippedLines } from './reportOutput.js';
import { readIfPresent } from '../core/textFiles.js';

/** What the budget is measured against, for the period: the figures of its usage. */
export interface BudgetUsage {
  totalTokens: number;
  costUsd: number | undefined;
  estimatedTokens: number;
  unpricedTokens: number;
  agents: { agent: string; totalTokens: number }[];
}

export interface BudgetCommandInput {
  args: CliArguments;
  io: CliIo;
  codexHomes: string[];
  /** The usage of the budget's period [start, end); undefined when it cannot be told (then nothing is printed). */
  usageFor: (period: { start: Date | undefined; end: Date | undefined }) => BudgetUsage | undefined;
  timeZone: string;
  warnings: { file: string; line: number; reason: string }[];
  /** Lines that could not be used (noted on stderr unless --json). */
  badLines: number;
  now: Date;
  /** Reads a configuration file: its text, undefined when there is none (readIfPresent unless given). */
  readText?: (path: string) => Promise<string | undefined>;
}

/** The usage of a period's cells (a full run's, or the report cache's taken day by day), as the budget measures it. */
export function budgetUsageOf(cells: ReportCells): BudgetUsage {
  const summary = summaryFromCells(cells);
  return { ...summary.totals, agents: summary.agents.map((a) => ({ agent: a.label, totalTokens: a.totalTokens })) };
}

/**
 * `codex-meter budget`: reads the [token_budget] configuration (Codex home, then the workspace given
 * with --workspace, then the environment) and prints where the current period's usage stands.
 * A broken file is reported with its path, line and key, and the exit code is 1. Undefined (and
 * nothing printed) when `usageFor` cannot tell the period's usage.
 */
export async function runBudgetCommand(input: BudgetCommandInput): Promise<number | undefined> {
  const { args, io } = input;
  const store = new BudgetConfigStore(input.readText ?? readIfPresent);
  const loaded = await store.load({
    codexHome: input.codexHomes[0]!,
    workspaceFolders: args.workspace ? [args.workspace] : [],
    trusted: args.workspace !== undefined,
    env: io.env,
  });
  const errors = loaded.problems.filter((p) => p.severity === 'error');
  const budget = loaded.budget;
  const window = periodWindow(budget.period, input.now, input.timeZone);
  const usage = input.usageFor(window);
  if (!usage) return undefined;
  noteSkippedLines(args.json, input.badLines, io);
  const status = evaluateBudget(budget, {
    totalTokens: usage.totalTokens,
    costUsd: usage.costUsd,
    estimatedTokens: usage.estimatedTokens,
    perAgent: usage.agents,
  });
  if (args.json) {
    io.out(`${JSON.stringify({
      budget,
      period: { name: budget.period, label: window.label, start: window.start?.toISOString() ?? null, end: window.end?.toISOString() ?? null },
      status,
      costUsd: usage.costUsd ?? null,
      unpricedTokens: usage.unpricedTokens,
      sources: loaded.sources,
      problems: loaded.problems,
      warnings: input.warnings,
    }, null, 2)}\n`);
  } else {
    for (const p of loaded.problems) io.err(`codex-meter: ${p.severity}: ${p.message}\n`);
    const lines: string[] = [];
    const estimated = status.estimatedTokens > 0 ? ` (${formatInteger(status.estimatedTokens)} estimated)` : '';
    if (budget.totalBudget > 0) {
      lines.push(`Budget ${window.label}: ${formatInteger(status.usedTokens)} of ${formatInteger(budget.totalBudget)} tokens (${status.percent!.toFixed(1)}%)${estimated} — ${status.level === 'exceeded' ? 'EXCEEDED' : status.level === 'warning' ? `over the ${budget.warningThreshold}% warning threshold` : 'ok'}`);
    } else {
      lines.push(`No token budget set; ${formatInteger(status.usedTokens)} tokens used ${window.label}${estimated}.`);
    }
    const cost = usage.costUsd;
    lines.push(`Cost ${window.label}: ${formatUsd(cost)}${budget.costBudgetUsd ? ` of ${formatUsd(budget.costBudgetUsd)}` : ''}${usage.unpricedTokens > 0 ? ` (+ ${formatInteger(usage.unpricedTokens)} tokens on unpriced models)` : ''}`);
    for (const a of status.agents) lines.push(`Agent ${a.agent}: ${formatInteger(a.used)} of ${formatInteger(a.limit)} tokens (${a.percent.toFixed(1)}%)${a.level === 'ok' ? '' : a.level === 'exceeded' ? ' — EXCEEDED' : ' — warning'}`);
    if (loaded.sources.length > 0) lines.push(`From: ${loaded.sources.map((s) => `${s.source} (${s.keys.join(', ')})`).join('; ')}`);
    io.out(`${lines.join('\n')}\n`);
  }
  return errors.length > 0 ? 1 : 0;
}
