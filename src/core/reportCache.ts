import { type CacheKey, keyMismatch, readStampedCache, type RolloutFilesNow, sameStoredState, staleReason, stampOf, type StoredStamp, writeStampedCache } from './cacheStamp.js';
import { type FilesStamp } from './fileIdentity.js';
import { emptyCounters, type LedgerCounters, type RateLimitSnapshot } from './ledgerTypes.js';
import { type Logger } from './logger.js';
import { type CellThread, type ReportCell, type ReportCells } from './reports.js';

/**
 * The report cache: the cells of the last full run (reports.ts), with what they were made from, so a
 * run that finds nothing new prints its report without loading the scan state (8 MiB on a 1 GB
 * home) or the scanner. It is a pure cache: whatever is wrong with it (missing, corrupt, another
 * version, build or time zone, a rollout or the state changed since) only means the full run.
 * When it is current is cacheStamp.ts's to say.
 */
export const REPORT_CACHE_VERSION = 4;
export const REPORT_CACHE_FILE = 'report-cache.json';

/** What the CLI prints beside a report, as a full run with nothing new would. */
export interface ScanFacts {
  warnings: { file: string; line: number; reason: string }[];
  counters: LedgerCounters;
  estimatedThreads: number;
  trackedFiles: number;
}

export interface ReportCacheContent {
  key: CacheKey;
  /** Every rollout file the state had read, as the scanner's records had them (UsageScanner.filesStamp). */
  files: FilesStamp;
  cells: ReportCells;
  facts: ScanFacts;
}

/** The outcome of looking for a current cache: its content and stamp, or why there is none. */
export type CacheLookup = { hit: true; cells: ReportCells; facts: ScanFacts; stamp: StoredStamp } | { hit: false; reason: string };

/** Reads, checks and writes the report cache at `path` beside the scan state file at `statePath`. */
export class ReportCacheStore {
  /** What the cache held when cellsOfState last gave its cells: its text after the stamp, and its facts and rate limits as stored. */
  private loaded: { restText: string; facts: unknown; rateLimits: unknown } | undefined;

  constructor(
    readonly path: string,
    readonly statePath: string,
    private readonly logger: Logger,
  ) {}

  /** The cache's cells when the cache is current for `key` (the rollouts as `filesNow` sees them); else why not (logged at debug level). */
  async lookup(key: CacheKey, filesNow?: RolloutFilesNow): Promise<CacheLookup> {
    const miss = (reason: string): CacheLookup => {
      this.logger.debug(`Report cache not used: ${reason}.`);
      return { hit: false, reason };
    };
    const read = readStampedCache<StoredReportCache>(this.path, REPORT_CACHE_VERSION);
    if ('reason' in read) return miss(read.reason);
    // The stamp alone first: the cells are parsed only for a cache that is current.
    const stale = await staleReason(read.stamp, key, this.statePath, this.path, this.logger, filesNow);
    if (stale) return miss(stale);
    const whole = read.whole();
    if ('reason' in whole) return miss(whole.reason);
    const s = whole.stored;
    try {
      const stamp: StoredStamp = { build: s.build!, timeZone: s.timeZone!, roots: s.roots!, state: s.state!, files: s.files! };
      return { hit: true, cells: decodeCells(s), facts: decodeFacts(s.facts), stamp };
    } catch (err) {
      return miss(`${this.path} does not have the expected shape (${(err as Error).message})`);
    }
  }

  /**
   * The cache's cells of all time when it was written for `key` beside the state files as they are
   * in `state` (storedStateOf, taken before and after the state was loaded), whatever the rollouts
   * are now: the cells collectCells gave for the ledger that state loads into. A run that reads what
   * is new goes on from them (CellCollector.continuing) instead of summing every increment again.
   * Undefined, with the reason logged at debug level, when there are none such.
   */
  cellsOfState(key: CacheKey, state: StoredStamp['state']): ReportCells | undefined {
    const none = (reason: string): undefined => {
      this.logger.debug(`The report cache's cells are summed again: ${reason}.`);
      return undefined;
    };
    const read = readStampedCache<StoredReportCache>(this.path, REPORT_CACHE_VERSION);
    if ('reason' in read) return none(read.reason);
    const mismatch = keyMismatch(read.stamp, key);
    if (mismatch) return none(mismatch);
    if (!sameStoredState(read.stamp.state, state)) return none('it was written beside another scan state');
    const whole = read.whole();
    if ('reason' in whole) return none(whole.reason);
    const s = whole.stored;
    try {
      const cells = decodeCells(s);
      if (cells.since !== undefined || cells.until !== undefined) return none('its cells are not of all time');
      this.loaded = { restText: whole.restText, facts: s.facts, rateLimits: s.rateLimits ?? null };
      return cells;
    } catch (err) {
      return none(`${this.path} does not have the expected shape (${(err as Error).message})`);
    }
  }

