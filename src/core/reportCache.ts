import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { discoverRolloutFiles } from './discovery.js';
import { type FileIdentity, identityOf } from './fileIdentity.js';
import { emptyCounters, type LedgerCounters, type RateLimitSnapshot } from './ledgerTypes.js';
import { type Logger } from './logger.js';
import { type CellThread, type ReportCell, type ReportCells } from './reports.js';
import { stateJournalPath } from './scanState.js';

/**
 * The report cache: the cells of the last full run (reports.ts), with what they were made from, so a
 * run that finds nothing new prints its report without loading the scan state (8 MiB on a 1 GB
 * home) or the scanner. It is a pure cache: whatever is wrong with it (missing, corrupt, another
 * version, build or time zone, a rollout or the state changed since) only means the full run.
 *
 * It is current when
 * - it was written by this build (its code and price data) for the same time zone and roots;
 * - the scan state file and its journal are the ones it was written beside (size, mtime and inode);
 * - the rollout files found now are the ones the state had read, each with the size, mtime and inode
 *   recorded — the scanner's own test for "nothing new in this file" (scanner.ts).
 */
export const REPORT_CACHE_VERSION = 2;
export const REPORT_CACHE_FILE = 'report-cache.json';

/** What the CLI prints beside a report, as a full run with nothing new would. */
export interface ScanFacts {
  warnings: { file: string; line: number; reason: string }[];
  counters: LedgerCounters;
  estimatedThreads: number;
  trackedFiles: number;
}

/** What a cache is valid for. */
export interface ReportCacheKey {
  /** The build of the code that made it, with the version of its price data. */
  build: string;
  timeZone: string;
  /** The roots read, resolved, in order. */
  roots: string[];
}

export interface ReportCacheContent {
  key: ReportCacheKey;
  /** The scan state file the cells were summed from, and its journal, as they were once saved. */
  state: StateFingerprint;
  /** Every rollout file the state had read, by path, as the scanner's records had them. */
  files: Record<string, FileIdentity>;
  cells: ReportCells;
  facts: ScanFacts;
}

/** The outcome of looking for a current cache: its content, or why there is none. */
export type CacheLookup = { hit: true; cells: ReportCells; facts: ScanFacts } | { hit: false; reason: string };

/** Reads, checks and writes the report cache at `path` beside the scan state file at `statePath`. */
export class ReportCacheStore {
  constructor(
    readonly path: string,
    private readonly statePath: string,
    private readonly logger: Logger,
  ) {}

  /** The cache's cells when the cache is current for `key`; else why not (logged at debug level). */
  async lookup(key: ReportCacheKey): Promise<CacheLookup> {
    const miss = (reason: string): CacheLookup => {
      this.logger.debug(`Report cache not used: ${reason}.`);
      return { hit: false, reason };
    };
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (err) {
      return miss((err as NodeJS.ErrnoException).code === 'ENOENT' ? 'there is none yet' : `cannot read ${this.path} (${(err as Error).message})`);
    }
    let stored: unknown;
    try {
      stored = JSON.parse(text);
    } catch {
      return miss(`${this.path} is not valid JSON`);
    }
    const s = stored as Partial<StoredReportCache> | null;
    if (typeof s !== 'object' || s === null || s.version !== REPORT_CACHE_VERSION) return miss(`${this.path} is of another version`);
    if (s.build !== key.build) return miss('it was written by another build');
    if (s.timeZone !== key.timeZone) return miss(`it is for the time zone ${String(s.timeZone)}`);
    if (!Array.isArray(s.roots) || s.roots.length !== key.roots.length || s.roots.some((r, i) => r !== resolve(key.roots[i]!))) return miss('it is for other roots');
    const state = stateFingerprintOf(this.statePath);
    if (!state || !Array.isArray(s.state) || storedState(state).some((v, i) => s.state![i] !== v)) return miss('the scan state changed since');
    const files = s.files;
    if (!Array.isArray(files) || files.length !== 2) return miss(`${this.path} has no file list`);
    const found = await discoverRolloutFiles(key.roots, this.logger);
    if (found.problems.length > 0) return miss('a folder cannot be read');
    if (found.files.length !== files[0]) return miss(`${Math.abs(found.files.length - Number(files[0]))} rollout file(s) came or went`);
    const now: Record<string, FileIdentity> = {};
    for (const file of found.files) {
      const info = identityOf(file.path);
      if (!info) return miss(`${file.path} cannot be read`);
      now[file.path] = info;
    }
    if (fingerprintsDigest(now) !== files[1]) return miss('a rollout file changed');
    try {
      return { hit: true, cells: decodeCells(s), facts: decodeFacts(s.facts) };
    } catch (err) {
      return miss(`${this.path} does not have the expected shape (${(err as Error).message})`);
    }
  }

