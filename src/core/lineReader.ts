import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { Decompress } from 'fzstd';

/**
 * What the reader should do with a line, decided from its first bytes only.
 *  - 'parse': hand the whole line over (small lines that carry usage or metadata)
 *  - 'count': the line matters only as a marker; its text is not needed (it may be huge)
 *  - 'skip': conversation content; never decoded
 */
export type LineDisposition = 'parse' | 'count' | 'skip';

/** Decides from a line's prefix (at most PREFIX_BYTES, decoded as latin1) what to do with it. */
export type LineClassifier = (prefix: string) => LineDisposition;

/**
 * Optionally classifies a whole line from its raw bytes, as the classifier would, so that its
 * prefix is never decoded; undefined means "ask the classifier".
 */
export type QuickClassifier = (bytes: Buffer, start: number, end: number) => LineDisposition | undefined;

export interface ReadLine {
  /** 1-based line number in the file. */
  lineNumber: number;
  /** Byte offset of the line's first byte. */
  offset: number;
  disposition: LineDisposition;
  /** The classifier's input (the line's first bytes, latin1); '' for a line classified from its bytes. */
  prefix: string;
  /**
   * The line's bytes without its line ending; only for 'parse' lines. It may be a view of the
   * reader's buffer, valid only during the `onLine` call: copy what must outlive it.
   */
  bytes?: Buffer;
  /** True when a 'parse' line was too long to hold and was passed on as 'count'. */
  oversized?: boolean;
}

export interface ReadPosition {
  /** Byte offset just past the last complete line that was consumed. */
  offset: number;
  /** Number of complete lines before `offset`. */
  lineCount: number;
}

/** A 'parse' line's text (UTF-8; invalid bytes become U+FFFD). */
export function lineText(line: ReadLine): string {
  return line.bytes?.toString('utf8') ?? '';
}

export interface ReadResult extends ReadPosition {
  /** Bytes after `offset` that belong to a line still being written (no newline yet). */
  pendingBytes: number;
  /** File size when the read ended. */
  size: number;
}

export const PREFIX_BYTES = 256;
const CHUNK_BYTES = 1 << 20;
/** A 'parse' line longer than this is not held whole: no usage or metadata line comes near it. */
export const MAX_PARSE_LINE_BYTES = 16 << 20;

/** Assembles one line from pieces, keeping only what its disposition needs. */
class LineAssembler {
  private prefixParts: Buffer[] = [];
  private prefixLength = 0;
  private disposition: LineDisposition | undefined;
  private prefix = '';
  private bodyParts: Buffer[] = [];
  private bodyLength = 0;
  private oversized = false;

  constructor(private readonly classify: LineClassifier) {}

  /** No bytes of the current line have been pushed yet. */
  get isEmpty(): boolean {
    return this.disposition === undefined && this.prefixLength === 0;
  }

  /** Adds bytes of the current line (no newline inside). */
  push(piece: Buffer): void {
    if (piece.length === 0) return;
    if (this.disposition === undefined) {
      const take = Math.min(PREFIX_BYTES - this.prefixLength, piece.length);
      this.prefixParts.push(Buffer.from(piece.subarray(0, take)));
      this.prefixLength += take;
      if (this.prefixLength < PREFIX_BYTES) return;
      this.decide();
      this.appendBody(piece.subarray(take));
      return;
    }
    this.appendBody(piece);
  }

  /** Ends the current line and returns what the caller needs of it. */
  finish(lineNumber: number, offset: number): ReadLine {
    if (this.disposition === undefined) this.decide();
    const line: ReadLine = { lineNumber, offset, disposition: this.disposition!, prefix: this.prefix };
    if (this.disposition === 'parse') {
      const bytes = Buffer.concat(this.bodyParts, this.bodyLength);
      line.bytes = bytes.length > 0 && bytes[bytes.length - 1] === 13 ? bytes.subarray(0, bytes.length - 1) : bytes;
    } else if (this.oversized) {
      line.oversized = true;
    }
    this.prefixParts = [];
    this.prefixLength = 0;
    this.disposition = undefined;
    this.prefix = '';
    this.bodyParts = [];
    this.bodyLength = 0;
    this.oversized = false;
    return line;
  }

  private decide(): void {
    const prefixBytes = Buffer.concat(this.prefixParts, this.prefixLength);
    this.prefix = prefixBytes.toString('latin1');
    if (this.prefix.endsWith('\r')) this.prefix = this.prefix.slice(0, -1);
    this.disposition = this.classify(this.prefix);
    this.prefixParts = [];
    if (this.disposition === 'parse') {
      this.bodyParts = [prefixBytes];
      this.bodyLength = prefixBytes.length;
    }
  }

  private appendBody(piece: Buffer): void {
    if (this.disposition !== 'parse' || piece.length === 0) return;
    if (this.bodyLength + piece.length > MAX_PARSE_LINE_BYTES) {
      this.disposition = 'count';
      this.oversized = true;
      this.bodyParts = [];
      this.bodyLength = 0;
      return;
    }
    this.bodyParts.push(Buffer.from(piece));
    this.bodyLength += piece.length;
  }
}

/** Splits a byte stream into lines, handing complete ones to `onLine`; keeps the partial last line. */
class LineSplitter {
  private readonly assembler: LineAssembler;
  private readonly classify: LineClassifier;
  /** Stream offset just past the last complete line. */
  consumed: number;
  lineCount: number;

