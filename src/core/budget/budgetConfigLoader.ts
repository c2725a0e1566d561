import { homedir } from 'node:os';
import { join } from 'node:path';
import { parse, TomlError } from 'smol-toml';
import { BUDGET_KEYS, BUDGET_PERIODS, type BudgetKey, type BudgetPatch, budgetKeySchemas, DEFAULT_BUDGET, type EffectiveBudget } from './budgetSchema.js';
import { findKeyLine, findTableLine } from './tomlLocator.js';

/** Reads a file's text; undefined when it does not exist. */
export type ReadText = (path: string) => Promise<string | undefined>;

export interface ConfigProblem {
  /** A file path, `env` or `settings`. */
  source: string;
  line?: number;
  key?: string;
  message: string;
  severity: 'error' | 'warning';
}

/** The VS Code settings; null or undefined = not set. */
export interface BudgetSettings {
  totalBudget?: number | null;
  warningThreshold?: number | null;
  perAgentLimits?: Record<string, unknown> | null;
  budgetPeriod?: string | null;
  costBudgetUsd?: number | null;
}

export interface BudgetSourcesInput {
  codexHome: string;
  /** Workspace folders whose `.codex/config.toml` count, when the workspace is trusted. */
  workspaceFolders: readonly string[];
  trusted: boolean;
  env: Readonly<Record<string, string | undefined>>;
  settings?: BudgetSettings;
}

export interface BudgetLoadResult {
  budget: EffectiveBudget;
  /** The sources that set something, in the order they were applied. */
  sources: { source: string; keys: string[] }[];
  problems: ConfigProblem[];
}

/** The files that may hold a budget, in the order they apply (later wins). */
export function budgetFilePaths(input: Pick<BudgetSourcesInput, 'codexHome' | 'workspaceFolders' | 'trusted'>): string[] {
  const paths = [join(input.codexHome, 'config.toml'), join(input.codexHome, 'token-budget.toml')];
  if (input.trusted) {
    for (const folder of input.workspaceFolders) paths.push(join(folder, '.codex', 'config.toml'), join(folder, '.codex', 'token-budget.toml'));
  }
  return paths;
}

/** `~/…` for paths in the home folder, so messages stay short. */
export function displayPath(path: string, home: string = homedir()): string {
  return home && path.startsWith(`${home}/`) ? `~${path.slice(home.length)}` : path;
}

/**
 * Parses the `[token_budget]` table of one TOML file. In a dedicated `token-budget.toml` the keys
 * may also stand at the top level. Returns no patch when the file has an error (so the caller keeps
 * the last good one); unknown keys are only warnings; Codex's own `[features.token_budget]` flag
 * and every other table are ignored.
 */
