import { closeSync, openSync, statSync } from 'node:fs';
import { discoverRolloutFiles, type DiscoveryResult } from './discovery.js';
import { type TokenCounter } from './fileAccount.js';
import { type FileIdentity, FilesDigest, type FilesStamp, sameIdentity } from './fileIdentity.js';
import { type FileReadOutcome, freshRecord, readRolloutFile, wasRewritten } from './fileRead.js';
import { type FileReadPool, type PooledRead, worthReaderThreads } from './fileReadPool.js';
import { UsageLedger } from './ledger.js';
import { addCounters, emptyCounters, type LedgerCounters, type LineProblem } from './ledgerTypes.js';
import { type Logger } from './logger.js';
import { type FileRecord, type PersistedScanState, SCAN_STATE_VERSION, type ScanStateChanges } from './scanState.js';

export interface ScannerOptions {
  roots: readonly string[];
  logger: Logger;
  countTokens: TokenCounter;
  /**
   * Opens reader threads for a scan that finds many files never read before (a first start, say);
   * they read such files whole beside this thread, and are closed when the scan ends.
   */
  openReadPool?: () => FileReadPool;
  /** How many files never read before make opening the pool worth it (default 32). */
  poolThreshold?: number;
  /** How many bytes of such files make it worth it (default 512 MiB; 0: the file count alone decides). */
  poolThresholdBytes?: number;
}

/**
 * The rollout files as a check saw them a moment before a scan (UsageScanner.scanAll): the listing,
 * and each file's identity when the check stat'ed them all. A scan that goes on from them acts as
 * if it had run at that moment: it takes a file whose identity then is the one its record holds as
 * unchanged, and stats again any other before reading it. What changed since is found by the next run.
 */
export interface SeenRollouts {
  found: DiscoveryResult;
  identities?: ReadonlyMap<string, FileIdentity>;
}

/** What one refresh of a file did. */
export interface FileRefresh {
  path: string;
  bytesRead: number;
  newIncrements: number;
  /** The file was replaced, truncated or rewritten and was read again from the start. */
  reset: boolean;
  removed: boolean;
  error?: string;
}

export interface ScanSummary {
  files: number;
  bytesRead: number;
  newIncrements: number;
  removedFiles: number;
  problems: { path: string; reason: string }[];
}

/**
 * Keeps the ledger in step with the rollout files: reads each file from where it stopped, notices
 * files that were replaced, truncated, rewritten or deleted, and takes their old contributions
 * back before reading them again. Its state can be persisted and handed to a later instance.
 */
export class UsageScanner {
  readonly ledger: UsageLedger;
  private readonly records = new Map<string, FileRecord>();
  private readonly reportedEstimates = new Set<string>();
  private readonly unreadable = new Map<string, string>();
  private poolOpen = false;
  /**
   * Every file's counters summed, kept up to date as records are set and dropped once it was first
   * asked for (counters()): a meter update after each change would otherwise sum them all (25,000
   * files on a 10 GB home).
   */
  private countersTotal: LedgerCounters | undefined;
  /** The digest of every file's path and identity, kept up to date as records are set once it was first asked for (filesStamp()). */
  private digest: FilesDigest | undefined;
  /** Files whose record changed since the state was loaded or last saved; undefined until then. */
  private changedFiles: Set<string> | undefined;

  constructor(
    private readonly options: ScannerOptions,
    state?: PersistedScanState,
  ) {
    if (state && state.version === SCAN_STATE_VERSION) {
      this.ledger = UsageLedger.fromJSON(state.ledger);
      for (const [path, record] of Object.entries(state.files)) this.records.set(path, record);
      // The changes saved since the state was written, made again in order.
      for (const entry of state.journal ?? []) {
        for (const change of entry.ledger) this.ledger.apply(change);
        for (const [path, record] of Object.entries(entry.files)) {
          if (record) this.records.set(path, record);
          else this.records.delete(path);
        }
      }
      // What is on disk now is this state: changes from here on can be saved as a journal entry.
      this.ledger.recordChanges();
      this.changedFiles = new Set();
      for (const record of this.records.values()) if (record.account.format === 'legacy' && record.account.threadId) this.reportedEstimates.add(record.account.threadId);
    } else {
      this.ledger = new UsageLedger();
    }
  }

