import * as z from 'zod/mini';

export const BUDGET_PERIODS = ['all', 'month', 'week', 'day'] as const;
export type BudgetPeriod = (typeof BUDGET_PERIODS)[number];

/** The budget in force, after every source has had its say. */
export interface EffectiveBudget {
  /** Tokens per period; 0 = unlimited. */
  totalBudget: number;
  /** Percent of the budget at which to warn. */
  warningThreshold: number;
  period: BudgetPeriod;
  costBudgetUsd?: number;
  perAgentLimits: Record<string, number>;
}

export const DEFAULT_BUDGET: EffectiveBudget = { totalBudget: 0, warningThreshold: 80, period: 'month', perAgentLimits: {} };

/** What one source may set; every key optional. */
export type BudgetPatch = Partial<EffectiveBudget>;

const tokens = z.number({ error: 'must be a whole number of tokens' }).check(z.int({ error: 'must be a whole number of tokens' }), z.nonnegative({ error: 'must not be negative' }));

/** Each key of `[token_budget]` with its own message, so errors name the key. */
export const budgetKeySchemas = {
  total_budget: tokens,
  warning_threshold: z.number({ error: 'must be a number from 0 to 100' }).check(z.gte(0, { error: 'must be a number from 0 to 100' }), z.lte(100, { error: 'must be a number from 0 to 100' })),
  period: z.enum(BUDGET_PERIODS, { error: 'must be one of "all", "month", "week", "day"' }),
  cost_budget_usd: z.number({ error: 'must be a number of US dollars' }).check(z.nonnegative({ error: 'must not be negative' })),
  per_agent_limits: z.record(z.string(), tokens, { error: 'must be a table of agent names to token limits' }),
} as const;

export type BudgetKey = keyof typeof budgetKeySchemas;
export const BUDGET_KEYS = Object.keys(budgetKeySchemas) as BudgetKey[];