  constructor(classify: LineClassifier, from: ReadPosition, private readonly onLine: (line: ReadLine) => void, private readonly quickClassify?: QuickClassifier) {
    this.assembler = new LineAssembler(classify);
    this.classify = classify;
    this.consumed = from.offset;
    this.lineCount = from.lineCount;
  }

  /** Feeds bytes that start at stream offset `position`. */
  feed(chunk: Uint8Array, position: number): void {
    const bytes = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    let cursor = 0;
    while (cursor < bytes.length) {
      const newline = bytes.indexOf(10, cursor);
      if (newline === -1) {
        this.assembler.push(bytes.subarray(cursor));
        return;
      }
      this.lineCount += 1;
      if (this.assembler.isEmpty) {
        // The whole line is in this chunk (the usual case): decode straight from it, no copies.
        this.onLine(this.wholeLine(bytes, cursor, newline));
      } else {
        this.assembler.push(bytes.subarray(cursor, newline));
        this.onLine(this.assembler.finish(this.lineCount, this.consumed));
      }
      this.consumed = position + newline + 1;
      cursor = newline + 1;
    }
  }

  /** The same as pushing bytes[start, end) to the assembler and finishing, without the copies. */
  private wholeLine(bytes: Buffer, start: number, end: number): ReadLine {
    let disposition = this.quickClassify?.(bytes, start, end);
    if (disposition === 'skip') return { lineNumber: this.lineCount, offset: this.consumed, disposition, prefix: '' };
    let prefix = '';
    if (disposition === undefined) {
      prefix = bytes.toString('latin1', start, Math.min(end, start + PREFIX_BYTES));
      if (prefix.endsWith('\r')) prefix = prefix.slice(0, -1);
      disposition = this.classify(prefix);
    }
    const line: ReadLine = { lineNumber: this.lineCount, offset: this.consumed, disposition, prefix };
    if (disposition === 'parse' && end - start > MAX_PARSE_LINE_BYTES) {
      disposition = 'count';
      line.disposition = disposition;
      line.oversized = true;
    } else if (disposition === 'parse') {
      const last = end > start && bytes[end - 1] === 13 ? end - 1 : end;
      line.bytes = bytes.subarray(start, last);
    }
    return line;
  }
}

/** Optional parts of a read. */
export interface ReadOptions {
  /** Runs on the still-open file descriptor after the read (to sample what was read without opening it again). */
  afterRead?: (fd: number, result: ReadResult) => void;
  /** Sees every chunk read, with its file offset, before its lines are handed over. */
  onChunk?: (chunk: Buffer, position: number) => void;
  /** Classifies lines from their bytes (see QuickClassifier). */
  quickClassify?: QuickClassifier;
}

/**
 * Reads the complete lines of a file from a byte offset, in bounded memory.
 * A half-written last line (no newline yet) is not consumed: the returned offset stops before it,
 * so the next read picks it up whole. Lines classified 'skip' or 'count' are never held in memory
 * whole, however long they are. LF and CRLF endings are both accepted; invalid UTF-8 decodes to
 * replacement characters rather than failing.
 *
 * The reads are synchronous: the scanner runs in a worker thread or a CLI, where nothing else waits
 * on this thread, and a synchronous read of a cached file costs a fraction of a thread-pool round trip.
 */
export function readCompleteLines(
  path: string,
  from: ReadPosition,
  classify: LineClassifier,
  onLine: (line: ReadLine) => void,
  options: ReadOptions = {},
): ReadResult {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const chunk = chunkFor(size - from.offset);
    const splitter = new LineSplitter(classify, from, onLine, options.quickClassify);
    let position = from.offset;
    while (position < size) {
      const bytesRead = readSync(fd, chunk, 0, Math.min(chunk.length, size - position), position);
      if (bytesRead === 0) break;
      const bytes = chunk.subarray(0, bytesRead);
      options.onChunk?.(bytes, position);
      splitter.feed(bytes, position);
      position += bytesRead;
    }
    const result = { offset: splitter.consumed, lineCount: splitter.lineCount, pendingBytes: size - splitter.consumed, size };
    options.afterRead?.(fd, result);
    return result;
  } finally {
    closeSync(fd);
  }
}

/**
 * Reads every complete line of a zstd-compressed rollout (`.jsonl.zst`), streaming: neither the
 * compressed nor the decompressed file is held whole. Compressed rollouts are not appended to, so
 * they are always read from the start; the returned offset is the compressed size.
 */
export function readCompressedLines(path: string, classify: LineClassifier, onLine: (line: ReadLine) => void): ReadResult {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const splitter = new LineSplitter(classify, { offset: 0, lineCount: 0 }, onLine);
    let decompressed = 0;
    const decompressor = new Decompress((data) => {
      splitter.feed(data, decompressed);
      decompressed += data.length;
    });
    const chunk = chunkFor(size);
    let position = 0;
    while (position < size) {
      const bytesRead = readSync(fd, chunk, 0, Math.min(chunk.length, size - position), position);
      if (bytesRead === 0) break;
      position += bytesRead;
      decompressor.push(new Uint8Array(chunk.subarray(0, bytesRead)), position >= size);
    }
    return { offset: size, lineCount: splitter.lineCount, pendingBytes: 0, size };
  } finally {
    closeSync(fd);
  }
}

/** One read buffer per thread, reused: what outlives a line's `onLine` call is copied out of it. */
let sharedChunk: Buffer | undefined;
function chunkFor(bytes: number): Buffer {
  if (bytes <= 64 << 10) return Buffer.allocUnsafe(Math.max(bytes, 1));
  sharedChunk ??= Buffer.allocUnsafe(CHUNK_BYTES);
  return sharedChunk;
}
