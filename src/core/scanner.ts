import { type FileHandle, open, stat } from 'node:fs/promises';
import { discoverRolloutFiles } from './discovery.js';
import { FileAccount, newFileAccountState, type TokenCounter } from './fileAccount.js';
import { UsageLedger } from './ledger.js';
import { addCounters, emptyCounters, type LedgerCounters, type LineProblem } from './ledgerTypes.js';
import { type ReadLine, readCompleteLines, readCompressedLines } from './lineReader.js';
import { type Logger } from './logger.js';
import { type FileRecord, MAX_PROBLEMS_PER_FILE, type PersistedScanState, SCAN_STATE_VERSION } from './scanState.js';

const SAMPLE_BYTES = 32;
/** The sample at offset 0 is longer, so it covers the thread id of the first line (session_meta or legacy header). */
const HEAD_SAMPLE_BYTES = 512;
const PARALLEL_FILES = 8;
const SAMPLE_POINTS = 8;

export interface ScannerOptions {
  roots: readonly string[];
  logger: Logger;
  countTokens: TokenCounter;
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

  constructor(
    private readonly options: ScannerOptions,
    state?: PersistedScanState,
  ) {
    if (state && state.version === SCAN_STATE_VERSION) {
      this.ledger = UsageLedger.fromJSON(state.ledger);
      for (const [path, record] of Object.entries(state.files)) this.records.set(path, record);
      for (const record of this.records.values()) if (record.account.format === 'legacy' && record.account.threadId) this.reportedEstimates.add(record.account.threadId);
    } else {
      this.ledger = new UsageLedger();
    }
  }

