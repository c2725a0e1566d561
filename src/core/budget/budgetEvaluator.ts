import { formatInteger } from '../../shared/format.js';
import { type EffectiveBudget } from './budgetSchema.js';

export type BudgetLevel = 'ok' | 'warning' | 'exceeded';

export interface BudgetUsage {
  totalTokens: number;
  costUsd?: number;
  estimatedTokens: number;
  perAgent: { agent: string; totalTokens: number }[];
}

export interface AgentBudgetStatus {
  agent: string;
  used: number;
  limit: number;
  percent: number;
  level: BudgetLevel;
}

export interface BudgetStatus {
  usedTokens: number;
  estimatedTokens: number;
  /** Undefined when the budget is unlimited. */
  percent: number | undefined;
  level: BudgetLevel;
  costPercent: number | undefined;
  costLevel: BudgetLevel;
  agents: AgentBudgetStatus[];
}

function levelOf(percent: number | undefined, threshold: number): BudgetLevel {
  if (percent === undefined) return 'ok';
  if (percent >= 100) return 'exceeded';
  return percent >= threshold ? 'warning' : 'ok';
}

/** Where usage stands against the budget: total, cost, and every agent that has a limit. */
export function evaluateBudget(budget: EffectiveBudget, usage: BudgetUsage): BudgetStatus {
  const percent = budget.totalBudget > 0 ? (usage.totalTokens / budget.totalBudget) * 100 : undefined;
  const costPercent = budget.costBudgetUsd && budget.costBudgetUsd > 0 && usage.costUsd !== undefined ? (usage.costUsd / budget.costBudgetUsd) * 100 : undefined;
  const used = new Map(usage.perAgent.map((a) => [a.agent, a.totalTokens]));
  const agents: AgentBudgetStatus[] = Object.entries(budget.perAgentLimits)
    .filter(([, limit]) => limit > 0)
    .map(([agent, limit]) => {
      const u = used.get(agent) ?? 0;
      const p = (u / limit) * 100;
      return { agent, used: u, limit, percent: p, level: levelOf(p, budget.warningThreshold) };
    });
  return { usedTokens: usage.totalTokens, estimatedTokens: usage.estimatedTokens, percent, level: levelOf(percent, budget.warningThreshold), costPercent, costLevel: levelOf(costPercent, budget.warningThreshold), agents };
}

export interface Crossing {
  /** Stable id, e.g. `total:warning`, `agent:code-reviewer:exceeded`. */
  id: string;
  level: 'warning' | 'exceeded';
  message: string;
  agent?: string;
}

/** What was already notified in which period; plain JSON, so it can be persisted. */
export interface CrossingState {
  periodKey: string;
  notified: string[];
}

/**
 * Decides which threshold crossings to announce: each crossing once per period (a new period, or
 * a reset, starts afresh). Feed it every new status; it returns only what is new.
 */
export class CrossingTracker {
  private state: CrossingState;

  constructor(initial?: CrossingState) {
    this.state = initial ? { periodKey: initial.periodKey, notified: [...initial.notified] } : { periodKey: '', notified: [] };
  }

  get snapshot(): CrossingState {
    return { periodKey: this.state.periodKey, notified: [...this.state.notified] };
  }

  update(status: BudgetStatus, budget: EffectiveBudget, periodKey: string, periodLabel: string): Crossing[] {
    if (periodKey !== this.state.periodKey) this.state = { periodKey, notified: [] };
    const candidates: Crossing[] = [];
    if (status.percent !== undefined && status.level !== 'ok') {
      const used = formatInteger(status.usedTokens);
      const total = formatInteger(budget.totalBudget);
      candidates.push(status.level === 'exceeded'
        ? { id: 'total:exceeded', level: 'exceeded', message: `Codex token budget exceeded: ${used} of ${total} tokens ${periodLabel}` }
        : { id: 'total:warning', level: 'warning', message: `Codex token budget at ${Math.floor(status.percent)}% (${used} of ${total} tokens ${periodLabel})` });
    }
    if (status.costPercent !== undefined && status.costLevel !== 'ok' && budget.costBudgetUsd) {
      candidates.push({ id: `cost:${status.costLevel}`, level: status.costLevel, message: `Codex cost ${status.costLevel === 'exceeded' ? 'exceeded' : `at ${Math.floor(status.costPercent)}% of`} the budget of $${budget.costBudgetUsd.toFixed(2)} ${periodLabel}` });
    }
    for (const a of status.agents) {
      if (a.level === 'ok') continue;
      const limit = formatInteger(a.limit);
      const used = formatInteger(a.used);
      candidates.push(a.level === 'exceeded'
        ? { id: `agent:${a.agent}:exceeded`, level: 'exceeded', agent: a.agent, message: `Agent ${a.agent} exceeded its limit of ${limit} tokens (current: ${used})` }
        : { id: `agent:${a.agent}:warning`, level: 'warning', agent: a.agent, message: `Agent ${a.agent} would exceed its limit of ${limit} tokens (current: ${used})` });
    }
    const fresh = candidates.filter((c) => !this.state.notified.includes(c.id));
    for (const c of fresh) {
      this.state.notified.push(c.id);
      // Announcing "exceeded" makes the earlier "warning" moot for this period.
      if (c.level === 'exceeded') this.state.notified.push(c.id.replace(/exceeded$/, 'warning'));
    }
    return fresh.filter((c) => !(c.level === 'warning' && fresh.some((o) => o.level === 'exceeded' && o.id === c.id.replace(/warning$/, 'exceeded'))));
  }
}
