/**
 * Counts o200k_base tokens (the GPT-4o / GPT-5 family's encoding) without producing them, from a
 * compact rank table: the token bytes in one buffer and an open-addressing hash table of Int32s,
 * a few MiB in all (a Map of 200,000 strings costs tens). Text is split with the encoding's
 * pre-tokenisation pattern, each piece is looked up whole, and pieces that are not one token are
 * byte-pair merged as tiktoken does: the adjacent pair whose concatenation has the lowest rank
 * first, the leftmost on a tie. Special-token text such as `<|endoftext|>` is counted as plain text.
 * The text is written out as UTF-8 first (natively, into a buffer kept for the next text), and most
 * of it is ASCII, where the split is done by scanning those bytes (o200kSplit.ts), and a piece is
 * counted from them without a substring: through a small cache of short pieces that keeps their
 * bytes inline, else by probing the table (most pieces are one token).
 */

import { SPLIT, asciiPieceEnd, utf8Length } from './o200kSplit.js';

/** The number of ranks in o200k_base's mergeable table. */
export const O200K_RANKS = 199_998;
const NONE = 0x7fffffff;
const CACHE_LIMIT = 50_000;
/** Pieces up to this many bytes are merged by scanning; longer ones with a heap. */
const SCAN_LIMIT = 96;
/**
 * The cache of short pieces: HOT_ENTRIES entries of HOT_ENTRY bytes (256 KiB in all), each
 * the piece's length (0: empty), its count, and its bytes; a piece of up to HOT_KEY bytes fits.
 */
const HOT_ENTRY = 16;
const HOT_KEY = HOT_ENTRY - 2;
const HOT_ENTRIES = 1 << 14;
/** The largest buffer kept for a text's UTF-8 bytes (a longer text gets one of its own). */
const KEPT_TEXT_BYTES = 1 << 20;

export class O200kCounter {
  private readonly bytes: Uint8Array;
  private readonly starts: Uint32Array;
  private readonly lengths: Uint8Array;
  private readonly slots: Int32Array;
  private readonly mask: number;
  /** The length in bytes of the longest token. */
  private readonly longest: number;
  private scratch = new Uint8Array(1024);
  private readonly cache = new Map<string, number>();
  private readonly hot = new Uint8Array(HOT_ENTRIES * HOT_ENTRY);
  private readonly encoder = new TextEncoder();
  private textBytes = new Uint8Array(4096);

  /** `table`: for each rank in order, a length byte and the token's bytes (scripts/tokenTable.mjs). */
  constructor(table: Uint8Array) {
    const starts = new Uint32Array(O200K_RANKS);
    const lengths = new Uint8Array(O200K_RANKS);
    let at = 0;
    for (let rank = 0; rank < O200K_RANKS; rank += 1) {
      if (at >= table.length) throw new Error(`the token table ends at rank ${rank} of ${O200K_RANKS}`);
      lengths[rank] = table[at]!;
      starts[rank] = at + 1;
      at += 1 + table[at]!;
    }
    if (at !== table.length) throw new Error(`the token table has ${table.length - at} bytes after its last rank`);
    this.bytes = table;
    this.starts = starts;
    this.lengths = lengths;
    this.longest = lengths.reduce((a, b) => Math.max(a, b), 0);
    let size = 1;
    while (size < O200K_RANKS * 2.5) size <<= 1;
    this.slots = new Int32Array(size).fill(-1);
    this.mask = size - 1;
    for (let rank = 0; rank < O200K_RANKS; rank += 1) {
      const start = starts[rank]!;
      let slot = hash(table, start, start + lengths[rank]!) & this.mask;
      while (this.slots[slot] !== -1) slot = (slot + 1) & this.mask;
      this.slots[slot] = rank;
    }
  }

  /** The number of o200k_base tokens of `text`. */
  count(text: string): number {
    const bytes = this.utf8(text);
    const length = bytes.length;
    let total = 0;
    // `at` is a byte of `bytes`, `char` the code unit of `text` it starts.
    for (let at = 0, char = 0; at < length; ) {
      const end = asciiPieceEnd(bytes, length, at);
      if (end < 0) {
        // The piece at `at` depends on non-ASCII text: SPLIT finds it (it starts at `char`, see o200kSplit.ts).
        const chars = this.splitPieceLength(text, char);
        const after = at + utf8Length(text, char, char + chars);
        total += this.countBytes(bytes, at, after, text, char, chars);
        at = after;
        char += chars;
      } else {
        total += this.countBytes(bytes, at, end, text, char, end - at);
        char += end - at;
        at = end;
      }
    }
    return total;
  }

  /** The length of SPLIT's piece at text[char] (kept out of `count`, whose ASCII loop V8 then inlines whole). */
  private splitPieceLength(text: string, char: number): number {
    SPLIT.lastIndex = char;
    const match = SPLIT.exec(text);
    // Never so (every code point starts a piece, none is empty), but `count` would loop for ever.
    if (match === null || match.index !== char || match[0].length === 0) throw new Error(`the o200k split found no piece at ${char}`);
    return match[0].length;
  }