  /**
   * Writes the cache atomically (a temporary file, then a rename); a failure is logged, never thrown:
   * the cache is only a cache. `cellsAsLoaded`: the cells are the ones cellsOfState gave, nothing
   * summed since (a run after lines without usage). With the same facts and rate limits, the cache
   * read is written again as it was, under the new stamp: encoding 4,380 cells again took ~15 ms of
   * such a run on a 1 GB home.
   */
  save(content: ReportCacheContent, cellsAsLoaded = false): void {
    const stamp = stampOf(content.key, this.statePath, content.files);
    if (!stamp) return;
    const consequence = 'the next run reads the scan state instead';
    const loaded = this.loaded;
    if (cellsAsLoaded && loaded && JSON.stringify([content.facts, content.cells.rateLimits ?? null]) === JSON.stringify([loaded.facts, loaded.rateLimits])) {
      this.logger.debug(`The report cache's cells are written again as they were read, under the new stamp.`);
      writeStampedCache(this.path, REPORT_CACHE_VERSION, stamp, { text: loaded.restText }, this.logger, consequence);
      return;
    }
    const { version, build, timeZone, roots, state, files, ...rest } = encodeReportCache(content, stamp);
    writeStampedCache(this.path, version, { build, timeZone, roots, state, files }, { json: rest }, this.logger, consequence);
  }
}

/**
 * The stored form, in two lines (readStampedCache: the version and the stamp, then the rest): the
 * stamp (cacheStamp.ts); a thread as [id, parent, agent (an index into
 * `agents`), archived, cells], its cells one flat array of 16 values each: model, day and cwd
 * (indexes into `strings`, -1 for none), uncached input, cached input, cache-write input, output,
 * reasoning, total, cost, unpriced, estimated tokens, responses, first seen, last seen, estimated.
 * null stands for undefined.
 */
interface StoredReportCache extends StoredStamp {
  version: typeof REPORT_CACHE_VERSION;
  since: string | null;
  until: string | null;
  strings: string[];
  agents: [id: string, name: string, kind: string][];
  threads: StoredThread[];
  rateLimits: RateLimitSnapshot | null;
  facts: ScanFacts;
}

type StoredThread = [id: string, parent: string | null, agent: number, archived: boolean, cells: (string | number | boolean | null)[]];
const CELL_FIELDS = 16;

export function encodeReportCache(content: ReportCacheContent, stamp: StoredStamp): StoredReportCache {
  const strings: string[] = [];
  const stringIndex = new Map<string, number>();
  const ref = (value: string | undefined): number => {
    if (value === undefined) return -1;
    let i = stringIndex.get(value);
    if (i === undefined) stringIndex.set(value, (i = strings.push(value) - 1));
    return i;
  };
  const agents: StoredReportCache['agents'] = [];
  const agentIndex = new Map<string, number>();
  const agentRef = (agent: CellThread['agent']): number => {
    const id = `${agent.id}\u0000${agent.name}\u0000${agent.kind}`;
    let i = agentIndex.get(id);
    if (i === undefined) agentIndex.set(id, (i = agents.push([agent.id, agent.name, agent.kind]) - 1));
    return i;
  };
  const threads = content.cells.threads.map((t): StoredThread => {
    const cells: StoredThread[4] = [];
    for (const c of t.cells) {
      const b = c.buckets;
      cells.push(
        ref(c.model), ref(c.day), ref(c.cwd), b.uncachedInput, b.cachedInput, b.cacheWriteInput, b.output, b.reasoningOutput,
        c.totalTokens, c.costUsd ?? null, c.unpricedTokens, c.estimatedTokens, c.responses, c.firstSeen ?? null, c.lastSeen ?? null, c.estimated,
      );
    }
    return [t.threadId, t.parentThreadId ?? null, agentRef(t.agent), t.archived, cells];
  });
  return {
    version: REPORT_CACHE_VERSION,
    ...stamp,
    since: content.cells.since ?? null,
    until: content.cells.until ?? null,
    strings,
    agents,
    threads,
    rateLimits: content.cells.rateLimits ?? null,
    facts: content.facts,
  };
}

const isString = (v: unknown): v is string => typeof v === 'string';
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0;
const orUndefined = <T>(v: T | null): T | undefined => (v === null ? undefined : v);

