/**
 * A cursor over the bytes of one JSON text (UTF-8), for decoders that pick a few values out of a
 * line without building the rest: whatever they do not read is skipped, but still checked against
 * the JSON grammar, so a text the cursor gets through is one JSON.parse accepts, and the values it
 * reads are the ones JSON.parse would give (duplicate keys: the last one wins, as there).
 *
 * Anything else throws DECLINED: the text is not valid JSON, a value is not of the type the
 * decoder asked for, or the decoder met a shape it leaves to the general path. Strings are decoded
 * by `toString('utf8')` (invalid bytes become U+FFFD, as they do when the line is decoded whole)
 * or, when they hold escapes, by JSON.parse of the string alone.
 */
export const DECLINED: Error = new Error('left to the general JSON path');

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const MINUS = 0x2d;
const PLUS = 0x2b;
const DOT = 0x2e;
const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;
const LETTER_E = 0x65;
const LETTER_CAPITAL_E = 0x45;
/** Nesting this deep is left to JSON.parse rather than risking the stack. */
const MAX_DEPTH = 64;

/** Bytes that may follow a backslash in a JSON string (u is handled apart). */
const SIMPLE_ESCAPES = new Set([QUOTE, BACKSLASH, 0x2f, 0x62, 0x66, 0x6e, 0x72, 0x74]);

function isDigit(c: number | undefined): boolean {
  return c !== undefined && c >= DIGIT_0 && c <= DIGIT_9;
}

function isHex(c: number | undefined): boolean {
  return c !== undefined && ((c >= DIGIT_0 && c <= DIGIT_9) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46));
}

/** A key none of a decoder's keys match (returned instead of decoding it). */
export const OTHER_KEY = '';

/** Slots of a KeyTable's hash table: a power of two well above the keys a decoder reads. */
const KEY_SLOTS = 1024;

/**
 * The object keys (or string values) a decoder reads, recognised from their bytes: decoding every
 * key of a line to a string would cost more than the rest of the work. An open-addressing table
 * over a hash of each key's length and first, middle and last bytes.
 *
 * Lines of one kind spell their keys in the same order, so the table also remembers which key
 * followed each one last time, and `match` first tries that key's bytes where the next key is: a
 * hit reads the key in one pass, without scanning the string first and hashing it (the keys of a
 * rollout's token_count lines took over half of decoding one).
 */
export class KeyTable {
  private readonly keys: string[] = [];
  private readonly bytes: Buffer[] = [];
  /** Per slot, 1 + the index of the key there, or 0. */
  private readonly slots = new Int32Array(KEY_SLOTS);
  private readonly known: ReadonlySet<string>;
  /** Per key, the index of the key met after it last time (-1: none yet). */
  private readonly successors: Int32Array;
  /** The index of the key met last (-1: none, or a key not in the table). */
  private last = -1;

  constructor(keys: readonly string[]) {
    this.known = new Set(keys);
    for (const key of this.known) {
      const bytes = Buffer.from(key, 'utf8');
      if (bytes.length === 0) throw new Error('a key table cannot hold the empty key');
      // Matched byte for byte, a key must be its own JSON spelling.
      if (bytes.some((b) => b === QUOTE || b === BACKSLASH || b < 0x20)) throw new Error(`a key table cannot hold ${JSON.stringify(key)}, which JSON spells with escapes`);
      let slot = KeyTable.hash(bytes, 0, bytes.length);
      while (this.slots[slot] !== 0) slot = (slot + 1) & (KEY_SLOTS - 1);
      this.keys.push(key);
      this.bytes.push(bytes);
      this.slots[slot] = this.keys.length;
    }
    this.successors = new Int32Array(this.keys.length).fill(-1);
  }

  /**
   * Whether the string token that starts at bytes[quote] (its opening quote; the text ends at `end`)
   * is the key expected next, spelled without escapes: then the end of the token (past its closing
   * quote), and `lastKey` is that key. Otherwise -1, and the caller reads the token the general way
   * (`find`).
   */
  match(bytes: Buffer, quote: number, end: number): number {
    const last = this.last;
    const expected = last < 0 ? -1 : this.successors[last]!;
    if (expected < 0) return -1;
    const candidate = this.bytes[expected]!;
    const length = candidate.length;
    const from = quote + 1;
    if (from + length >= end || bytes[from + length] !== QUOTE) return -1;
    for (let i = 0; i < length; i += 1) if (bytes[from + i] !== candidate[i]) return -1;
    this.last = expected;
    return from + length + 1;
  }

  /** The key `match` found. */
  get lastKey(): string {
    return this.keys[this.last]!;
  }

