import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliCompressSync, brotliDecompressSync } from 'node:zlib';
import fc from 'fast-check';
import { countTokens } from 'gpt-tokenizer/encoding/o200k_base';
import { describe, expect, it } from 'vitest';
import { splitPieces, splitPiecesByRegex } from '../../src/core/o200kSplit.js';
import { countTextTokens, defaultTokenTablePaths, loadO200kCounter } from '../../src/core/tokenizer.js';

/** gpt-tokenizer (a dev dependency) is the oracle: counts must be equal, special-token text as plain text. */
const reference = (text: string): number => countTokens(text, { disallowedSpecial: new Set() });

/**
 * The oracle, except for text with U+FEFF: gpt-tokenizer keys its ranks by strings made with a
 * TextDecoder, which drops a leading byte order mark, so it misses the tokens that start with one
 * ("\ufeff" alone is one token, EF BB BF, and it counts 2). There the counter is held to its own
 * plain RegExp loop, which the oracle agrees with elsewhere.
 */
const plain = loadO200kCounter(defaultTokenTablePaths().find((p) => existsSync(p))!);
const expected = (text: string): number => (text.includes('\ufeff') ? plain.countByRegex(text) : reference(text));

const corpus: Record<string, string> = {
  prose: 'The quick brown fox jumps over the lazy dog. It wasn\'t me, she said; they\'re here and we\'ve seen it.',
  contractions: "I'LL DON'T WE'RE THEY'VE I'M YOU'D HE'S it's It'S",
  code: 'export function add(a: number, b: number): number {\n\treturn a + b; // sum\n}\n\nconst x = [1, 2, 3].map((n) => n ** 2);',
  json: JSON.stringify({ type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'ok', n: 1234567.89 }] }),
  whitespace: `a${' '.repeat(300)}b\n\n\n   \t\t\r\n\r\n  x  \n`,
  digits: '1234567890 3.14159 0001 99999999999999',
  punctuation: '!!!???...---===+++***### ::: ;;; ((())) {{{}}} <<<>>> ~~~ @@@ $$$ %%% ^^^ &&& |||',
  cjk: '漢字かなカナ한국어 中文文本測試，包含標點符號。日本語の文章です。',
  arabic: 'مرحبا بالعالم، هذا نص عربي للاختبار.',
  emoji: '👍🏽 👨‍👩‍👧‍👦 🏳️‍🌈 🇩🇪 ❤️‍🔥 😀😃😄',
  combining: 'e\u0301 a\u0308 n\u0303 Z\u0335\u0321\u0322a\u0336l\u0337g\u0338o',
  loneSurrogates: 'a\ud800b \udc00c \ud83d',
  special: '<|endoftext|> <|im_start|>user<|im_end|> <|fim_prefix|>',
  paths: '/home/dev/project/src/core/o200kCounter.ts C:\\Users\\dev\\file.txt https://example.com/a?b=c&d=e',
  longWord: `${'abc'.repeat(2000)} ${'Z'.repeat(700)} ${'='.repeat(3000)}`,
  base64: Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 7919) % 256)).toString('base64'),
};

/**
 * Texts at each boundary of the ASCII pre-tokeniser (src/core/o200kSplit.ts): where a piece that
 * starts in ASCII could go on into non-ASCII text, where whitespace leaves its last code unit to
 * the next piece, and the contractions.
 */