/** The cells of a stored cache; throws on anything it does not write. */
export function decodeCells(stored: Partial<StoredReportCache>): ReportCells {
  const { strings, agents } = stored;
  if (!Array.isArray(stored.threads) || !Array.isArray(strings) || !Array.isArray(agents)) throw new Error('no threads');
  if (!isString(stored.timeZone)) throw new Error('no time zone');
  const str = (i: unknown, where: string): string | undefined => {
    if (i === -1) return undefined;
    const value = typeof i === 'number' ? strings[i] : undefined;
    if (!isString(value)) throw new Error(where);
    return value;
  };
  const agentOf = agents.map((a: unknown, n) => {
    if (!Array.isArray(a) || a.length !== 3 || !isString(a[0]) || !isString(a[1]) || !isString(a[2])) throw new Error(`agent ${n}`);
    return { id: a[0], name: a[1], kind: a[2] };
  });
  const threads: CellThread[] = stored.threads.map((t: unknown, n): CellThread => {
    if (!Array.isArray(t) || t.length !== 5 || !isString(t[0]) || !(t[1] === null || isString(t[1])) || typeof t[2] !== 'number' || agentOf[t[2]] === undefined
      || typeof t[3] !== 'boolean' || !Array.isArray(t[4]) || t[4].length % CELL_FIELDS !== 0) {
      throw new Error(`thread ${n}`);
    }
    const flat = t[4] as unknown[];
    const cells: ReportCell[] = [];
    for (let i = 0; i < flat.length; i += CELL_FIELDS) cells.push(decodeCell(flat, i, str, `thread ${n} cell ${i / CELL_FIELDS}`));
    return { threadId: t[0], parentThreadId: orUndefined(t[1]), agent: agentOf[t[2]]!, archived: t[3], cells };
  });
  const rateLimits = stored.rateLimits;
  if (rateLimits !== null && (typeof rateLimits !== 'object' || !isString(rateLimits.observedAt))) throw new Error('rateLimits');
  const since = stored.since ?? null;
  const until = stored.until ?? null;
  if (!(since === null || isString(since)) || !(until === null || isString(until))) throw new Error('period');
  return { timeZone: stored.timeZone, since: orUndefined(since), until: orUndefined(until), threads, rateLimits: orUndefined(rateLimits) };
}

function decodeCell(c: unknown[], at: number, str: (i: unknown, where: string) => string | undefined, where: string): ReportCell {
  const model = str(c[at], where);
  const day = str(c[at + 1], where);
  const cwd = str(c[at + 2], where);
  const u = c[at + 3], cached = c[at + 4], write = c[at + 5], output = c[at + 6], reasoning = c[at + 7], total = c[at + 8];
  const cost = c[at + 9], unpriced = c[at + 10], estimatedTokens = c[at + 11], responses = c[at + 12], first = c[at + 13], last = c[at + 14], estimated = c[at + 15];
  const ok = model !== undefined && day !== undefined
    && isCount(u) && isCount(cached) && isCount(write) && isCount(output) && isCount(reasoning) && isCount(total)
    && (cost === null || (typeof cost === 'number' && Number.isFinite(cost))) && isCount(unpriced) && isCount(estimatedTokens) && isCount(responses)
    && (first === null || isString(first)) && (last === null || isString(last)) && typeof estimated === 'boolean';
  if (!ok) throw new Error(where);
  return {
    buckets: { uncachedInput: u, cachedInput: cached, cacheWriteInput: write, output, reasoningOutput: reasoning },
    totalTokens: total, costUsd: orUndefined(cost), unpricedTokens: unpriced, estimatedTokens, responses,
    firstSeen: orUndefined(first), lastSeen: orUndefined(last),
    model, day, cwd, estimated,
  };
}

function decodeFacts(facts: unknown): ScanFacts {
  const f = facts as Partial<ScanFacts> | null;
  if (typeof f !== 'object' || f === null || !Array.isArray(f.warnings) || !isCount(f.estimatedThreads) || !isCount(f.trackedFiles)) throw new Error('facts');
  for (const w of f.warnings as unknown[]) {
    const warning = w as Partial<ScanFacts['warnings'][number]> | null;
    if (typeof warning !== 'object' || warning === null || !isString(warning.file) || !isCount(warning.line) || !isString(warning.reason)) throw new Error('facts.warnings');
  }
  const counters = emptyCounters();
  const stored = f.counters as unknown as Record<string, unknown> | undefined;
  for (const name of Object.keys(counters) as (keyof LedgerCounters)[]) {
    const value = stored?.[name];
    if (!isCount(value)) throw new Error(`facts.counters.${name}`);
    counters[name] = value;
  }
  return { warnings: f.warnings, counters, estimatedThreads: f.estimatedThreads, trackedFiles: f.trackedFiles };
}