  /** The key whose bytes are bytes[start, end) (no escapes), or OTHER_KEY. */
  find(bytes: Buffer, start: number, end: number): string {
    const length = end - start;
    if (length > 0) {
      for (let slot = KeyTable.hash(bytes, start, end), entry = this.slots[slot]!; entry !== 0; slot = (slot + 1) & (KEY_SLOTS - 1), entry = this.slots[slot]!) {
        const candidate = this.bytes[entry - 1]!;
        if (candidate.length !== length) continue;
        let i = 0;
        while (i < length && bytes[start + i] === candidate[i]) i += 1;
        if (i === length) return this.met(entry - 1);
      }
    }
    return this.met(-1);
  }

  /** The key for a decoded key string (one that held escapes), or OTHER_KEY. */
  findDecoded(key: string): string {
    return this.known.has(key) ? this.met(this.keys.indexOf(key)) : this.met(-1);
  }

  /** Notes that the key `index` (-1: one not in the table) came after the last one, and returns it. */
  private met(index: number): string {
    if (this.last >= 0) this.successors[this.last] = index;
    this.last = index;
    return index < 0 ? OTHER_KEY : this.keys[index]!;
  }

  private static hash(bytes: Buffer, start: number, end: number): number {
    const length = end - start;
    return (Math.imul(length, 0x9e3779b1) ^ Math.imul(bytes[start]!, 0x85ebca6b) ^ Math.imul(bytes[end - 1]!, 0xc2b2ae35) ^ Math.imul(bytes[start + (length >> 1)]!, 0x27d4eb2f)) >>> 22;
  }
}

/** Buffer's own decoders, which `toString(encoding, start, end)` reaches only after checking its arguments. */
type DecodingBuffer = Buffer & { utf8Slice?: (start: number, end: number) => string };
const decodeUtf8: (bytes: Buffer, start: number, end: number) => string = typeof (Buffer.prototype as DecodingBuffer).utf8Slice === 'function'
  ? (bytes, start, end) => (bytes as DecodingBuffer).utf8Slice!(start, end)
  : (bytes, start, end) => bytes.toString('utf8', start, end);

export class JsonCursor {
  private at = 0;
  private readonly end: number;

  /** `bytes`: the JSON text and nothing else (a view of a line, say); `keys`: the keys to recognise. */
  constructor(
    private readonly bytes: Buffer,
    private readonly keys: KeyTable,
  ) {
    this.end = bytes.length;
  }

