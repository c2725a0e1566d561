import { type AgentIdentity } from './agents.js';
import { type CodexTokenUsage } from './normalize.js';
import { type TokenBuckets } from './usage.js';

/** Where an increment's figures came from. */
export type IncrementSource = 'record' | 'snapshot' | 'estimate';

/** One model response's usage (or, for estimates, one estimated response). Counted exactly once. */
export interface UsageIncrement {
  /** Dedup key: the same response seen in two files, or read twice, has the same key. */
  key: string;
  threadId: string;
  /** ISO timestamp of the line that reported it. */
  timestamp: string;
  model?: string;
  /** Working directory of the turn, when known. */
  cwd?: string;
  buckets: TokenBuckets;
  source: IncrementSource;
  /** The provider figures as written in the log. */
  raw?: CodexTokenUsage;
}

/** What a report reads of an increment (UsageLedger.forEachIncrement): no raw figures, nothing to keep. */
export interface IncrementView {
  readonly key: string;
  readonly threadId: string;
  readonly timestamp: string;
  readonly model?: string | undefined;
  readonly cwd?: string | undefined;
  readonly buckets: Readonly<TokenBuckets>;
  readonly source: IncrementSource;
}

/** What session_meta (or a legacy header) says about a thread. */
export interface ThreadInfo {
  threadId: string;
  startedAt?: string;
  cwd?: string;
  gitRepositoryUrl?: string;
  gitBranch?: string;
  originator?: string;
  cliVersion?: string;
  modelProvider?: string;
  source?: string;
  forkedFromId?: string;
  parentThreadId?: string;
  agent: AgentIdentity;
  /** The file that defined the thread. */
  file: string;
}

export interface RateLimitWindow {
  usedPercent: number;
  windowMinutes?: number;
  /** Epoch milliseconds when the window resets, when the log says. */
  resetsAt?: number;
}

export interface RateLimitSnapshot {
  observedAt: string;
  threadId?: string;
  primary?: RateLimitWindow;
  secondary?: RateLimitWindow;
  planType?: string;
}

/** A line that could not be used, with where it is. */
export interface LineProblem {
  file: string;
  line: number;
  reason: string;
}

/** Counters that explain what the ledger ignored and why. */
export interface LedgerCounters {
  badLines: number;
  unknownLineTypes: number;
  repeatedSnapshots: number;
  replayedSnapshots: number;
  totalsRestarts: number;
  sourceDisagreements: number;
  compactions: number;
  oversizedLines: number;
  usageRecords: number;
  snapshots: number;
}

export function emptyCounters(): LedgerCounters {
  return {
    badLines: 0,
    unknownLineTypes: 0,
    repeatedSnapshots: 0,
    replayedSnapshots: 0,
    totalsRestarts: 0,
    sourceDisagreements: 0,
    compactions: 0,
    oversizedLines: 0,
    usageRecords: 0,
    snapshots: 0,
  };
}

const COUNTER_KEYS = Object.keys(emptyCounters()) as (keyof LedgerCounters)[];

/** Adds `add`'s counters into `target` (times `sign`: -1 takes them back out). */
export function addCounters(target: LedgerCounters, add: LedgerCounters, sign: 1 | -1 = 1): LedgerCounters {
  for (const key of COUNTER_KEYS) target[key] += sign * add[key];
  return target;
}