export function parseBudgetToml(path: string, text: string): { patch?: BudgetPatch; problems: ConfigProblem[] } {
  const shown = displayPath(path);
  let document: Record<string, unknown>;
  try {
    document = parse(text) as Record<string, unknown>;
  } catch (err) {
    if (err instanceof TomlError) {
      const lineText = text.split(/\r?\n/)[err.line - 1] ?? '';
      const key = /^\s*([A-Za-z0-9_."'-]+)\s*=/.exec(lineText)?.[1];
      const reason = err.message.split('\n')[0]!.replace(/^Invalid TOML document:\s*/i, '');
      return { problems: [{ source: path, line: err.line, ...(key ? { key } : {}), severity: 'error', message: `${shown}:${err.line}:${err.column}: invalid TOML${key ? ` at key ${key}` : ''}: ${reason}` }] };
    }
    return { problems: [{ source: path, severity: 'error', message: `${shown}: cannot be read as TOML: ${(err as Error).message}` }] };
  }
  const dedicated = /token-budget\.toml$/.test(path);
  const tableValue = document.token_budget;
  let table: Record<string, unknown> | undefined;
  let tablePath = ['token_budget'];
  if (tableValue !== undefined) {
    if (typeof tableValue !== 'object' || tableValue === null || Array.isArray(tableValue) || tableValue instanceof Date) {
      const line = findKeyLine(text, [], 'token_budget');
      return { problems: [{ source: path, ...(line ? { line } : {}), key: 'token_budget', severity: 'error', message: `${shown}${line ? `:${line}` : ''}: token_budget must be a table ([token_budget])` }] };
    }
    table = tableValue as Record<string, unknown>;
  } else if (dedicated) {
    table = document;
    tablePath = [];
  }
  if (!table) return { patch: {}, problems: [] };
  const patch: BudgetPatch = {};
  const problems: ConfigProblem[] = [];
  let broken = false;
  for (const [key, value] of Object.entries(table)) {
    if (!BUDGET_KEYS.includes(key as BudgetKey)) {
      if (tablePath.length === 0 && key === 'token_budget') continue;
      const line = findKeyLine(text, tablePath, key) ?? findTableLine(text, [...tablePath, key]);
      const qualified = [...tablePath, key].join('.');
      problems.push({ source: path, ...(line ? { line } : {}), key: qualified, severity: 'warning', message: `${shown}${line ? `:${line}` : ''}: unknown key ${qualified} ignored (known: ${BUDGET_KEYS.join(', ')})` });
      continue;
    }
    const checked = budgetKeySchemas[key as BudgetKey].safeParse(value);
    if (!checked.success) {
      broken = true;
      const issue = checked.error.issues[0];
      const subKey = issue && issue.path.length > 0 ? String(issue.path[0]) : undefined;
      const qualified = [...tablePath, key, ...(subKey ? [subKey] : [])].join('.');
      const line = (subKey ? findKeyLine(text, [...tablePath, key], subKey) : undefined) ?? findKeyLine(text, tablePath, key) ?? findTableLine(text, [...tablePath, key]);
      const got = subKey ? (value as Record<string, unknown>)[subKey] : value;
      problems.push({ source: path, ...(line ? { line } : {}), key: qualified, severity: 'error', message: `${shown}${line ? `:${line}` : ''}: ${qualified} ${issue?.message ?? 'is invalid'} (got ${describe(got)})` });
      continue;
    }
    applyKey(patch, key as BudgetKey, checked.data);
  }
  return broken ? { problems } : { patch, problems };
}

function applyKey(patch: BudgetPatch, key: BudgetKey, value: unknown): void {
  switch (key) {
    case 'total_budget': patch.totalBudget = value as number; break;
    case 'warning_threshold': patch.warningThreshold = value as number; break;
    case 'period': patch.period = value as EffectiveBudget['period']; break;
    case 'cost_budget_usd': patch.costBudgetUsd = value as number; break;
    case 'per_agent_limits': patch.perAgentLimits = value as Record<string, number>; break;
  }
}

function describe(value: unknown): string {
  if (value instanceof Date) return `a date (${value.toISOString()})`;
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return 'an array';
  if (value !== null && typeof value === 'object') return 'a table';
  return String(value);
}

/** `CODEX_TOKEN_BUDGET` and `CODEX_TOKEN_WARNING_THRESHOLD`. */
export function patchFromEnv(env: Readonly<Record<string, string | undefined>>): { patch: BudgetPatch; problems: ConfigProblem[] } {
  const patch: BudgetPatch = {};
  const problems: ConfigProblem[] = [];
  const budget = env.CODEX_TOKEN_BUDGET?.trim();
  if (budget) {
    const n = Number(budget.replace(/_/g, ''));
    if (Number.isInteger(n) && n >= 0) patch.totalBudget = n;
    else problems.push({ source: 'env', key: 'CODEX_TOKEN_BUDGET', severity: 'error', message: `CODEX_TOKEN_BUDGET must be a whole number of tokens (0 = unlimited), not ${JSON.stringify(budget)}; ignored` });
  }
  const threshold = env.CODEX_TOKEN_WARNING_THRESHOLD?.trim();
  if (threshold) {
    const n = Number(threshold.replace(/%$/, ''));
    if (Number.isFinite(n) && n >= 0 && n <= 100) patch.warningThreshold = n;
    else problems.push({ source: 'env', key: 'CODEX_TOKEN_WARNING_THRESHOLD', severity: 'error', message: `CODEX_TOKEN_WARNING_THRESHOLD must be a percentage from 0 to 100, not ${JSON.stringify(threshold)}; ignored` });
  }
  return { patch, problems };
}

/** The VS Code settings; a bad value is refused with a message and ignored. */
export function patchFromSettings(settings: BudgetSettings | undefined): { patch: BudgetPatch; problems: ConfigProblem[] } {
  const patch: BudgetPatch = {};
  const problems: ConfigProblem[] = [];
  if (!settings) return { patch, problems };
  const refuse = (key: string, message: string): void => {
    problems.push({ source: 'settings', key: `codexTokenMeter.${key}`, severity: 'error', message: `Setting codexTokenMeter.${key} ${message}; the default is used` });
  };
  const { totalBudget, warningThreshold, perAgentLimits, budgetPeriod, costBudgetUsd } = settings;
  if (totalBudget !== null && totalBudget !== undefined) {
    if (Number.isInteger(totalBudget) && totalBudget >= 0) patch.totalBudget = totalBudget;
    else refuse('totalBudget', `must be a whole number of tokens, 0 or more (got ${describe(totalBudget)})`);
  }
  if (warningThreshold !== null && warningThreshold !== undefined) {
    if (typeof warningThreshold === 'number' && warningThreshold >= 0 && warningThreshold <= 100) patch.warningThreshold = warningThreshold;
    else refuse('warningThreshold', `must be a percentage from 0 to 100 (got ${describe(warningThreshold)})`);
  }
  if (budgetPeriod !== null && budgetPeriod !== undefined) {
    if ((BUDGET_PERIODS as readonly string[]).includes(budgetPeriod)) patch.period = budgetPeriod as EffectiveBudget['period'];
    else refuse('budgetPeriod', `must be one of ${BUDGET_PERIODS.join(', ')} (got ${describe(budgetPeriod)})`);
  }
  if (costBudgetUsd !== null && costBudgetUsd !== undefined) {
    if (typeof costBudgetUsd === 'number' && costBudgetUsd >= 0) patch.costBudgetUsd = costBudgetUsd;
    else refuse('costBudgetUsd', `must be a number of US dollars, 0 or more (got ${describe(costBudgetUsd)})`);
  }
  if (perAgentLimits && Object.keys(perAgentLimits).length > 0) {
    const limits: Record<string, number> = {};
    for (const [agent, limit] of Object.entries(perAgentLimits)) {
      if (typeof limit === 'number' && Number.isInteger(limit) && limit >= 0) limits[agent] = limit;
      else refuse(`perAgentLimits.${agent}`, `must be a whole number of tokens (got ${describe(limit)})`);
    }
    patch.perAgentLimits = limits;
  }
  return { patch, problems };
}

function applyPatch(budget: EffectiveBudget, patch: BudgetPatch): string[] {
  const keys: string[] = [];
  for (const [key, value] of Object.entries(patch) as [keyof EffectiveBudget, unknown][]) {
    if (value === undefined) continue;
    if (key === 'perAgentLimits') budget.perAgentLimits = { ...budget.perAgentLimits, ...(value as Record<string, number>) };
    else (budget as unknown as Record<string, unknown>)[key] = value;
    keys.push(key);
  }
  return keys;
}

/**
 * Loads the budget from every source. It remembers each file's last good values: when a file
 * becomes broken, its error is reported and its last good values stay in force until it is fixed.
 */
export class BudgetConfigStore {
  private readonly lastGood: Map<string, BudgetPatch>;

  /** `remembered`: the last good values per file from an earlier run (see `remembered()`). */
  constructor(private readonly readText: ReadText, remembered: Record<string, BudgetPatch> = {}) {
    this.lastGood = new Map(Object.entries(remembered));
  }

  /** The last good values per file, as plain JSON, so they survive a restart. */
  remembered(): Record<string, BudgetPatch> {
    return Object.fromEntries(this.lastGood);
  }

  async load(input: BudgetSourcesInput): Promise<BudgetLoadResult> {
    const budget: EffectiveBudget = { ...DEFAULT_BUDGET, perAgentLimits: {} };
    const sources: BudgetLoadResult['sources'] = [];
    const problems: ConfigProblem[] = [];
    for (const path of budgetFilePaths(input)) {
      let text: string | undefined;
      try {
        text = await this.readText(path);
      } catch (err) {
        problems.push({ source: path, severity: 'error', message: `${displayPath(path)}: cannot be read (${(err as Error).message})` });
        text = undefined;
        const previous = this.lastGood.get(path);
        if (previous) sources.push({ source: path, keys: applyPatch(budget, previous) });
        continue;
      }
      if (text === undefined) {
        this.lastGood.delete(path);
        continue;
      }
      const parsed = parseBudgetToml(path, text);
      problems.push(...parsed.problems);
      if (parsed.patch) this.lastGood.set(path, parsed.patch);
      const patch = parsed.patch ?? this.lastGood.get(path);
      if (!parsed.patch && this.lastGood.has(path)) {
        const last = problems[problems.length - 1];
        if (last) last.message += ' — the last good budget from this file stays in force';
      }
      if (patch) {
        const keys = applyPatch(budget, patch);
        if (keys.length > 0) sources.push({ source: path, keys });
      }
    }
    for (const [name, result] of [['env', patchFromEnv(input.env)], ['settings', patchFromSettings(input.settings)]] as const) {
      problems.push(...result.problems);
      const keys = applyPatch(budget, result.patch);
      if (keys.length > 0) sources.push({ source: name, keys });
    }
    return { budget, sources, problems };
  }
}