  /** The byte at the next token (after white space), or -1 at the end. */
  peek(): number {
    const bytes = this.bytes;
    let at = this.at;
    while (at < this.end) {
      const c = bytes[at]!;
      if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) break;
      at += 1;
    }
    this.at = at;
    return at < this.end ? bytes[at]! : -1;
  }

  /** Checks that nothing but white space is left. */
  finish(): void {
    if (this.peek() !== -1) throw DECLINED;
  }

  /**
   * Opens an object and returns its first key (the cursor then stands at its value), or undefined
   * for `{}`. Then `nextKey` until it returns undefined, reading or skipping each value in between.
   * A key not in the key table comes back as OTHER_KEY.
   */
  firstKey(): string | undefined {
    this.expect(OPEN_BRACE);
    if (this.peek() === CLOSE_BRACE) {
      this.at += 1;
      return undefined;
    }
    return this.keyAndColon();
  }

  /** The next key of the object being read, or undefined at its end (which is consumed). */
  nextKey(): string | undefined {
    const c = this.peek();
    this.at += 1;
    if (c === CLOSE_BRACE) return undefined;
    if (c !== COMMA) throw DECLINED;
    return this.keyAndColon();
  }

  /** True when the next value is `null` (and consumes it). */
  takeNull(): boolean {
    if (this.peek() !== 0x6e) return false;
    this.literal('null');
    return true;
  }

  string(): string {
    if (this.peek() !== QUOTE) throw DECLINED;
    const start = this.at;
    const escaped = this.skipString();
    if (!escaped) return decodeUtf8(this.bytes, start + 1, this.at - 1);
    return JSON.parse(this.bytes.toString('utf8', start, this.at)) as string;
  }

  /** A string that is one of `values` (or OTHER_KEY when it is another), without decoding it: a key, or a value such as a type. */
  keyword(values: KeyTable): string {
    if (this.peek() !== QUOTE) throw DECLINED;
    const start = this.at;
    const matched = values.match(this.bytes, start, this.end);
    if (matched >= 0) {
      this.at = matched;
      return values.lastKey;
    }
    const escaped = this.skipString();
    if (!escaped) return values.find(this.bytes, start + 1, this.at - 1);
    return values.findDecoded(JSON.parse(this.bytes.toString('utf8', start, this.at)) as string);
  }

  /** Checks that the next value is a string or null, and skips it. */
  skipNullableString(): void {
    const c = this.peek();
    if (c === QUOTE) this.skipString();
    else if (c === 0x6e) this.literal('null');
    else throw DECLINED;
  }

  /** A finite number (JSON.parse would give Infinity for 1e999: declined, as z.number() rejects it). */
  number(): number {
    if (this.peek() === -1) throw DECLINED;
    const from = this.at;
    const bytes = this.bytes;
    // Plain integers (nearly every figure in a rollout) in one pass, without going through a string:
    // digits not starting with 0, up to 15 of them, followed by neither a fraction nor an exponent.
    let c = bytes[from]!;
    if (c > DIGIT_0 && c <= DIGIT_9) {
      let value = 0;
      let at = from;
      do {
        value = value * 10 + (c - DIGIT_0);
        at += 1;
        c = bytes[at]!;
      } while (c >= DIGIT_0 && c <= DIGIT_9);
      if (c !== DOT && c !== LETTER_E && c !== LETTER_CAPITAL_E && at - from <= 15) {
        this.at = at;
        return value;
      }
    }
    this.skipNumber();
    let value = 0;
    let i = from;
    for (; i < this.at; i += 1) {
      c = bytes[i]!;
      if (c < DIGIT_0 || c > DIGIT_9) break;
      value = value * 10 + (c - DIGIT_0);
    }
    if (i === this.at && this.at - from <= 15) return value;
    // Beyond a double's range JSON.parse gives ±Infinity, which no schema here accepts as a number.
    const parsed = Number(bytes.toString('latin1', from, this.at));
    if (!Number.isFinite(parsed)) throw DECLINED;
    return parsed;
  }

  /** Skips one value of any kind, checking it. */
  skipValue(depth = 0): void {
    if (depth > MAX_DEPTH) throw DECLINED;
    const c = this.peek();
    switch (c) {
      case QUOTE:
        this.skipString();
        return;
      case OPEN_BRACE:
        for (let key = this.firstKey(); key !== undefined; key = this.nextKey()) this.skipValue(depth + 1);
        return;
      case OPEN_BRACKET: {
        this.at += 1;
        if (this.peek() === CLOSE_BRACKET) {
          this.at += 1;
          return;
        }
        for (;;) {
          this.skipValue(depth + 1);
          const next = this.peek();
          this.at += 1;
          if (next === CLOSE_BRACKET) return;
          if (next !== COMMA) throw DECLINED;
        }
      }
      case 0x74:
        this.literal('true');
        return;
      case 0x66:
        this.literal('false');
        return;
      case 0x6e:
        this.literal('null');
        return;
      default:
        this.skipNumber();
    }
  }

  /** Where the cursor stands, to come back to with `reset` (see decoders that tolerate a bad value). */
  get position(): number {
    return this.at;
  }

  reset(position: number): void {
    this.at = position;
  }

  private keyAndColon(): string {
    const key = this.keyword(this.keys);
    this.expect(COLON);
    return key;
  }

  private expect(byte: number): void {
    if (this.peek() !== byte) throw DECLINED;
    this.at += 1;
  }

  private literal(word: 'true' | 'false' | 'null'): void {
    const bytes = this.bytes;
    if (this.at + word.length > this.end) throw DECLINED;
    for (let i = 0; i < word.length; i += 1) if (bytes[this.at + i] !== word.charCodeAt(i)) throw DECLINED;
    this.at += word.length;
  }

  /** Skips a string token (the cursor at its opening quote); true when it held escapes. */
  private skipString(): boolean {
    const bytes = this.bytes;
    const end = this.end;
    let at = this.at + 1;
    let escaped = false;
    for (;;) {
      if (at >= end) throw DECLINED;
      const c = bytes[at]!;
      if (c === QUOTE) break;
      if (c < 0x20) throw DECLINED;
      if (c === BACKSLASH) {
        escaped = true;
        const e = bytes[at + 1];
        if (e === 0x75) {
          if (!isHex(bytes[at + 2]) || !isHex(bytes[at + 3]) || !isHex(bytes[at + 4]) || !isHex(bytes[at + 5])) throw DECLINED;
          at += 6;
        } else if (e !== undefined && SIMPLE_ESCAPES.has(e)) {
          at += 2;
        } else {
          throw DECLINED;
        }
        continue;
      }
      at += 1;
    }
    this.at = at + 1;
    return escaped;
  }

  /** Skips a number token as JSON defines it: -?(0|[1-9]d*)(.d+)?([eE][+-]?d+)? */
  private skipNumber(): void {
    const bytes = this.bytes;
    let at = this.at;
    if (bytes[at] === MINUS) at += 1;
    if (bytes[at] === DIGIT_0) at += 1;
    else if (isDigit(bytes[at])) while (isDigit(bytes[at])) at += 1;
    else throw DECLINED;
    if (bytes[at] === DOT) {
      at += 1;
      if (!isDigit(bytes[at])) throw DECLINED;
      while (isDigit(bytes[at])) at += 1;
    }
    if (bytes[at] === LETTER_E || bytes[at] === LETTER_CAPITAL_E) {
      at += 1;
      if (bytes[at] === PLUS || bytes[at] === MINUS) at += 1;
      if (!isDigit(bytes[at])) throw DECLINED;
      while (isDigit(bytes[at])) at += 1;
    }
    this.at = at;
  }
}