  /**
   * Finds every rollout file under the roots and reads what is new; forgets files that are gone.
   * With `seen`, goes on from the files as a check found them a moment before instead of listing
   * the roots and stat'ing every file again (SeenRollouts).
   */
  async scanAll(onProgress?: (done: number, total: number) => void, seen?: SeenRollouts): Promise<ScanSummary> {
    const found = seen?.found ?? await discoverRolloutFiles(this.options.roots, this.options.logger);
    const earlier = seen?.identities;
    if (seen) this.options.logger.debug(`The scan goes on from the ${found.files.length} rollout file(s) the check listed a moment ago${earlier ? ', as they were stat\'ed then' : ''}.`);
    const summary: ScanSummary = { files: 0, bytesRead: 0, newIncrements: 0, removedFiles: 0, problems: [...found.problems] };
    const present = new Set<string>();
    let done = 0;
    const readable = found.files;
    for (const file of readable) present.add(file.path);
    const count = (refresh: FileRefresh): void => {
      summary.files += 1;
      summary.bytesRead += refresh.bytesRead;
      summary.newIncrements += refresh.newIncrements;
      if (refresh.error) summary.problems.push({ path: refresh.path, reason: refresh.error });
      done += 1;
      onProgress?.(done, readable.length);
    };
    // Files read before are checked here; files never read are shared with the reader threads when
    // there are enough of them (files are independent, and the ledger's keys make their order irrelevant).
    const known = readable.filter((f) => this.records.has(f.path)).map((f) => f.path);
    const fresh = readable.filter((f) => !this.records.has(f.path)).map((f) => f.path);
    /** Files a failed reader thread handed back: only this thread takes them. */
    const handedBack: string[] = [];
    const takeNext = (): string | undefined => known.pop() ?? handedBack.pop() ?? fresh.pop();
    const local = async (): Promise<void> => {
      for (let path = takeNext(); path !== undefined; path = takeNext()) count(await this.refreshFile(path, earlier?.get(path)));
    };
    const worthThreads = this.options.openReadPool !== undefined && worthReaderThreads(fresh, this.options.poolThreshold, this.options.poolThresholdBytes);
    const pool = worthThreads ? this.openPool(fresh.length) : undefined;
    this.poolOpen = pool !== undefined;
    const pooled = pool
      ? pool.readAll(() => fresh.pop(), (read) => {
        const refresh = this.applyPooledRead(read);
        if (refresh) count(refresh);
        else {
          // Its thread failed: read it here instead (and say so once).
          if (handedBack.length === 0) this.options.logger.warn(`${read.error?.message ?? 'A reader thread stopped'}; reading its files in this thread instead.`);
          handedBack.push(read.path);
        }
      }).finally(() => pool.close())
      : Promise.resolve();
    try {
      await Promise.all([pooled, local()]);
    } finally {
      this.poolOpen = false;
    }
    // Files handed back by a failed reader thread after the local readers finished.
    await local();
    for (const path of [...this.records.keys()]) {
      if (!present.has(path)) {
        this.removeFile(path);
        summary.removedFiles += 1;
      }
    }
    return summary;
  }

