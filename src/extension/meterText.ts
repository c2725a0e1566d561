/**
 * What the status bar meter says: its text, level and Markdown tooltip. Pure (no vscode import) so
 * it is tested in Node; statusBarMeter.ts puts it on screen.
 */
import { type BudgetStatus, type EffectiveBudget } from '../core/budget/index.js';
import { formatCompact, formatInteger, formatPercent, formatUsd } from '../shared/format.js';
import { type MeterSummary } from '../core/meterCache.js';

export type MeterLevel = 'ok' | 'warning' | 'error';

export interface MeterView {
  text: string;
  level: MeterLevel;
  tooltip: string;
  accessibility: string;
}

/** Commands the tooltip links to; the only ones its MarkdownString trusts. */
export const TOOLTIP_COMMANDS = ['codexTokenMeter.openPanel', 'codexTokenMeter.openSettings', 'codexTokenMeter.showLog'] as const;

/** Escapes text from the logs for Markdown: no markup, links or HTML can come through. */
export function escapeMarkdown(text: string): string {
  return text
    .replace(/[\\`*_{}[\]()#+\-.!|~>]/g, (c) => `\\${c}`)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/\r?\n/g, ' ');
}

export function scanningView(done: number, total: number): MeterView {
  const progress = total > 0 ? `${done} of ${total} rollout files` : 'looking for rollout files';
  return {
    text: '$(sync~spin) Codex',
    level: 'ok',
    tooltip: `**Codex Token Meter**\n\nReading Codex logs… ${progress}`,
    accessibility: `Codex Token Meter: reading Codex logs, ${progress}`,
  };
}

export interface MeterInput {
  summary: MeterSummary;
  budget: EffectiveBudget;
  status: BudgetStatus;
  periodLabel: string;
  periodEnds: Date | undefined;
  now: Date;
  /**
   * The last session's figures, not yet checked: 'unchecked' while the scan worker checks the logs
   * for anything new, 'stale' once it found something (until its first scan ends).
   */
  lastSession?: 'unchecked' | 'stale';
}

export function meterView(input: MeterInput): MeterView {
  const { summary, budget, status } = input;
  const level: MeterLevel = status.level === 'exceeded' || status.costLevel === 'exceeded' ? 'error' : status.level === 'warning' || status.costLevel === 'warning' ? 'warning' : 'ok';
  let text: string;
  let accessibility: string;
  if (budget.totalBudget > 0) {
    const percent = Math.floor(status.percent ?? 0);
    text = `$(pulse) ${percent}% · ${formatCompact(summary.totalTokens)}/${formatCompact(budget.totalBudget)}`;
    accessibility = `Codex tokens ${input.periodLabel}: ${percent} percent of the budget, ${formatInteger(summary.totalTokens)} of ${formatInteger(budget.totalBudget)}`;
  } else {
    const cost = summary.costUsd !== undefined ? ` · ${formatUsd(summary.costUsd)}` : '';
    text = `$(pulse) ${formatCompact(summary.totalTokens)} tokens${cost}`;
    accessibility = `Codex tokens ${input.periodLabel}: ${formatInteger(summary.totalTokens)}${cost ? `, ${formatUsd(summary.costUsd)}` : ''}`;
  }
  if (input.lastSession === 'unchecked') accessibility += ', from the last session, checking the logs for new usage';
  if (input.lastSession === 'stale') {
    // Known to be behind: the figures stay, with the spinner the first scan shows.
    text = text.replace('$(pulse)', '$(sync~spin)');
    accessibility += ', from the last session, reading the usage since';
  }
  return { text, level, tooltip: tooltipMarkdown(input), accessibility };
}

function tooltipMarkdown(input: MeterInput): string {
  const { summary, budget, status } = input;
  const b = summary.buckets;
  const lines: string[] = [];
  lines.push(`**Codex Token Meter** — ${escapeMarkdown(input.periodLabel)}`, '');
  if (budget.totalBudget > 0) {
    lines.push(`$(pulse) **${formatInteger(summary.totalTokens)}** of ${formatInteger(budget.totalBudget)} tokens (${formatPercent(status.percent, 1)})${input.periodEnds ? `, resets ${input.periodEnds.toISOString().slice(0, 16).replace('T', ' ')} UTC` : ''}`);
  } else {
    lines.push(`$(pulse) **${formatInteger(summary.totalTokens)}** tokens, no budget set`);
  }
  if (input.lastSession === 'unchecked') lines.push('', '$(history) The last session\'s figures: checking the Codex logs for anything new…');
  if (input.lastSession === 'stale') lines.push('', '$(sync~spin) The last session\'s figures: reading what the Codex logs gained since…');
  if (summary.estimatedTokens > 0) lines.push('', `$(info) ${formatInteger(summary.estimatedTokens)} tokens are estimates (logs without usage)`);
  lines.push('', '| | Tokens |', '|---|---:|');
  lines.push(`| Input (uncached) | ${formatInteger(b.uncachedInput)} |`);
  lines.push(`| Cached input | ${formatInteger(b.cachedInput)} |`);
  lines.push(`| Cache write | ${formatInteger(b.cacheWriteInput)} |`);
  lines.push(`| Output | ${formatInteger(b.output)} |`);
  lines.push(`| of which reasoning | ${formatInteger(b.reasoningOutput)} |`);
  const cost = summary.costUsd !== undefined ? formatUsd(summary.costUsd) : 'unpriced';
  const unpriced = summary.unpricedTokens > 0 ? ` (+ ${formatInteger(summary.unpricedTokens)} tokens on unpriced models)` : '';
  lines.push('', `$(credit-card) Cost: **${cost}**${budget.costBudgetUsd ? ` of ${formatUsd(budget.costBudgetUsd)}` : ''}${unpriced}`);
  const top = [...summary.agents].sort((x, y) => y.totalTokens - x.totalTokens).slice(0, 5);
  if (top.length > 0) {
    lines.push('', '**Top agents**', '');
    for (const a of top) {
      const share = summary.totalTokens > 0 ? ` (${formatPercent((a.totalTokens / summary.totalTokens) * 100)})` : '';
      const limit = budget.perAgentLimits[a.agent];
      const limitText = limit ? ` — limit ${formatInteger(limit)} (${formatPercent((a.totalTokens / limit) * 100)})` : '';
      lines.push(`- ${escapeMarkdown(a.agent)}: ${formatInteger(a.totalTokens)}${share}${limitText}`);
    }
  }
  const rl = summary.rateLimits;
  if (rl && (rl.primary || rl.secondary)) {
    lines.push('', '**Codex rate limits**', '');
    const window = (label: string, w: NonNullable<typeof rl.primary>): string =>
      `- ${label}: ${formatPercent(w.usedPercent)} used${w.resetsAt ? `, resets in ${duration(w.resetsAt - input.now.getTime())}` : ''}`;
    if (rl.primary) lines.push(window(rl.primary.windowMinutes === 300 || !rl.primary.windowMinutes ? '5-hour' : `${Math.round(rl.primary.windowMinutes / 60)}-hour`, rl.primary));
    if (rl.secondary) lines.push(window(rl.secondary.windowMinutes === 10080 || !rl.secondary.windowMinutes ? 'Weekly' : `${Math.round(rl.secondary.windowMinutes / 60)}-hour`, rl.secondary));
  }
  if (summary.badLines > 0) lines.push('', `$(warning) ${formatInteger(summary.badLines)} log lines could not be used ([show log](command:codexTokenMeter.showLog))`);
  lines.push('', '[$(graph) Open Token Panel](command:codexTokenMeter.openPanel) · [$(gear) Settings](command:codexTokenMeter.openSettings)');
  return lines.join('\n');
}

function duration(ms: number): string {
  if (ms <= 0) return 'now';
  const minutes = Math.round(ms / 60000);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h ${minutes % 60} min`;
  return `${Math.round(hours / 24)} days`;
}
