import { createHash } from 'node:crypto';
import { readSync } from 'node:fs';
import { FileAccount, newFileAccountState, type TokenCounter } from './fileAccount.js';
import { type FileIdentity } from './fileIdentity.js';
import { type LineProblem, type RateLimitSnapshot, type ThreadInfo, type UsageIncrement } from './ledgerTypes.js';
import { type ReadLine, readCompleteLines, readCompressedLines } from './lineReader.js';
import { type FileRecord, MAX_PROBLEMS_PER_FILE } from './scanState.js';

const SAMPLE_BYTES = 32;
/** The sample at offset 0 is longer, so it covers the thread id of the first line (session_meta or legacy header). */
const HEAD_SAMPLE_BYTES = 512;
const SAMPLE_POINTS = 8;

/**
 * Everything one read of a file found, before any of it reaches the ledger: the caller applies it
 * only when the read succeeded, so a read that fails half-way changes nothing. It is plain data, so
 * a read done in another thread hands it over as it is.
 */
export interface FileReadOutcome {
  /** The file's record after the read (position, samples, account state, problems). */
  record: FileRecord;
  /** Increments in file order (the ledger counts each key once). */
  increments: UsageIncrement[];
  /** Thread metadata in file order (a later one for the same thread replaces an earlier one). */
  threads: ThreadInfo[];
  /** The latest rate-limit snapshot the read saw. */
  rateLimits: RateLimitSnapshot | undefined;
  /** Lines of this read that could not be used (those beyond the record's limit only counted). */
  newProblems: LineProblem[];
  skippedProblems: number;
  /** Threads whose usage this read estimated from text. */
  estimatedThreads: string[];
  bytesRead: number;
}

/** An empty record for a file read from its first byte. */
export function freshRecord(identity: FileIdentity): FileRecord {
  return { position: { offset: 0, lineCount: 0 }, size: 0, mtimeMs: 0, ino: identity.ino, sampleDigest: '', account: newFileAccountState(), problems: [] };
}

/**
 * Reads what is new in one rollout file after `previous` (or all of it), accounting its lines.
 * Touches nothing shared: the previous record is copied, never changed.
 */
export function readRolloutFile(path: string, previous: FileRecord, identity: FileIdentity, countTokens: TokenCounter): FileReadOutcome {
  const accountState = structuredClone(previous.account);
  const account = new FileAccount(path, accountState, countTokens);
  const problems = [...previous.problems];
  const outcome: FileReadOutcome = {
    record: previous,
    increments: [],
    threads: [],
    rateLimits: undefined,
    newProblems: [],
    skippedProblems: 0,
    estimatedThreads: [],
    bytesRead: 0,
  };
  const onLine = (line: ReadLine): void => {
    const result = account.handle(line);
    if (result.thread) outcome.threads.push(result.thread);
    for (const inc of result.increments) outcome.increments.push(inc);
    if (result.rateLimits && (!outcome.rateLimits || result.rateLimits.observedAt >= outcome.rateLimits.observedAt)) outcome.rateLimits = result.rateLimits;
    if (result.problem) {
      if (problems.length < MAX_PROBLEMS_PER_FILE) {
        problems.push(result.problem);
        outcome.newProblems.push(result.problem);
      } else {
        outcome.skippedProblems += 1;
      }
    }
    if (result.estimatedThread && !outcome.estimatedThreads.includes(result.estimatedThread)) outcome.estimatedThreads.push(result.estimatedThread);
  };
  const compressed = path.endsWith('.zst');
  let sampleDigest = '';
  // Reading from the start, the samples are taken from the chunks as they stream by (for the
  // usual file, whose last line is complete); otherwise they are read after the lines.
  const streamed = previous.position.offset === 0 ? new StreamSampler(identity.size) : undefined;
  const read = compressed
    ? readCompressedLines(path, account.classify, onLine)
    : readCompleteLines(path, previous.position, account.classify, onLine, {
      quickClassify: account.quickClassify,
      afterRead: (fd, r) => {
        sampleDigest = streamed?.digestFor(r.offset) ?? readSampleDigest(fd, r.offset);
      },
      ...(streamed ? { onChunk: streamed.take } : {}),
    });
  outcome.bytesRead = read.offset - previous.position.offset;
  outcome.record = {
    position: { offset: read.offset, lineCount: read.lineCount },
    size: identity.size,
    mtimeMs: identity.mtimeMs,
    ino: identity.ino,
    sampleDigest,
    account: accountState,
    problems,
  };
  return outcome;
}

/** True when the bytes `record` read are no longer what the file holds (replaced, truncated or rewritten). */
export function wasRewritten(fd: number, record: FileRecord, identity: FileIdentity): boolean {
  if (identity.ino !== record.ino || identity.size < record.position.offset) return true;
  return readSampleDigest(fd, record.position.offset) !== record.sampleDigest;
}

/**
 * Where to sample the first `offset` bytes: the start, the end, and evenly in between. The
 * positions follow from the offset alone, so a record keeps only the digest of what it saw there.
 */
export function samplePositions(offset: number): number[] {
  if (offset <= 0) return [];
  const last = Math.max(0, offset - SAMPLE_BYTES);
  const positions = new Set<number>([0, last]);
  for (let k = 1; k < SAMPLE_POINTS - 1; k += 1) positions.add(Math.floor((last * k) / (SAMPLE_POINTS - 1)));
  return [...positions].sort((x, y) => x - y);
}

/** How many bytes the sample at `at` covers when `consumed` bytes were read (never past them). */
export function sampleLength(at: number, consumed: number): number {
  return Math.min(at === 0 ? HEAD_SAMPLE_BYTES : SAMPLE_BYTES, consumed - at);
}

/** The digest a record keeps of its samples (SHA-1 of the sample bytes in order, base64). */
export function digestOfSamples(samples: readonly Uint8Array[]): string {
  const hash = createHash('sha1');
  for (const sample of samples) hash.update(sample);
  return hash.digest('base64');
}

/** Takes the samples of a whole-file read from its chunks, for the size the file had when it was opened. */
class StreamSampler {
  // Typed arrays: an array of numbers holds small integers in one element kind and others in another,
  // and the optimized reading code, which inlines `take`, was deoptimized each time the kind changed.
  private readonly positions: Float64Array;
  private readonly lengths: Float64Array;
  private readonly buffers: Buffer[];
  private readonly filled: Float64Array;

  constructor(private readonly expectedOffset: number) {
    this.positions = Float64Array.from(samplePositions(expectedOffset));
    this.lengths = this.positions.map((at) => sampleLength(at, expectedOffset));
    this.buffers = Array.from(this.lengths, (n) => Buffer.alloc(n));
    this.filled = new Float64Array(this.lengths.length);
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

  /** The samples' digest, when the read consumed exactly the expected bytes and saw all of them. */
  digestFor(consumed: number): string | undefined {
    if (consumed !== this.expectedOffset) return undefined;
    if (this.filled.some((n, i) => n !== this.lengths[i])) return undefined;
    return digestOfSamples(this.buffers);
  }
}

/** Reads the samples of the first `consumed` bytes and returns their digest. */
function readSampleDigest(fd: number, consumed: number): string {
  const samples: Buffer[] = [];
  for (const at of samplePositions(consumed)) {
    const buffer = Buffer.alloc(sampleLength(at, consumed));
    const bytesRead = readSync(fd, buffer, 0, buffer.length, at);
    samples.push(buffer.subarray(0, bytesRead));
  }
  return digestOfSamples(samples);
}
