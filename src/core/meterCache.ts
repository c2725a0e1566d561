import { dirname, join } from 'node:path';
import { type CacheKey, keyMismatch, readStoredCache, staleReason, stampOf, type StoredStamp, writeCacheFile } from './cacheStamp.js';
import { type FilesStamp } from './fileIdentity.js';
import { type RateLimitSnapshot } from './ledgerTypes.js';
import { type Logger } from './logger.js';
import { addFigures, type CellsSummary, type ReportCells, roundCost, type UsageFigures } from './reports.js';
import { isLocalMidnight, localDay } from './timeZones.js';
import { emptyBuckets, type TokenBuckets } from './usage.js';
import { compareText } from './textOrder.js';

/**
 * The meter cache: what the status bar needs of all time, summed per local day and agent, with the
 * stamp of the state it was summed from (cacheStamp.ts). The extension's scan worker writes it
 * beside its state when it stops; on the next start the host shows its figures at once, before the
 * worker has started, and the worker checks them against every rollout before it loads the state.
 * It grows with days and agents, not with the logs: 55 KiB on the 1 GB bench home and 69 KiB on
 * the 10 GB one (eight months, five agents), where the scan state is 8 and 83 MiB.
 */
export const METER_CACHE_VERSION = 2;
export const METER_CACHE_FILE = 'meter-cache.json';
/**
 * The most the host reads at activation (synchronously): a meter cache holds a row per day and
 * agent, ~70 bytes each (55 KiB for eight months of five agents), so 4 MiB is decades of many agents.
 */
export const METER_CACHE_MAX_BYTES = 4 << 20;

/** The figures the status bar needs, for the budget period. */
export interface MeterSummary {
  buckets: TokenBuckets;
  totalTokens: number;
  costUsd: number | undefined;
  unpricedTokens: number;
  estimatedTokens: number;
  agents: { agent: string; kind: string; totalTokens: number }[];
  rateLimits: RateLimitSnapshot | undefined;
  badLines: number;
  files: number;
}

/** The meter's figures from the cells' summary (summaryFromCells), with the scan's bad lines and files. */
export function meterSummaryOf(summary: CellsSummary, badLines: number, files: number): MeterSummary {
  return {
    buckets: summary.totals.buckets,
    totalTokens: summary.totals.totalTokens,
    costUsd: summary.totals.costUsd,
    unpricedTokens: summary.totals.unpricedTokens,
    estimatedTokens: summary.totals.estimatedTokens,
    agents: summary.agents.map((a) => ({ agent: a.label, kind: a.kind, totalTokens: a.totalTokens })),
    rateLimits: summary.rateLimits,
    badLines,
    files,
  };
}

/** One local day's usage by one agent. */
export interface MeterDay extends UsageFigures {
  day: string;
  /** An index into the cache's agents. */
  agent: number;
}

const noFigures = (): UsageFigures => ({ buckets: emptyBuckets(), totalTokens: 0, costUsd: undefined, unpricedTokens: 0, estimatedTokens: 0 });

export interface MeterCache {
  timeZone: string;
  agents: { id: string; name: string; kind: string }[];
  days: MeterDay[];
  rateLimits: RateLimitSnapshot | undefined;
  badLines: number;
  trackedFiles: number;
}

/** The meter cache of all-time cells (unfiltered, ungrouped), with the scan's bad lines and files. */
export function meterCacheOf(cells: ReportCells, badLines: number, trackedFiles: number): MeterCache {
  const agents: MeterCache['agents'] = [];
  const agentIndex = new Map<string, number>();
  const days = new Map<string, MeterDay>();
  for (const thread of cells.threads) {
    let agent = agentIndex.get(thread.agent.id);
    if (agent === undefined) agentIndex.set(thread.agent.id, (agent = agents.push({ ...thread.agent }) - 1));
    for (const cell of thread.cells) {
      const key = `${cell.day}\u0000${agent}`;
      let row = days.get(key);
      if (!row) days.set(key, (row = { day: cell.day, agent, ...noFigures() }));
      addFigures(row, cell);
    }
  }
  return { timeZone: cells.timeZone, agents, days: [...days.values()], rateLimits: cells.rateLimits, badLines, trackedFiles };
}

