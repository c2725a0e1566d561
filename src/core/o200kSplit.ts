/**
 * The o200k_base pre-tokenisation: text is cut into pieces by SPLIT, and each piece is then
 * byte-pair encoded on its own (o200kCounter.ts). The RegExp is exact but slow (unicode property
 * classes, alternation with backtracking), so `asciiPieceEnd` reproduces its pieces for ASCII text by
 * scanning the text's UTF-8 bytes, and gives up (-1) wherever the piece's end depends on a non-ASCII
 * code point; the caller then takes that one piece from SPLIT. The match of SPLIT at a position
 * depends only on the text from there on (no lookbehind), and its pieces tile the text (every code
 * point starts a match, none is empty), so mixing the two piece by piece yields exactly SPLIT's pieces.
 * In UTF-8 an ASCII code unit is its own byte and every byte of a non-ASCII code point is >= 0x80, so
 * the scan reads bytes as the code units they are, and a piece it finds (all ASCII) is as many bytes
 * long as it is code units. Bytes are read faster than a string's char codes (about 2.5× here).
 */

/** The o200k_base split pattern (tiktoken's), with the case-insensitive contractions written out. */
export const SPLIT = new RegExp(
  [
    "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+(?:'(?:[sS]|[tT]|[rR][eE]|[vV][eE]|[mM]|[lL][lL]|[dD]))?",
    "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]+[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]*(?:'(?:[sS]|[tT]|[rR][eE]|[vV][eE]|[mM]|[lL][lL]|[dD]))?",
    '\\p{N}{1,3}',
    ' ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*',
    '\\s*[\\r\\n]+',
    '\\s+(?!\\S)',
    '\\s+',
  ].join('|'),
  'gu',
);

// What SPLIT's classes make of an ASCII code unit. In ASCII, \p{L} is [A-Za-z] (\p{Lu} A-Z, \p{Ll}
// a-z, no Lt/Lm/Lo/M), \p{N} is [0-9], and \s is [\t\n\v\f\r ]; everything else, punctuation and
// the other control characters, is OTHER: in [^\s\p{L}\p{N}], and a possible one-char prefix of a word.
const OTHER = 0;
const UPPER = 1;
const LOWER = 2;
const DIGIT = 3;
/** Whitespace other than \r and \n: \t \v \f and space (a possible prefix of a word, unlike \r \n). */
const SPACE = 4;
const NEWLINE = 5;

const KIND = new Uint8Array(128);
for (let c = 0; c < 128; c += 1) {
  if (c >= 0x41 && c <= 0x5a) KIND[c] = UPPER;
  else if (c >= 0x61 && c <= 0x7a) KIND[c] = LOWER;
  else if (c >= 0x30 && c <= 0x39) KIND[c] = DIGIT;
  else if (c === 0x0a || c === 0x0d) KIND[c] = NEWLINE;
  else if (c === 0x09 || c === 0x0b || c === 0x0c || c === 0x20) KIND[c] = SPACE;
  else KIND[c] = OTHER;
}

const APOSTROPHE = 0x27;
const SLASH = 0x2f;
const NOT_ASCII = -1;

/** The kind of bytes[i]: NOT_ASCII for a byte >= 0x80 (of a non-ASCII code point) and at or past `length`. */
function kindAt(bytes: Uint8Array, length: number, i: number): number {
  if (i >= length) return NOT_ASCII;
  const c = bytes[i]!;
  return c < 0x80 ? KIND[c]! : NOT_ASCII;
}

/**
 * Where SPLIT's piece that starts at byte `start` (< length) of a text's UTF-8 bytes[0, length) ends,
 * when that follows from ASCII code units alone; -1 when a non-ASCII one could change it (the caller
 * asks SPLIT instead).
 */
export function asciiPieceEnd(bytes: Uint8Array, length: number, start: number): number {
  const kind = kindAt(bytes, length, start);
  if (kind === UPPER || kind === LOWER) return wordEnd(bytes, length, start);
  if (kind === DIGIT) return digitsEnd(bytes, length, start);
  if (kind === NEWLINE) return whitespaceEnd(bytes, length, start);
  if (kind === NOT_ASCII) return -1;
  // OTHER or SPACE: the first two alternatives take it as the prefix of a word that follows at once.
  if (start + 1 === length) return kind === OTHER ? start + 1 : whitespaceEnd(bytes, length, start);
  const next = kindAt(bytes, length, start + 1);
  if (next === NOT_ASCII) return -1;
  if (next === UPPER || next === LOWER) return wordEnd(bytes, length, start + 1);
  // ` ?[^\s\p{L}\p{N}]+[\r\n/]*`: a run of OTHER, with at most one space before it.
  if (kind === OTHER) return punctuationEnd(bytes, length, start);
  if (next === OTHER && bytes[start] === 0x20) return punctuationEnd(bytes, length, start + 1);
  return whitespaceEnd(bytes, length, start);
}

