/**
 * The o200k_base pre-tokenisation: text is cut into pieces by SPLIT, and each piece is then
 * byte-pair encoded on its own (o200kCounter.ts). The RegExp is exact but slow (unicode property
 * classes, alternation with backtracking), so `asciiPieceEnd` reproduces its pieces for ASCII text by
 * scanning char codes, and gives up (-1) wherever the piece's end depends on a non-ASCII code unit;
 * the caller then takes that one piece from SPLIT. The match of SPLIT at a position depends only on
 * the text from there on (no lookbehind), and its pieces tile the text (every code point starts a
 * match, none is empty), so mixing the two piece by piece yields exactly SPLIT's pieces.
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

/** The kind of text[i]: NOT_ASCII for a code unit >= 0x80 and, since charCodeAt gives NaN there, past the end. */
function kindAt(text: string, i: number): number {
  const c = text.charCodeAt(i);
  return c < 0x80 ? KIND[c]! : NOT_ASCII;
}

/**
 * Where SPLIT's piece that starts at `start` (< text.length) ends, when that follows from ASCII
 * code units alone; -1 when a non-ASCII one could change it (the caller asks SPLIT instead).
 */
export function asciiPieceEnd(text: string, start: number): number {
  const kind = kindAt(text, start);
  if (kind === UPPER || kind === LOWER) return wordEnd(text, start);
  if (kind === DIGIT) return digitsEnd(text, start);
  if (kind === NEWLINE) return whitespaceEnd(text, start);
  if (kind === NOT_ASCII) return -1;
  // OTHER or SPACE: the first two alternatives take it as the prefix of a word that follows at once.
  if (start + 1 === text.length) return kind === OTHER ? start + 1 : whitespaceEnd(text, start);
  const next = kindAt(text, start + 1);
  if (next === NOT_ASCII) return -1;
  if (next === UPPER || next === LOWER) return wordEnd(text, start + 1);
  // ` ?[^\s\p{L}\p{N}]+[\r\n/]*`: a run of OTHER, with at most one space before it.
  if (kind === OTHER) return punctuationEnd(text, start);
  if (next === OTHER && text.charCodeAt(start) === 0x20) return punctuationEnd(text, start + 1);
  return whitespaceEnd(text, start);
}

/**
 * A word from its first letter at `from`: `[\p{Lu}…]*[\p{Ll}…]+` or else `[\p{Lu}…]+[\p{Ll}…]*`,
 * which in ASCII is a run of capitals then a run of small letters, at least one letter in all
 * (an ASCII capital after the small letters starts the next word); then a contraction, if any.
 */
function wordEnd(text: string, from: number): number {
  // The hottest loops, so the ranges are tested inline (past the end, charCodeAt gives NaN, in none).
  let i = from;
  let c = text.charCodeAt(i);
  while (c >= 0x41 && c <= 0x5a) c = text.charCodeAt(++i); // A-Z
  while (c >= 0x61 && c <= 0x7a) c = text.charCodeAt(++i); // a-z
  if (i === text.length) return i;
  // A non-ASCII code unit here: a letter or mark would continue the word.
  if (c >= 0x80) return -1;
  if (c !== APOSTROPHE) return i;
  // (?:'(?:[sS]|[tT]|[rR][eE]|[vV][eE]|[mM]|[lL][lL]|[dD]))? — `| 0x20` folds an ASCII capital to
  // its small letter and leaves every other code unit unequal to one.
  const a = text.charCodeAt(i + 1) | 0x20;
  if (a === 0x73 || a === 0x74 || a === 0x6d || a === 0x64) return i + 2; // s t m d
  const b = text.charCodeAt(i + 2) | 0x20;
  if ((a === 0x72 && b === 0x65) || (a === 0x76 && b === 0x65) || (a === 0x6c && b === 0x6c)) return i + 3; // re ve ll
  return i;
}

/** `\p{N}{1,3}`: up to three digits; a non-ASCII code unit after fewer could be a digit too. */
function digitsEnd(text: string, from: number): number {
  let i = from + 1;
  while (i < from + 3 && kindAt(text, i) === DIGIT) i += 1;
  if (i < from + 3 && i < text.length && kindAt(text, i) === NOT_ASCII) return -1;
  return i;
}

/** `[^\s\p{L}\p{N}]+[\r\n/]*` from `from`, an OTHER code unit; a non-ASCII one in the run could belong to it. */
function punctuationEnd(text: string, from: number): number {
  let i = from + 1;
  let kind = kindAt(text, i);
  while (kind === OTHER) kind = kindAt(text, ++i);
  if (kind === NOT_ASCII && i < text.length) return -1;
  for (let c = text.charCodeAt(i); c === 0x0a || c === 0x0d || c === SLASH; c = text.charCodeAt(i)) i += 1;
  return i;
}

/**
 * Whitespace from `from` that is not the prefix of a word or of punctuation. Over the whole run of
 * whitespace: `\s*[\r\n]+` ends after its last \r or \n; else `\s+(?!\S)` leaves the last one for the
 * next piece unless the run is one code unit long (then `\s+` takes it) or ends the text. Non-ASCII
 * code units include whitespace (U+00A0, U+2028, …), so one right after the run makes this -1.
 */
function whitespaceEnd(text: string, from: number): number {
  let i = from;
  let afterNewline = -1;
  for (let kind = kindAt(text, i); kind === SPACE || kind === NEWLINE; kind = kindAt(text, ++i)) {
    if (kind === NEWLINE) afterNewline = i + 1;
  }
  if (i < text.length) {
    if (kindAt(text, i) === NOT_ASCII) return -1;
    if (afterNewline < 0) return i - from >= 2 ? i - 1 : i;
  }
  return afterNewline >= 0 ? afterNewline : i;
}

/** SPLIT's pieces of `text`, found by asciiPieceEnd where it can and by SPLIT elsewhere (for tests; the counter inlines this loop). */
export function splitPieces(text: string): string[] {
  const pieces: string[] = [];
  for (let at = 0; at < text.length; ) {
    let end = asciiPieceEnd(text, at);
    if (end < 0) {
      SPLIT.lastIndex = at;
      const match = SPLIT.exec(text)!;
      end = match.index + match[0].length;
      pieces.push(match[0]);
    } else {
      pieces.push(text.slice(at, end));
    }
    at = end;
  }
  return pieces;
}

/** SPLIT's pieces of `text`, by the RegExp alone. */
export function splitPiecesByRegex(text: string): string[] {
  return text.match(SPLIT) ?? [];
}