/**
 * The meter for a period [since, until) of whole local days in the cache's time zone: the figures
 * summaryFromCells gives for the period's cells (tokens exactly; costs summed in another order,
 * equal once rounded to a billionth of a dollar but for the last bits). Undefined when the period
 * does not start and end at local midnights (a budget period reset at some other time of day).
 */
export function meterFromCache(cache: MeterCache, since: Date | undefined, until: Date | undefined): MeterSummary | undefined {
  if (!isLocalMidnight(since, cache.timeZone) || !isLocalMidnight(until, cache.timeZone)) return undefined;
  const first = since ? localDay(since, cache.timeZone) : undefined;
  const end = until ? localDay(until, cache.timeZone) : undefined;
  const totals = noFigures();
  const agents = new Map<number, { agent: string; id: string; kind: string; totalTokens: number }>();
  for (const row of cache.days) {
    if ((first !== undefined && row.day < first) || (end !== undefined && row.day >= end)) continue;
    addFigures(totals, row);
    let agent = agents.get(row.agent);
    if (!agent) {
      const a = cache.agents[row.agent]!;
      agents.set(row.agent, (agent = { agent: a.name, id: a.id, kind: a.kind, totalTokens: 0 }));
    }
    agent.totalTokens += row.totalTokens;
  }
  return {
    ...totals,
    // Rounded as reports.ts rounds its sums: the same figures whatever order they were added in.
    costUsd: totals.costUsd === undefined ? undefined : roundCost(totals.costUsd),
    agents: [...agents.values()]
      .sort((a, b) => b.totalTokens - a.totalTokens || compareText(a.id, b.id))
      .map((a) => ({ agent: a.agent, kind: a.kind, totalTokens: a.totalTokens })),
    rateLimits: cache.rateLimits,
    badLines: cache.badLines,
    files: cache.trackedFiles,
  };
}

/** The outcome of looking for a current meter cache: the cache, or why there is none. */
export type MeterCacheLookup = { hit: true; cache: MeterCache } | { hit: false; reason: string };

/** Reads, checks and writes the meter cache at `path` beside the scan state file at `statePath`. */
export class MeterCacheStore {
  constructor(
    readonly path: string,
    private readonly statePath: string,
    private readonly logger: Logger,
  ) {}

  /** The meter cache in the folder of the scan state file at `statePath` (METER_CACHE_FILE), where the extension keeps it. */
  static beside(statePath: string, logger: Logger): MeterCacheStore {
    return new MeterCacheStore(join(dirname(statePath), METER_CACHE_FILE), statePath, logger);
  }

  /**
   * The cache as it was written for `key`, not checked against the rollouts (that is lookup's
   * job): what the host shows while the worker starts. Undefined when there is none for the key
   * (why is logged at debug level). Reads nothing but the cache (see above: tens of KiB), and
   * synchronously: at the extension host's start an asynchronous read waited ~50 ms for its thread pool.
   */
  read(key: CacheKey): MeterCache | undefined {
    const read = readStoredCache<StoredMeterCache>(this.path, METER_CACHE_VERSION, METER_CACHE_MAX_BYTES);
    if ('reason' in read) {
      if (read.kind === 'invalid') this.logger.debug(`Meter cache not shown: ${read.reason}.`);
      else this.logger[read.kind === 'missing' ? 'debug' : 'warn'](`No meter cache to show: ${read.reason}.`);
      return undefined;
    }
    const decoded = this.decode(read.stored, key);
    if (typeof decoded === 'string') {
      this.logger.debug(`Meter cache not shown: ${decoded}.`);
      return undefined;
    }
    return decoded.cache;
  }

  /** The cache when it is current for `key` (nothing new in any rollout since it was written); else why not (logged at debug level). */
  async lookup(key: CacheKey): Promise<MeterCacheLookup> {
    const miss = (reason: string): MeterCacheLookup => {
      this.logger.debug(`Meter cache not used: ${reason}.`);
      return { hit: false, reason };
    };
    const read = readStoredCache<StoredMeterCache>(this.path, METER_CACHE_VERSION);
    if ('reason' in read) return miss(read.reason);
    const decoded = this.decode(read.stored, key);
    if (typeof decoded === 'string') return miss(decoded);
    const stale = await staleReason(decoded.stored, key, this.statePath, this.path, this.logger);
    return stale ? miss(stale) : { hit: true, cache: decoded.cache };
  }

