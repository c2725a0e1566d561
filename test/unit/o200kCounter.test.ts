import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliCompressSync, brotliDecompressSync } from 'node:zlib';
import fc from 'fast-check';
import { countTokens } from 'gpt-tokenizer/encoding/o200k_base';
import { describe, expect, it } from 'vitest';
import { countTextTokens, defaultTokenTablePaths, loadO200kCounter } from '../../src/core/tokenizer.js';

/** gpt-tokenizer (a dev dependency) is the oracle: counts must be equal, special-token text as plain text. */
const reference = (text: string): number => countTokens(text, { disallowedSpecial: new Set() });

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

describe('the o200k token counter', () => {
  for (const [name, text] of Object.entries(corpus)) {
    it(`counts ${name} exactly as the reference tokenizer`, () => {
      expect(countTextTokens(text)).toBe(reference(text));
    });
  }

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