  /** Finds every rollout file under the roots and reads what is new; forgets files that are gone. */
  async scanAll(onProgress?: (done: number, total: number) => void): Promise<ScanSummary> {
    const found = await discoverRolloutFiles(this.options.roots, this.options.logger);
    const summary: ScanSummary = { files: 0, bytesRead: 0, newIncrements: 0, removedFiles: 0, problems: [...found.problems] };
    const present = new Set<string>();
    let done = 0;
    const readable = found.files;
    for (const file of readable) present.add(file.path);
    // A few files at a time, so reading one overlaps waiting for another (each file's own lines are
    // still read in order; files are independent, and the ledger's keys make their order irrelevant).
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < readable.length) {
        const file = readable[next++]!;
        const refresh = await this.refreshFile(file.path);
        summary.files += 1;
        summary.bytesRead += refresh.bytesRead;
        summary.newIncrements += refresh.newIncrements;
        if (refresh.error) summary.problems.push({ path: file.path, reason: refresh.error });
        done += 1;
        onProgress?.(done, readable.length);
      }
    };
    await Promise.all(Array.from({ length: Math.min(PARALLEL_FILES, readable.length) }, worker));
    for (const path of [...this.records.keys()]) {
      if (!present.has(path)) {
        this.removeFile(path);
        summary.removedFiles += 1;
      }
    }
    return summary;
  }

  /** Reads whatever is new in one file (or takes it out of the ledger when it is gone). */
  async refreshFile(path: string): Promise<FileRefresh> {
    const result: FileRefresh = { path, bytesRead: 0, newIncrements: 0, reset: false, removed: false };
    let info;
    try {
      info = await stat(path);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') {
        if (this.records.has(path)) this.removeFile(path);
        result.removed = true;
        return result;
      }
      return this.unreadableFile(path, err as Error, result);
    }
    let record = this.records.get(path);
    try {
      if (record && record.size === info.size && record.mtimeMs === info.mtimeMs && record.ino === info.ino) return result;
      const compressed = path.endsWith('.zst');
      if (record && (compressed || (await this.wasReplaced(path, record, info.size, info.ino)))) {
        this.options.logger.info(`${path} was replaced or rewritten; reading it again from the start.`);
        this.removeFile(path);
        record = undefined;
        result.reset = true;
      }
      if (!record) {
        record = { position: { offset: 0, lineCount: 0 }, size: 0, mtimeMs: 0, ino: info.ino, samples: [], account: newFileAccountState(), problems: [] };
      }
      // The account works on a copy, committed only when the read succeeds, so a read that fails
      // half-way leaves the file to be read again from the same place.
      const accountState = structuredClone(record.account);
      const account = new FileAccount(path, accountState, this.options.countTokens);
      const before = record.position.offset;
      const problems = [...record.problems];
      const onLine = (line: ReadLine): void => {
        const outcome = account.handle(line);
        if (outcome.thread) this.ledger.setThread(outcome.thread);
        for (const inc of outcome.increments) if (this.ledger.add(path, inc)) result.newIncrements += 1;
        if (outcome.rateLimits) this.ledger.noteRateLimits(outcome.rateLimits);
        if (outcome.problem) {
          if (problems.length < MAX_PROBLEMS_PER_FILE) problems.push(outcome.problem);
          this.options.logger.warn(`Skipped line ${outcome.problem.line} of ${path}: ${outcome.problem.reason}`);
        }
        if (outcome.estimatedThread && !this.reportedEstimates.has(outcome.estimatedThread)) {
          this.reportedEstimates.add(outcome.estimatedThread);
          this.options.logger.info(`Thread ${outcome.estimatedThread} has no usage in its log (${path}); its tokens are estimated from the text with the o200k tokenizer and marked "estimated".`);
        }
      };
      let samples: FileRecord['samples'] = [];
      // Reading from the start, the samples are taken from the chunks as they stream by (for the
      // usual file, whose last line is complete); otherwise they are read after the lines.
      const streamed = record.position.offset === 0 ? new StreamSampler(info.size) : undefined;
      const read = compressed
        ? await readCompressedLines(path, account.classify, onLine)
        : await readCompleteLines(path, record.position, account.classify, onLine, async (handle, r) => {
          samples = streamed?.samplesFor(r.offset) ?? await readSamples(handle, samplePositions(r.offset), r.offset);
        }, streamed?.take);
      result.bytesRead = read.offset - before;
      record.account = accountState;
      record.problems = problems;
      record.position = { offset: read.offset, lineCount: read.lineCount };
      record.size = info.size;
      record.mtimeMs = info.mtimeMs;
      record.ino = info.ino;
      record.samples = samples;
      this.records.set(path, record);
      this.unreadable.delete(path);
      return result;
    } catch (err) {
      return this.unreadableFile(path, err as Error, result);
    }
  }

  /** Takes a file's contributions out of the ledger and forgets it. */
  removeFile(path: string): void {
    this.records.delete(path);
    this.ledger.removeFile(path);
  }

  /** Lines that could not be used (bad JSON, unexpected shapes), in file order; the first 100 per file. */
  problems(): LineProblem[] {
    const all: LineProblem[] = [];
    for (const record of this.records.values()) all.push(...record.problems);
    return all;
  }

  /** Files that could not be read, with the reason; what they reported before stays counted. */
  get unreadableFiles(): ReadonlyMap<string, string> {
    return this.unreadable;
  }

  get estimatedThreads(): ReadonlySet<string> {
    return this.reportedEstimates;
  }

  get trackedFiles(): number {
    return this.records.size;
  }

  /** The counters of all files, summed. */
  counters(): LedgerCounters {
    const total = emptyCounters();
    for (const record of this.records.values()) addCounters(total, record.account.counters);
    return total;
  }

  toState(): PersistedScanState {
    return { version: SCAN_STATE_VERSION, savedAt: new Date().toISOString(), files: Object.fromEntries(this.records), ledger: this.ledger.toJSON() };
  }

  private async wasReplaced(path: string, record: FileRecord, size: number, ino: number): Promise<boolean> {
    if (ino !== record.ino || size < record.position.offset) return true;
    const handle = await open(path, 'r');
    let now: FileRecord['samples'];
    try {
      now = await readSamples(handle, record.samples.map((s) => s.at), record.position.offset);
    } finally {
      await handle.close();
    }
    return now.some((sample, i) => sample.bytes !== record.samples[i]!.bytes);
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

/** Where to sample the first `offset` bytes: the start, the end, and evenly in between. */
function samplePositions(offset: number): number[] {
  if (offset <= 0) return [];
  const last = Math.max(0, offset - SAMPLE_BYTES);
  const positions = new Set<number>([0, last]);
  for (let k = 1; k < SAMPLE_POINTS - 1; k += 1) positions.add(Math.floor((last * k) / (SAMPLE_POINTS - 1)));
  return [...positions].sort((x, y) => x - y);
}

/** Takes the samples of a whole-file read from its chunks, for the size the file had when it was opened. */
class StreamSampler {
  private readonly positions: number[];
  private readonly lengths: number[];
  private readonly buffers: Buffer[];
  private readonly filled: number[];

  constructor(private readonly expectedOffset: number) {
    this.positions = samplePositions(expectedOffset);
    this.lengths = this.positions.map((at) => sampleLength(at, expectedOffset));
    this.buffers = this.lengths.map((n) => Buffer.alloc(n));
    this.filled = this.lengths.map(() => 0);
  }

  readonly take = (chunk: Buffer, position: number): void => {
    const end = position + chunk.length;
    for (let i = 0; i < this.positions.length; i += 1) {
      const at = this.positions[i]!;
      const stop = at + this.lengths[i]!;
      if (stop <= position || at >= end) continue;
      const from = Math.max(at, position);
      const to = Math.min(stop, end);
      chunk.copy(this.buffers[i]!, from - at, from - position, to - position);
      this.filled[i]! += to - from;
    }
  };

  /** The samples, when the read consumed exactly the expected bytes and saw all of them. */
  samplesFor(consumed: number): FileRecord['samples'] | undefined {
    if (consumed !== this.expectedOffset) return undefined;
    if (this.filled.some((n, i) => n !== this.lengths[i])) return undefined;
    return this.positions.map((at, i) => ({ at, bytes: this.buffers[i]!.toString('base64') }));
  }
}

/** How many bytes the sample at `at` covers when `consumed` bytes were read. */
function sampleLength(at: number, consumed: number): number {
  return Math.min(at === 0 ? HEAD_SAMPLE_BYTES : SAMPLE_BYTES, consumed - at);
}

/** Reads the samples of the first `consumed` bytes (the head sample never reaches past them). */
async function readSamples(handle: FileHandle, positions: number[], consumed: number): Promise<{ at: number; bytes: string }[]> {
  const out: { at: number; bytes: string }[] = [];
  const buffer = Buffer.alloc(HEAD_SAMPLE_BYTES);
  for (const at of positions) {
    const length = sampleLength(at, consumed);
    const { bytesRead } = await handle.read(buffer, 0, length, at);
    out.push({ at, bytes: buffer.subarray(0, bytesRead).toString('base64') });
  }
  return out;
}