const boundaries: Record<string, string[]> = {
  'a word going on into non-ASCII letters or marks': ['caf\u00e9', 'na\u00efve', 'Ab\u0301c', 'AB\u00c4', 'AB\u00e9', 'abc\u01c5x', 'ab\u02b0', 'x\u0301', 'Straße', 'IST\u0130'],
  'a word before non-ASCII that is not a letter': ['abc😀', 'abc—x', 'abc\u00a0def', 'ABC“', 'abc\u3000', 'abc\u2028d', 'ab\ud800', 'AB\udc00c'],
  'a one-char prefix before a non-ASCII letter': [' \u00e9t\u00e9', '!\u00e9', '\t\u00e9', "'\u00e9", '\u000b\u00df', '(漢字)', ' \u0301a', '\u007f\u00e9'],
  'a space before non-ASCII punctuation or symbols': [' —', ' “x”', ' 😀', ' \u00a0', 'a — b'],
  'punctuation going on into non-ASCII punctuation': ['!!—', '...…', '//😀', '(“', '-\u00a0-', '=\u0301', '#\ud83d'],
  'digits next to non-ASCII digits': ['12\u0663', '1\u00b2', '123\u0663', '1234\u0663', '\u0661\u0662\u0663\u0664', '1\u00a0', '99\u00e9', '7😀'],
  'whitespace going on into Unicode whitespace': ['  \u00a0x', ' \u3000', '\n\u2028\n', '\r\n\u00a0', ' \u00a0', 'a \u00a0b', '\t\ufeff', '\n\u0085x', ' \u200b '],
  'whitespace that leaves its last code unit to the next piece': ['a  b', 'a   b', 'a \tb', 'a\t\tb', 'a   ', '   ', ' \n b', 'x\n  y', '  \n\n  \t', '\t!', ' !', '  !', ' 1', '  1', '\t\t1', '\f\fx', '\v x', 'a\r\rb', '\r \r x', ' \r\n\r\n  \n '],
  contractions: ["it's", "IT'S", "don't", "DON'T", "we're", "WE'RE", "We'Re", "they've", "THEY'VE", "I'm", "I'M", "you'll", "YOU'LL", "you'Ll", "he'd", "HE'D", "a'l", "a'r", "a've", "a'v", "a'x", "a'", "'s", "''s", "x'sy", "O'Neil", "a'\u00e9", "a'\u015b", "a'l\u00e9", "A'LL\u00c9", "9's", " 's", "\n's"],
  'punctuation with a tail of newlines and slashes': ['!!\n/\n/x', '=>\r\n\r\n', ');\n\n}', 'a/b/c', ' /// comment', '*/\n/**', '.\n\n\n', ' ?\r/\r\n'],
  'control characters': ['\u0000a', '\u007fb', '\u001f\u001f', '\u0000\u0000 x', '\u0008\u000e'],
};

/** ASCII-heavy text: words, contractions, whitespace, digit and punctuation runs, now and then a non-ASCII code point. */
const fragment = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('the', 'Hello', 'HTML', 'Parser', 'aB', 'x', 'I', 'getElementById', 'snake_case', 'don', 'O') },
  { weight: 3, arbitrary: fc.constantFrom("'s", "'S", "'t", "'re", "'RE", "'Re", "'ve", "'m", "'ll", "'LL", "'lL", "'d", "'", "'l", "'r", "'v") },
  { weight: 5, arbitrary: fc.constantFrom(' ', ' ', '  ', '   ', '\t', '\r\n', '\n', '\r', '\n\n', '\u000b', '\u000c', ' \n') },
  { weight: 2, arbitrary: fc.stringMatching(/^[0-9]{1,7}$/) },
  { weight: 3, arbitrary: fc.constantFrom('!', '...', '/', '//', '::', '{', '}', '(', ')', '=>', '"', '`', '-', '_', '\\', ',', '.', ';', '#', '\u0000', '\u007f', '\u001f') },
  { weight: 2, arbitrary: fc.string({ unit: fc.integer({ min: 0, max: 127 }).map((c) => String.fromCharCode(c)), maxLength: 6 }) },
  {
    weight: 1,
    arbitrary: fc.constantFrom('\u00e9', '\u0301', '\u00df', '\u00c4', '\u00a0', '\u2028', '\u3000', '\ufeff', '漢', '\u0663', '\u00b2', '👍', '🏽', '\ud800', '\udc00', '\u01c5', '\u02b0', '—', '“', '\u0085'),
  },
);
const asciiHeavy = fc.array(fragment, { maxLength: 40 }).map((parts) => parts.join(''));