  /**
   * Reads whatever is new in one file (or takes it out of the ledger when it is gone). `seenAs`: the
   * file's identity a moment ago (SeenRollouts); when its record has that identity, the file is
   * taken as unchanged without a stat.
   */
  async refreshFile(path: string, seenAs?: FileIdentity): Promise<FileRefresh> {
    const result: FileRefresh = { path, bytesRead: 0, newIncrements: 0, reset: false, removed: false };
    // Reader threads are served between files (their messages wait for this thread's event loop).
    if (this.poolOpen) await new Promise<void>((resolve) => setImmediate(resolve));
    if (seenAs) {
      const known = this.records.get(path);
      if (known && sameIdentity(known, seenAs)) return result;
    }
    let info: FileIdentity;
    try {
      info = statSync(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return this.fileGone(path, result);
      return this.unreadableFile(path, err as Error, result);
    }
    let record = this.records.get(path);
    try {
      if (record && sameIdentity(record, info)) return result;
      if (record && (path.endsWith('.zst') || this.wasReplaced(path, record, info))) {
        this.options.logger.info(`${path} was replaced or rewritten; reading it again from the start.`);
        this.removeFile(path);
        record = undefined;
        result.reset = true;
      }
      const outcome = readRolloutFile(path, record ?? freshRecord(info), info, this.options.countTokens);
      return this.apply(path, outcome, result);
    } catch (err) {
      return this.unreadableFile(path, err as Error, result);
    }
  }

  /** Puts what one read found into the ledger and keeps the file's new record. */
  private apply(path: string, outcome: FileReadOutcome, result: FileRefresh): FileRefresh {
    const logger = this.options.logger;
    for (const thread of outcome.threads) this.ledger.setThread(thread);
    for (const inc of outcome.increments) if (this.ledger.add(path, inc)) result.newIncrements += 1;
    if (outcome.rateLimits) this.ledger.noteRateLimits(outcome.rateLimits);
    for (const problem of outcome.newProblems) logger.warn(`Skipped line ${problem.line} of ${path}: ${problem.reason}`);
    if (outcome.skippedProblems > 0) {
      logger.warn(`Skipped ${outcome.skippedProblems} more unusable line(s) of ${path} (only the first ${outcome.record.problems.length} are listed).`);
    }
    for (const threadId of outcome.estimatedThreads) {
      if (this.reportedEstimates.has(threadId)) continue;
      this.reportedEstimates.add(threadId);
      logger.info(`Thread ${threadId} has no usage in its log (${path}); its tokens are estimated from the text with the o200k tokenizer and marked "estimated".`);
    }
    result.bytesRead = outcome.bytesRead;
    this.setRecord(path, outcome.record);
    this.unreadable.delete(path);
    return result;
  }

  /** Applies a whole-file read done by a reader thread; undefined when the thread failed before reading it. */
  private applyPooledRead(read: PooledRead): FileRefresh | undefined {
    const result: FileRefresh = { path: read.path, bytesRead: 0, newIncrements: 0, reset: false, removed: false };
    if (read.outcome) return this.apply(read.path, read.outcome, result);
    if (read.threadFailed) return undefined;
    if (read.error?.code === 'ENOENT') return this.fileGone(read.path, result);
    const error = Object.assign(new Error(read.error?.message ?? 'unknown error'), { code: read.error?.code });
    return this.unreadableFile(read.path, error, result);
  }

  private openPool(files: number): FileReadPool | undefined {
    try {
      const pool = this.options.openReadPool?.();
      if (pool) this.options.logger.info(`Reading ${files} files never read before with reader threads beside this one.`);
      return pool;
    } catch (err) {
      this.options.logger.warn(`Could not start reader threads (${(err as Error).message}); reading in this thread only.`);
      return undefined;
    }
  }

  private fileGone(path: string, result: FileRefresh): FileRefresh {
    if (this.records.has(path)) this.removeFile(path);
    result.removed = true;
    return result;
  }

  /** Takes a file's contributions out of the ledger and forgets it. */
  removeFile(path: string): void {
    this.setRecord(path, undefined);
    this.ledger.removeFile(path);
  }

  /**
   * Keeps `record` as the file's record (undefined: forgets the file), with what follows the records:
   * the counters' sum and the files' digest, once they are kept, and the files changed since the last save.
   */
  private setRecord(path: string, record: FileRecord | undefined): void {
    const before = this.records.get(path);
    if (this.countersTotal) {
      if (before) addCounters(this.countersTotal, before.account.counters, -1);
      if (record) addCounters(this.countersTotal, record.account.counters);
    }
    if (this.digest) {
      if (before) this.digest.remove(path, before);
      if (record) this.digest.add(path, record);
    }
    if (record) this.records.set(path, record);
    else this.records.delete(path);
    this.changedFiles?.add(path);
  }

  /**
   * What changed since the state was loaded or last taken (to save as one journal entry), or
   * undefined when only the whole state will do: no state was loaded, or too much changed to keep.
   * Either way it starts over: the caller saves what it gets (or the whole state), so that is what
   * the next changes follow.
   */
  takeChanges(): ScanStateChanges | undefined {
    const ledger = this.ledger.recordedChanges;
    const paths = this.changedFiles;
    this.ledger.recordChanges();
    this.changedFiles = new Set();
    if (!ledger || !paths) return undefined;
    const files: Record<string, FileRecord | null> = {};
    for (const path of paths) files[path] = this.records.get(path) ?? null;
    return { ledger: [...ledger], files };
  }

  /** Lines that could not be used (bad JSON, unexpected shapes), in file order; the first 100 per file. */
  problems(): LineProblem[] {
    const all: LineProblem[] = [];
    // Most files have none: spreading each one's empty list was ~40 ms of a run on a 10 GB home's 25,000 files.
    for (const record of this.records.values()) if (record.problems.length > 0) all.push(...record.problems);
    return all;
  }

  /** Files that could not be read, with the reason; what they reported before stays counted. */
  get unreadableFiles(): ReadonlyMap<string, string> {
    return this.unreadable;
  }

  get estimatedThreads(): ReadonlySet<string> {
    return this.reportedEstimates;
  }

  /**
   * The files read, as they were when read last (their paths, sizes, mtimes and inodes: what tells a
   * file with nothing new), as a count and a digest; kept up to date from the first call on.
   */
  filesStamp(): FilesStamp {
    this.digest ??= FilesDigest.of(this.records);
    return this.digest.stamp;
  }

  get trackedFiles(): number {
    return this.records.size;
  }

  /** The counters of all files, summed. */
  counters(): LedgerCounters {
    if (!this.countersTotal) {
      this.countersTotal = emptyCounters();
      for (const record of this.records.values()) addCounters(this.countersTotal, record.account.counters);
    }
    return { ...this.countersTotal };
  }

  toState(): PersistedScanState {
    return { version: SCAN_STATE_VERSION, savedAt: new Date().toISOString(), files: Object.fromEntries(this.records), ledger: this.ledger.toJSON() };
  }

  private wasReplaced(path: string, record: FileRecord, info: FileIdentity): boolean {
    if (info.ino !== record.ino || info.size < record.position.offset) return true;
    const fd = openSync(path, 'r');
    try {
      return wasRewritten(fd, record, info);
    } finally {
      closeSync(fd);
    }
  }

  private unreadableFile(path: string, err: Error, result: FileRefresh): FileRefresh {
    const code = (err as NodeJS.ErrnoException).code;
    result.error = `${code ?? 'error'}: ${err.message}`;
    if (this.unreadable.get(path) !== result.error) {
      this.options.logger.warn(`Cannot read ${path} (${result.error}); what it reported before stays counted, other files are not affected.`);
    }
    this.unreadable.set(path, result.error);
    return result;
  }
}
