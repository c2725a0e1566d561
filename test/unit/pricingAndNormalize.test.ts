import { calcPrice } from '@pydantic/genai-prices';
import { describe, expect, it } from 'vitest';
import { fromAnthropicUsage, fromCodexUsage, fromOpenAIChatUsage, fromOpenAIResponsesUsage } from '../../src/core/normalize.js';
import { openPriceBook, PriceBook } from '../../src/core/pricing.js';
import { countTextTokens } from '../../src/core/tokenizer.js';
import { totalTokens } from '../../src/core/usage.js';

const b = (uncachedInput: number, cachedInput: number, output: number, cacheWriteInput = 0) => ({ uncachedInput, cachedInput, cacheWriteInput, output, reasoningOutput: 0 });

describe('normalizers', () => {
  it('Codex: cached and cache write are parts of input; totals derive from buckets', () => {
    const n = fromCodexUsage({ input_tokens: 1000, cached_input_tokens: 600, cache_write_input_tokens: 100, output_tokens: 50, reasoning_output_tokens: 20, total_tokens: 258400 });
    expect(n.buckets).toEqual({ uncachedInput: 300, cachedInput: 600, cacheWriteInput: 100, output: 50, reasoningOutput: 20 });
    expect(totalTokens(n.buckets)).toBe(1050);
  });
  it('OpenAI Responses and Chat: cached tokens are inside input', () => {
    expect(fromOpenAIResponsesUsage({ input_tokens: 100, input_tokens_details: { cached_tokens: 40 }, output_tokens: 10, output_tokens_details: { reasoning_tokens: 4 } }).buckets).toEqual({ uncachedInput: 60, cachedInput: 40, cacheWriteInput: 0, output: 10, reasoningOutput: 4 });
    expect(fromOpenAIChatUsage({ prompt_tokens: 100, prompt_tokens_details: { cached_tokens: 30 }, completion_tokens: 5 }).buckets).toEqual({ uncachedInput: 70, cachedInput: 30, cacheWriteInput: 0, output: 5, reasoningOutput: 0 });
  });
  it('Anthropic: cache read and creation are counted apart from input_tokens', () => {
    const n = fromAnthropicUsage({ input_tokens: 20, cache_read_input_tokens: 1000, cache_creation_input_tokens: 300, output_tokens: 7 });
    expect(n.buckets).toEqual({ uncachedInput: 20, cachedInput: 1000, cacheWriteInput: 300, output: 7, reasoningOutput: 0 });
    expect(totalTokens(n.buckets)).toBe(1327);
  });
  it('clamps inconsistent figures and says so, never going negative', () => {
    const n = fromCodexUsage({ input_tokens: 10, cached_input_tokens: 50, output_tokens: 5, reasoning_output_tokens: 9 });
    expect(n.buckets).toEqual({ uncachedInput: 0, cachedInput: 10, cacheWriteInput: 0, output: 5, reasoningOutput: 5 });
    expect(n.anomaly).toMatch(/exceed input/);
  });
});

describe('PriceBook (bundled genai-prices data, no network)', () => {
  const at = new Date('2026-11-01T00:00:00Z');
  it('prices gpt-5.1-codex at its input, cache-read and output rates', () => {
    // gpt-5.1: $1.25 per million input, $0.125 cached, $10 output.
    const r = new PriceBook({}, calcPrice).price('gpt-5.1-codex', b(800_000, 200_000, 1_000_000), at);
    expect(r.known).toBe(true);
    expect(r.usd).toBeCloseTo(0.8 * 1.25 + 0.2 * 0.125 + 10, 9);
  });
  it('prices gpt-5.1-codex-mini lower', () => {
    const r = new PriceBook({}, calcPrice).price('gpt-5.1-codex-mini', b(1_000_000, 0, 1_000_000), at);
    expect(r.usd).toBeCloseTo(0.25 + 2, 9);
  });
  it('lets an override win and reports a bad override', () => {
    const book = new PriceBook({ 'gpt-5.1-codex': { input: 1, cachedInput: 0.5, output: 2 }, broken: { input: 'free' } }, calcPrice);
    expect(book.price('gpt-5.1-codex', b(1_000_000, 1_000_000, 1_000_000), at)).toMatchObject({ usd: 3.5, source: 'override' });
    expect(book.problems).toHaveLength(1);
    expect(book.problems[0]!.message).toContain('"broken"');
  });
  it('leaves an unknown model unpriced, never $0', () => {
    const book = new PriceBook({}, calcPrice);
    expect(book.price('my-local-llama', b(1000, 0, 10), at)).toEqual({ usd: undefined, known: false, source: 'unknown' });
    expect(book.price(undefined, b(1000, 0, 10), at).usd).toBeUndefined();
    expect(book.unknownModels.has('my-local-llama')).toBe(true);
  });
});

describe('tokenizer', () => {
  it('counts o200k tokens', () => {
    expect(countTextTokens('hello world')).toBe(2);
    expect(countTextTokens('')).toBe(0);
    expect(countTextTokens('<|endoftext|>')).toBeGreaterThan(1); // special tokens in logs are plain text
  });
});

describe('PriceBook fast path', () => {
  it('gives exactly what the library computes, for many usages and models', async () => {
    const book = await openPriceBook();
    const at = new Date('2026-10-15T12:00:00Z');
    let seed = 7;
    const next = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    for (const model of ['gpt-5.1-codex', 'gpt-5.1-codex-mini', 'gpt-5.2-codex', 'o3', 'codex-mini-latest', 'gpt-4.1']) {
      for (let i = 0; i < 50; i += 1) {
        const input = 1 + next(400_000);
        const cached = next(input);
        const output = next(20_000);
        const usd = book.price(model, b(input - cached, cached, output), at).usd!;
        const direct = calcPrice({ input_tokens: input, cache_read_tokens: cached, cache_write_tokens: 0, output_tokens: output }, model, { providerId: 'openai', timestamp: at })!.total_price;
        expect(usd).toBeCloseTo(direct, 12);
      }
    }
  });
});

describe('local days', () => {
  it('the fast path agrees with Intl around midnight and DST changes in several zones', async () => {
    const { localDay, localDayOf } = await import('../../src/core/timeZones.js');
    const zones = ['UTC', 'Europe/Berlin', 'America/New_York', 'Asia/Kolkata', 'Asia/Kathmandu', 'Australia/Lord_Howe', 'Pacific/Chatham', 'America/St_Johns'];
    const starts = ['2026-03-08T00:00:00Z', '2026-03-29T00:00:00Z', '2026-04-05T00:00:00Z', '2026-10-04T00:00:00Z', '2026-10-25T00:00:00Z', '2026-11-01T00:00:00Z'];
    for (const zone of zones) {
      for (const start of starts) {
        for (let minutes = 0; minutes < 48 * 60; minutes += 7) {
          const iso = new Date(Date.parse(start) + minutes * 60000).toISOString();
          expect(localDayOf(iso, zone), `${zone} ${iso}`).toBe(localDay(new Date(iso), zone));
        }
      }
    }
  });
});