describe('the ASCII pre-tokeniser', () => {
  for (const [name, texts] of Object.entries(boundaries)) {
    it(`cuts ${name} as SPLIT does, and the count is the reference's`, () => {
      for (const text of texts) {
        for (const t of [text, `x${text}`, ` ${text} `, `${text}\n`, `A${text}1`]) {
          expect(splitPieces(t), JSON.stringify(t)).toEqual(splitPiecesByRegex(t));
          expect(countTextTokens(t), JSON.stringify(t)).toBe(expected(t));
        }
      }
    });
  }

  it('cuts the corpus as SPLIT does', () => {
    for (const text of Object.values(corpus)) expect(splitPieces(text)).toEqual(splitPiecesByRegex(text));
  });

  it('cuts arbitrary ASCII-heavy and ASCII strings as SPLIT does', () => {
    const same = (text: string): void => {
      expect(splitPieces(text)).toEqual(splitPiecesByRegex(text));
    };
    fc.assert(fc.property(asciiHeavy, same), { numRuns: 3000 });
    fc.assert(fc.property(fc.string({ unit: fc.integer({ min: 0, max: 127 }).map((c) => String.fromCharCode(c)), maxLength: 200 }), same), { numRuns: 2000 });
  });

  it('counts the same after its piece caches overflow (many distinct short pieces, counted twice)', () => {
    // 70,000 distinct words of 2 to 9 letters, one and several tokens: more than the short-piece
    // cache's 16,384 entries and the Map's 50,000, so entries are overwritten and the Map cleared.
    const word = (n: number): string => {
      let w = '';
      for (let k = n * 2654435761; w.length < 2 + (n % 8); k = Math.floor(k / 26)) w += String.fromCharCode(97 + (k % 26));
      return w;
    };
    const text = Array.from({ length: 70_000 }, (_, n) => (n % 5 === 0 ? word(n).toUpperCase() : word(n))).join(' ');
    const want = reference(text);
    expect(countTextTokens(text)).toBe(want);
    expect(countTextTokens(text)).toBe(want);
  });

  it('counts arbitrary ASCII-heavy strings exactly as the reference tokenizer', () => {
    fc.assert(fc.property(asciiHeavy, (text) => countTextTokens(text) === expected(text)), { numRuns: 1500 });
  });
});

describe('the o200k token counter', () => {
  for (const [name, text] of Object.entries(corpus)) {
    it(`counts ${name} exactly as the reference tokenizer`, () => {
      expect(countTextTokens(text)).toBe(reference(text));
    });
  }

  it('counts a byte order mark as the one token it is (where gpt-tokenizer is wrong)', () => {
    expect(countTextTokens('\ufeff')).toBe(1);
    expect(plain.countByRegex('\ufeff')).toBe(1);
    expect(countTextTokens('x\ufeff\n')).toBe(plain.countByRegex('x\ufeff\n'));
  });

  it('counts an empty text as 0 and a megabyte of mixed text exactly', () => {
    expect(countTextTokens('')).toBe(0);
    const big = Object.values(corpus).join('\n').repeat(60).slice(0, 1 << 20);
    expect(countTextTokens(big)).toBe(reference(big));
  });

  it('agrees with the reference on arbitrary unicode strings', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (text) => countTextTokens(text) === reference(text)), { numRuns: 400 });
    fc.assert(fc.property(fc.string({ unit: 'grapheme-ascii', maxLength: 400 }), (text) => countTextTokens(text) === reference(text)), { numRuns: 400 });
  });

  it('names the table file when it is missing or damaged', () => {
    const dir = mkdtempSync(join(tmpdir(), 'codex-meter-table-'));
    expect(() => loadO200kCounter(join(dir, 'none.bin.br'))).toThrow(/Cannot read the o200k token table .*none\.bin\.br/);
    const garbage = join(dir, 'garbage.bin.br');
    writeFileSync(garbage, 'not brotli at all');
    expect(() => loadO200kCounter(garbage)).toThrow(/The o200k token table .*garbage\.bin\.br is damaged/);
    const cut = join(dir, 'cut.bin.br');
    const table = defaultTokenTablePaths().find((p) => existsSync(p))!;
    writeFileSync(cut, brotliCompressSync(brotliDecompressSync(readFileSync(table)).subarray(0, 100_000)));
    expect(() => loadO200kCounter(cut)).toThrow(/cut\.bin\.br is damaged \(the token table ends at rank/);
  });
});