  /** The UTF-8 bytes of `text` (a lone surrogate as U+FFFD), in the kept buffer when they fit. */
  private utf8(text: string): Uint8Array {
    const most = text.length * 3; // UTF-8 takes at most three bytes per UTF-16 code unit
    if (this.textBytes.length < most) {
      if (most > KEPT_TEXT_BYTES) return this.encoder.encode(text);
      this.textBytes = new Uint8Array(Math.min(KEPT_TEXT_BYTES, Math.max(most, this.textBytes.length * 2)));
    }
    return this.textBytes.subarray(0, this.encoder.encodeInto(text, this.textBytes).written);
  }

  /** The same count, split by the SPLIT RegExp alone: the plain loop, kept for the benchmark and tests. */
  countByRegex(text: string): number {
    let total = 0;
    SPLIT.lastIndex = 0;
    for (let match = SPLIT.exec(text); match !== null; match = SPLIT.exec(text)) total += this.countPiece(match[0]);
    return total;
  }

  /**
   * The tokens of the piece bytes[from, to), which is text[char, char + chars). Short pieces go
   * through `hot`, a small direct-mapped cache that holds its keys inline, so a hit costs a slot
   * taken from four of the piece's bytes (hotEntry) and one compare in a few cache lines, with no
   * substring made; a miss is looked up in the token table (most pieces are one token, found by
   * their FNV-1a hash, as the table was built), else counted by countPiece, and stored.
   */
  private countBytes(bytes: Uint8Array, from: number, to: number, text: string, char: number, chars: number): number {
    const width = to - from;
    if (width === 1) return 1; // every byte is a token
    let entry = -1;
    if (width <= HOT_KEY) {
      const hot = this.hot;
      entry = hotEntry(bytes, from, to);
      if (hot[entry] === width) {
        let i = 0;
        while (i < width && hot[entry + 2 + i] === bytes[from + i]) i += 1;
        if (i === width) return hot[entry + 1]!;
      }
    }
    return this.countMissed(bytes, from, to, text, char, chars, entry);
  }

  /** countBytes for a piece not in `hot`: stored at its `entry` there (-1: too long for one). */
  private countMissed(bytes: Uint8Array, from: number, to: number, text: string, char: number, chars: number, entry: number): number {
    const width = to - from;
    const count = this.isToken(bytes, from, to, hash(bytes, from, to)) ? 1 : this.countPiece(text.slice(char, char + chars));
    if (entry < 0) return count;
    // An entry is overwritten by any piece with the same slot, so the counts of pieces that are
    // not one token stay in `cache` too (merging is much dearer than a substring and a Map lookup).
    const hot = this.hot;
    hot[entry] = width;
    hot[entry + 1] = count;
    for (let i = 0; i < width; i += 1) hot[entry + 2 + i] = bytes[from + i]!;
    return count;
  }

  /** Whether bytes[from, to) is one token; `h` is its hash. */
  private isToken(bytes: Uint8Array, from: number, to: number, h: number): boolean {
    return to - from <= this.longest && this.rankIn(bytes, from, to, h) !== NONE;
  }

  private countPiece(piece: string): number {
    const cached = this.cache.get(piece);
    if (cached !== undefined) return cached;
    const length = this.encode(piece);
    let count: number;
    if (length <= 1 || this.rankOf(0, length) !== NONE) count = length === 0 ? 0 : 1;
    else count = length <= SCAN_LIMIT ? this.mergeByScan(length) : this.mergeByHeap(length);
    if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
    this.cache.set(piece, count);
    return count;
  }

  /** Byte-pair merges scratch[0, length) by scanning for the lowest pair; returns the parts left. */
  private mergeByScan(length: number): number {
    // bounds[i] is where part i starts; pairs[i] the rank of parts i and i+1 merged.
    const bounds: number[] = [];
    for (let i = 0; i <= length; i += 1) bounds.push(i);
    const pairs: number[] = [];
    for (let i = 0; i < length - 1; i += 1) pairs.push(this.rankOf(i, i + 2));
    while (pairs.length > 0) {
      let best = 0;
      for (let i = 1; i < pairs.length; i += 1) if (pairs[i]! < pairs[best]!) best = i;
      if (pairs[best] === NONE) break;
      bounds.splice(best + 1, 1);
      pairs.splice(best, 1);
      if (best > 0) pairs[best - 1] = this.rankOf(bounds[best - 1]!, bounds[best + 1]!);
      if (best < pairs.length) pairs[best] = this.rankOf(bounds[best]!, bounds[best + 2]!);
    }
    return bounds.length - 1;
  }

