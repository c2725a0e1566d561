/**
 * Messages between the token panel's host (extension) and its webview. The host is the source of
 * truth: it sends a full snapshot when the panel opens or becomes visible, then snapshots again when
 * usage changes; the webview keeps only UI state (filters, sort, scroll) and asks for data.
 * Everything here is plain JSON. Strings that come from the logs (cwd, model and agent names) are
 * data: the webview only ever puts them into the page as text.
 */

import { type SortSpec } from './sorting.js';

export type PeriodChoice = 'today' | 'week' | 'month' | 'all' | 'custom';

export interface PanelFilter {
  period: PeriodChoice;
  /** `YYYY-MM-DD`, for period 'custom'. */
  since?: string;
  until?: string;
  agentId?: string;
  model?: string;
  project?: string;
  /** The order of the thread rows: a view with more threads than a snapshot holds sends the first ones in it. */
  threadSort?: SortSpec;
  /**
   * Root threads the view holds at most: PANEL_THREAD_ROWS when absent, raised by that much each
   * time the user asks for more ("Show … more").
   */
  threadRows?: number;
}

/**
 * Root threads a panel snapshot holds unless the user asks for more: a long view (a large home's
 * All time has tens of thousands) is cut after the first ones in the panel's order; the export
 * asks for all of them.
 */
export const PANEL_THREAD_ROWS = 1000;
/** The most root threads a view may ask for (a check on what the webview sends). */
export const PANEL_THREAD_ROWS_MAX = 1_000_000;

export interface BucketFigures {
  uncachedInput: number;
  cachedInput: number;
  cacheWriteInput: number;
  output: number;
  reasoningOutput: number;
}

export interface FigureRow {
  key: string;
  label: string;
  buckets: BucketFigures;
  totalTokens: number;
  costUsd: number | null;
  unpricedTokens: number;
  estimatedTokens: number;
  responses: number;
  firstSeen: string | null;
  lastSeen: string | null;
}

export interface AgentPanelRow extends FigureRow {
  kind: string;
  threads: number;
  /** Share of the budget (0..1+) when a budget is set. */
  budgetShare: number | null;
  limit: number | null;
  /** used ÷ limit. */
  limitShare: number | null;
  /** Sub-agents spawned by this agent's threads. */
  children: AgentPanelRow[];
}

export interface ThreadPanelRow extends FigureRow {
  threadId: string;
  parentThreadId: string | null;
  agent: string;
  models: string[];
  project: string | null;
  estimated: boolean;
  /** Usage of this thread and all its sub-agents. */
  rolledUpTokens: number;
  rolledUpCostUsd: number | null;
  children: ThreadPanelRow[];
}

export interface RateLimitFigures {
  label: string;
  usedPercent: number;
  resetsAt: string | null;
}

export interface PanelDiagnostics {
  badLines: number;
  repeatedSnapshots: number;
  replayedSnapshots: number;
  estimatedThreads: number;
  unpricedTokens: number;
  sourceDisagreements: number;
  unreadableFiles: number;
}

export interface PanelSnapshot {
  generatedAt: string;
  filter: PanelFilter;
  periodLabel: string;
  timeZone: string;
  scanning: boolean;
  header: {
    usedTokens: number;
    budgetTokens: number | null;
    budgetPercent: number | null;
    level: 'ok' | 'warning' | 'exceeded';
    budgetPeriod: string;
    periodResetsAt: string | null;
    costUsd: number | null;
    unpricedTokens: number;
    costBudgetUsd: number | null;
    cacheHitRate: number | null;
    reasoningShare: number | null;
    estimatedTokens: number;
    rateLimits: RateLimitFigures[];
  };
  totals: FigureRow;
  agents: AgentPanelRow[];
  models: FigureRow[];
  projects: FigureRow[];
  /**
   * Root threads, sub-agent threads nested under the thread that spawned them: all of them, or in a
   * view with more than a snapshot holds (PANEL_THREAD_ROWS), the first roots in `filter.threadSort` order.
   */
  threads: ThreadPanelRow[];
  /** Threads in the view, sub-agents included (more than `threads` holds when it was cut). */
  threadCount: number;
  days: FigureRow[];
  /** Choices for the filter menus (all agents/models/projects in the period, unfiltered). */
  choices: { agents: { id: string; label: string }[]; models: string[]; projects: string[] };
  diagnostics: PanelDiagnostics;
}

/** Host → webview. */
export type HostMessage =
  | { type: 'snapshot'; snapshot: PanelSnapshot }
  /** Only the sections that changed since the last snapshot or update this webview received. */
  | { type: 'update'; changes: Partial<PanelSnapshot> }
  | { type: 'scanning'; scanning: boolean; detail?: string }
  | { type: 'error'; message: string };

/** Webview → host. Validated by the host before it acts. */
export type WebviewMessage =
  | { type: 'ready' }
  | { type: 'setFilter'; filter: PanelFilter }
  | { type: 'export'; format: 'csv' | 'json' }
  | { type: 'openSettings' }
  | { type: 'refresh' }
  /** After the first render of a whole snapshot: lets the host log how long opening took. */
  | { type: 'rendered'; threads: number };

/** The webview's persisted UI state (vscode.setState), restored by the panel serializer. */
export interface PanelUiState {
  filter: PanelFilter;
  sort: Record<string, { column: string; descending: boolean }>;
  expanded: string[];
  scrollTop: number;
}