/**
 * A word from its first letter at `from`: `[\p{Lu}…]*[\p{Ll}…]+` or else `[\p{Lu}…]+[\p{Ll}…]*`,
 * which in ASCII is a run of capitals then a run of small letters, at least one letter in all
 * (an ASCII capital after the small letters starts the next word); then a contraction, if any.
 */
function wordEnd(bytes: Uint8Array, length: number, from: number): number {
  // The hottest loops, so the ranges are tested inline.
  let i = from;
  while (i < length && bytes[i]! >= 0x41 && bytes[i]! <= 0x5a) i += 1; // A-Z
  while (i < length && bytes[i]! >= 0x61 && bytes[i]! <= 0x7a) i += 1; // a-z
  if (i === length) return i;
  const c = bytes[i]!;
  // A non-ASCII code point here: a letter or mark would continue the word.
  if (c >= 0x80) return -1;
  if (c !== APOSTROPHE) return i;
  // (?:'(?:[sS]|[tT]|[rR][eE]|[vV][eE]|[mM]|[lL][lL]|[dD]))? — `| 0x20` folds an ASCII capital to
  // its small letter and leaves every other byte (one of a non-ASCII code point too) unequal to one.
  const a = i + 1 < length ? bytes[i + 1]! | 0x20 : 0;
  if (a === 0x73 || a === 0x74 || a === 0x6d || a === 0x64) return i + 2; // s t m d
  const b = i + 2 < length ? bytes[i + 2]! | 0x20 : 0;
  if ((a === 0x72 && b === 0x65) || (a === 0x76 && b === 0x65) || (a === 0x6c && b === 0x6c)) return i + 3; // re ve ll
  return i;
}

/** `\p{N}{1,3}`: up to three digits; a non-ASCII code point after fewer could be a digit too. */
function digitsEnd(bytes: Uint8Array, length: number, from: number): number {
  let i = from + 1;
  while (i < from + 3 && kindAt(bytes, length, i) === DIGIT) i += 1;
  if (i < from + 3 && i < length && kindAt(bytes, length, i) === NOT_ASCII) return -1;
  return i;
}

/** `[^\s\p{L}\p{N}]+[\r\n/]*` from `from`, an OTHER code unit; a non-ASCII one in the run could belong to it. */
function punctuationEnd(bytes: Uint8Array, length: number, from: number): number {
  let i = from + 1;
  let kind = kindAt(bytes, length, i);
  while (kind === OTHER) kind = kindAt(bytes, length, ++i);
  if (kind === NOT_ASCII && i < length) return -1;
  while (i < length && (bytes[i] === 0x0a || bytes[i] === 0x0d || bytes[i] === SLASH)) i += 1;
  return i;
}

/**
 * Whitespace from `from` that is not the prefix of a word or of punctuation. Over the whole run of
 * whitespace: `\s*[\r\n]+` ends after its last \r or \n; else `\s+(?!\S)` leaves the last one for the
 * next piece unless the run is one code unit long (then `\s+` takes it) or ends the text. Non-ASCII
 * code points include whitespace (U+00A0, U+2028, …), so one right after the run makes this -1.
 */
function whitespaceEnd(bytes: Uint8Array, length: number, from: number): number {
  let i = from;
  let afterNewline = -1;
  for (let kind = kindAt(bytes, length, i); kind === SPACE || kind === NEWLINE; kind = kindAt(bytes, length, ++i)) {
    if (kind === NEWLINE) afterNewline = i + 1;
  }
  if (i < length) {
    if (kindAt(bytes, length, i) === NOT_ASCII) return -1;
    if (afterNewline < 0) return i - from >= 2 ? i - 1 : i;
  }
  return afterNewline >= 0 ? afterNewline : i;
}

/**
 * The number of UTF-8 bytes of text[from, to) as TextEncoder writes them: a lone surrogate as
 * U+FFFD (three). SPLIT matches whole code points (its `u` flag), so a piece never ends inside a
 * surrogate pair.
 */
export function utf8Length(text: string, from: number, to: number): number {
  let n = 0;
  for (let i = from; i < to; i += 1) {
    const c = text.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < to && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 4;
      i += 1;
    } else n += 3;
  }
  return n;
}

/** SPLIT's pieces of `text`, found by asciiPieceEnd where it can and by SPLIT elsewhere (for tests; the counter inlines this loop). */
export function splitPieces(text: string): string[] {
  const bytes = new TextEncoder().encode(text);
  const pieces: string[] = [];
  // `at` is a byte of `bytes`, `char` the code unit of `text` it starts.
  for (let at = 0, char = 0; at < bytes.length; ) {
    const end = asciiPieceEnd(bytes, bytes.length, at);
    let piece: string;
    if (end < 0) {
      SPLIT.lastIndex = char;
      piece = SPLIT.exec(text)![0];
      at += utf8Length(piece, 0, piece.length);
    } else {
      piece = text.slice(char, char + end - at);
      at = end;
    }
    pieces.push(piece);
    char += piece.length;
  }
  return pieces;
}

/** SPLIT's pieces of `text`, by the RegExp alone. */
export function splitPiecesByRegex(text: string): string[] {
  return text.match(SPLIT) ?? [];
}