  /** The same merge for long pieces, in O(n log n): a heap of (rank, position) with stale entries skipped. */
  private mergeByHeap(length: number): number {
    const next = new Int32Array(length);
    const prev = new Int32Array(length);
    const rank = new Int32Array(length);
    for (let i = 0; i < length; i += 1) {
      next[i] = i + 1; // `length` ends the list
      prev[i] = i - 1;
    }
    const heap = new MinHeap();
    for (let i = 0; i < length - 1; i += 1) {
      rank[i] = this.rankOf(i, i + 2);
      if (rank[i] !== NONE) heap.push(rank[i]!, i);
    }
    rank[length - 1] = NONE;
    let parts = length;
    const end = (i: number): number => next[i]!;
    while (heap.size > 0) {
      const [r, i] = heap.pop();
      if (rank[i] !== r || prev[i] === -2) continue; // stale or merged away
      const j = next[i]!;
      next[i] = next[j]!;
      if (next[j]! < length) prev[next[j]!] = i;
      prev[j] = -2;
      parts -= 1;
      rank[i] = next[i]! < length ? this.rankOf(i, end(next[i]!)) : NONE;
      if (rank[i] !== NONE) heap.push(rank[i]!, i);
      const p = prev[i]!;
      if (p >= 0) {
        rank[p] = this.rankOf(p, end(i));
        if (rank[p] !== NONE) heap.push(rank[p]!, p);
      }
    }
    return parts;
  }

  /** The rank of scratch[from, to), or NONE. */
  private rankOf(from: number, to: number): number {
    return this.rankIn(this.scratch, from, to, hash(this.scratch, from, to));
  }

  /** The rank of bytes[from, to), whose hash is `h`, or NONE. */
  private rankIn(bytes: Uint8Array, from: number, to: number, h: number): number {
    const width = to - from;
    for (let slot = h & this.mask, rank = this.slots[slot]!; rank !== -1; slot = (slot + 1) & this.mask, rank = this.slots[slot]!) {
      if (this.lengths[rank] !== width) continue;
      const start = this.starts[rank]! - from;
      let i = from;
      while (i < to && this.bytes[start + i] === bytes[i]) i += 1;
      if (i === to) return rank;
    }
    return NONE;
  }

  /** Writes the UTF-8 bytes of `piece` to scratch (a lone surrogate as U+FFFD, as `utf8` writes a text); returns their number. */
  private encode(piece: string): number {
    if (this.scratch.length < piece.length * 3) this.scratch = new Uint8Array(piece.length * 3 + 64);
    return this.encoder.encodeInto(piece, this.scratch).written;
  }
}

/** The slot in `hot` of bytes[from, to) (2 to HOT_KEY bytes), from four of its bytes and its length. */
function hotEntry(bytes: Uint8Array, from: number, to: number): number {
  const mid = (from + to) >> 1;
  let h = Math.imul(bytes[from]! | (bytes[from + 1]! << 8) | (bytes[mid]! << 16) | (bytes[to - 1]! << 24), 0x9e3779b1) ^ (to - from);
  h ^= h >>> 15;
  return (h & (HOT_ENTRIES - 1)) * HOT_ENTRY;
}

/** FNV-1a over bytes[from, to). */
function hash(bytes: Uint8Array, from: number, to: number): number {
  let h = 0x811c9dc5;
  for (let i = from; i < to; i += 1) h = Math.imul(h ^ bytes[i]!, 0x01000193);
  return h >>> 0;
}

/** A binary min-heap of (rank, position) pairs, ordered by rank and then position. */
class MinHeap {
  private readonly ranks: number[] = [];
  private readonly positions: number[] = [];

  get size(): number {
    return this.ranks.length;
  }

  push(rank: number, position: number): void {
    const ranks = this.ranks;
    const positions = this.positions;
    let i = ranks.length;
    ranks.push(rank);
    positions.push(position);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!less(rank, position, ranks[parent]!, positions[parent]!)) break;
      ranks[i] = ranks[parent]!;
      positions[i] = positions[parent]!;
      i = parent;
    }
    ranks[i] = rank;
    positions[i] = position;
  }

  pop(): [number, number] {
    const ranks = this.ranks;
    const positions = this.positions;
    const top: [number, number] = [ranks[0]!, positions[0]!];
    const lastRank = ranks.pop()!;
    const lastPosition = positions.pop()!;
    const n = ranks.length;
    if (n === 0) return top;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= n) break;
      const right = left + 1;
      const child = right < n && less(ranks[right]!, positions[right]!, ranks[left]!, positions[left]!) ? right : left;
      if (!less(ranks[child]!, positions[child]!, lastRank, lastPosition)) break;
      ranks[i] = ranks[child]!;
      positions[i] = positions[child]!;
      i = child;
    }
    ranks[i] = lastRank;
    positions[i] = lastPosition;
    return top;
  }
}

function less(rankA: number, positionA: number, rankB: number, positionB: number): boolean {
  return rankA < rankB || (rankA === rankB && positionA < positionB);
}