  /** Writes the cache atomically (a temporary file, then a rename); a failure is logged, never thrown: the cache is only a cache. */
  save(content: Omit<ReportCacheContent, 'state'>): void {
    const state = stateFingerprintOf(this.statePath);
    if (!state) return;
    const temporary = `${this.path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    try {
      writeFileSync(temporary, JSON.stringify(encodeReportCache({ ...content, state })));
      renameSync(temporary, this.path);
    } catch (err) {
      rmSync(temporary, { force: true });
      this.logger.warn(`Could not write the report cache ${this.path} (${(err as Error).message}); the next run reads the scan state instead.`);
    }
  }
}

/** The state file and its journal (stateStore.ts), as they are now; undefined without a state file. */
export interface StateFingerprint {
  state: FileIdentity;
  journal: FileIdentity | undefined;
}

function stateFingerprintOf(statePath: string): StateFingerprint | undefined {
  const state = identityOf(statePath);
  return state ? { state, journal: identityOf(stateJournalPath(statePath)) } : undefined;
}

function storedState(f: StateFingerprint): StoredReportCache['state'] {
  return [...fingerprint(f.state), ...(f.journal ? fingerprint(f.journal) : [-1, -1, -1] as StoredFingerprint)];
}

/**
 * The stored form: fingerprints as [size, mtimeMs, ino]; the rollout files as their count and the
 * digest of their fingerprints (fingerprintsDigest); a thread as [id, parent, agent (an index into
 * `agents`), archived, cells], its cells one flat array of 16 values each: model, day and cwd
 * (indexes into `strings`, -1 for none), uncached input, cached input, cache-write input, output,
 * reasoning, total, cost, unpriced, estimated tokens, responses, first seen, last seen, estimated.
 * null stands for undefined.
 */
interface StoredReportCache {
  version: typeof REPORT_CACHE_VERSION;
  build: string;
  timeZone: string;
  roots: string[];
  /** The state file's fingerprint, then the journal's ([-1, -1, -1]: none). */
  state: [...StoredFingerprint, ...StoredFingerprint];
  files: [count: number, digest: string];
  since: string | null;
  until: string | null;
  strings: string[];
  agents: [id: string, name: string, kind: string][];
  threads: StoredThread[];
  rateLimits: RateLimitSnapshot | null;
  facts: ScanFacts;
}

type StoredFingerprint = [size: number, mtimeMs: number, ino: number];
type StoredThread = [id: string, parent: string | null, agent: number, archived: boolean, cells: (string | number | boolean | null)[]];
const CELL_FIELDS = 16;

/**
 * One digest of every file's path and fingerprint, in path order: a cache holds it instead of the
 * list (a fifth of its size on a 1 GB home), and a lookup compares it instead of each file.
 */
export function fingerprintsDigest(files: Record<string, FileIdentity>): string {
  const hash = createHash('sha1');
  for (const path of Object.keys(files).sort()) {
    const f = files[path]!;
    hash.update(`${path}\u0000${f.size}\u0000${f.mtimeMs}\u0000${f.ino}\n`);
  }
  return hash.digest('hex');
}

const fingerprint = (f: FileIdentity): StoredFingerprint => [f.size, f.mtimeMs, f.ino];

export function encodeReportCache(content: ReportCacheContent): StoredReportCache {
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
    build: content.key.build,
    timeZone: content.key.timeZone,
    roots: content.key.roots.map((r) => resolve(r)),
    state: storedState(content.state),
    files: [Object.keys(content.files).length, fingerprintsDigest(content.files)],
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