  /** Writes the cache for the state as it is on disk now, atomically; a failure is logged, never thrown. */
  save(key: CacheKey, files: FilesStamp, cache: MeterCache): void {
    const stamp = stampOf(key, this.statePath, files);
    if (!stamp) return;
    writeCacheFile(this.path, encodeMeterCache(cache, stamp), this.logger, 'the next start shows the meter once the scan state is loaded');
  }

  private decode(s: Partial<StoredMeterCache>, key: CacheKey): { stored: StoredMeterCache; cache: MeterCache } | string {
    const mismatch = keyMismatch(s, key);
    if (mismatch) return mismatch;
    try {
      return { stored: s as StoredMeterCache, cache: decodeMeterCache(s) };
    } catch (err) {
      return `${this.path} does not have the expected shape (${(err as Error).message})`;
    }
  }
}

/**
 * The stored form: the stamp; the agents as [id, name, kind]; the days one flat array of 11 values
 * each: day, agent (an index into `agents`), uncached input, cached input, cache-write input, output,
 * reasoning, total, cost (null: none priced), unpriced, estimated tokens.
 */
interface StoredMeterCache extends StoredStamp {
  version: typeof METER_CACHE_VERSION;
  agents: [id: string, name: string, kind: string][];
  days: (string | number | null)[];
  rateLimits: RateLimitSnapshot | null;
  badLines: number;
  trackedFiles: number;
}

const DAY_FIELDS = 11;

function encodeMeterCache(cache: MeterCache, stamp: StoredStamp): StoredMeterCache {
  const days: StoredMeterCache['days'] = [];
  for (const d of cache.days) {
    const b = d.buckets;
    days.push(d.day, d.agent, b.uncachedInput, b.cachedInput, b.cacheWriteInput, b.output, b.reasoningOutput, d.totalTokens, d.costUsd ?? null, d.unpricedTokens, d.estimatedTokens);
  }
  return {
    version: METER_CACHE_VERSION,
    ...stamp,
    agents: cache.agents.map((a) => [a.id, a.name, a.kind]),
    days,
    rateLimits: cache.rateLimits ?? null,
    badLines: cache.badLines,
    trackedFiles: cache.trackedFiles,
  };
}

const isString = (v: unknown): v is string => typeof v === 'string';
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0;

/** The cache of a stored one; throws on anything encodeMeterCache does not write. */
function decodeMeterCache(s: Partial<StoredMeterCache>): MeterCache {
  if (!isString(s.timeZone)) throw new Error('no time zone');
  if (!Array.isArray(s.agents) || !Array.isArray(s.days) || s.days.length % DAY_FIELDS !== 0) throw new Error('no days');
  const agents = s.agents.map((a: unknown, n) => {
    if (!Array.isArray(a) || a.length !== 3 || !isString(a[0]) || !isString(a[1]) || !isString(a[2])) throw new Error(`agent ${n}`);
    return { id: a[0], name: a[1], kind: a[2] };
  });
  const days: MeterDay[] = [];
  const f = s.days;
  for (let i = 0; i < f.length; i += DAY_FIELDS) {
    const [day, agent, u, cached, write, output, reasoning, total, cost, unpriced, estimated] = f.slice(i, i + DAY_FIELDS);
    const ok = isString(day) && /^\d{4}-\d\d-\d\d$/.test(day) && typeof agent === 'number' && agents[agent] !== undefined
      && isCount(u) && isCount(cached) && isCount(write) && isCount(output) && isCount(reasoning) && isCount(total)
      && (cost === null || (typeof cost === 'number' && Number.isFinite(cost))) && isCount(unpriced) && isCount(estimated);
    if (!ok) throw new Error(`day ${i / DAY_FIELDS}`);
    days.push({
      day, agent, buckets: { uncachedInput: u, cachedInput: cached, cacheWriteInput: write, output, reasoningOutput: reasoning },
      totalTokens: total, costUsd: cost === null ? undefined : cost, unpricedTokens: unpriced, estimatedTokens: estimated,
    });
  }
  const rateLimits = s.rateLimits;
  if (rateLimits !== null && (typeof rateLimits !== 'object' || !isString(rateLimits.observedAt))) throw new Error('rateLimits');
  if (!isCount(s.badLines) || !isCount(s.trackedFiles)) throw new Error('counts');
  return { timeZone: s.timeZone, agents, days, rateLimits: rateLimits ?? undefined, badLines: s.badLines, trackedFiles: s.trackedFiles };
}
