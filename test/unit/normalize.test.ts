import { describe, expect, it } from 'vitest';
import { fromAnthropicUsage, fromCodexUsage, fromOpenAIChatUsage, fromOpenAIResponsesUsage } from '../../src/core/normalize.js';
import { BUCKET_KEYS, inputTokens, totalTokens, type TokenBuckets } from '../../src/core/usage.js';

const sumOfBuckets = (b: TokenBuckets) => b.uncachedInput + b.cachedInput + b.cacheWriteInput + b.output;

describe('fromCodexUsage', () => {
  it('splits input into uncached, cached and cache write; reasoning stays inside output', () => {
    const n = fromCodexUsage({ input_tokens: 9124, cached_input_tokens: 2737, cache_write_input_tokens: 400, output_tokens: 274, reasoning_output_tokens: 161, total_tokens: 9398 });
    expect(n.buckets).toEqual({ uncachedInput: 5987, cachedInput: 2737, cacheWriteInput: 400, output: 274, reasoningOutput: 161 });
    expect(n.anomaly).toBeUndefined();
    expect(totalTokens(n.buckets)).toBe(9398);
  });

  it('ignores total_tokens: the overflow total {total_tokens: window, all else 0} is zero usage', () => {
    const n = fromCodexUsage({ input_tokens: 0, cached_input_tokens: 0, output_tokens: 0, reasoning_output_tokens: 0, total_tokens: 258400 });
    expect(totalTokens(n.buckets)).toBe(0);
    expect(totalTokens(fromCodexUsage({ input_tokens: 10, output_tokens: 5, total_tokens: 99999 }).buckets)).toBe(15);
  });

  it('treats missing, null, negative, NaN and infinite figures as 0 and floors fractions', () => {
    expect(fromCodexUsage({}).buckets).toEqual({ uncachedInput: 0, cachedInput: 0, cacheWriteInput: 0, output: 0, reasoningOutput: 0 });
    expect(fromCodexUsage({ input_tokens: null, cached_input_tokens: -5, output_tokens: Number.NaN, reasoning_output_tokens: Number.POSITIVE_INFINITY }).buckets)
      .toEqual({ uncachedInput: 0, cachedInput: 0, cacheWriteInput: 0, output: 0, reasoningOutput: 0 });
    expect(fromCodexUsage({ input_tokens: 10.9, cached_input_tokens: 2.5, output_tokens: 3.2 }).buckets).toEqual({ uncachedInput: 8, cachedInput: 2, cacheWriteInput: 0, output: 3, reasoningOutput: 0 });
  });

  it('clamps cache figures above input and reasoning above output, and says why', () => {
    const n = fromCodexUsage({ input_tokens: 100, cached_input_tokens: 80, cache_write_input_tokens: 50, output_tokens: 5, reasoning_output_tokens: 9 });
    expect(n.buckets).toEqual({ uncachedInput: 0, cachedInput: 80, cacheWriteInput: 20, output: 5, reasoningOutput: 5 });
    expect(n.anomaly).toBe('cached (80) + cache write (50) exceed input (100); reasoning (9) exceeds output (5)');
  });
});

describe('fromOpenAIResponsesUsage', () => {
  it('takes cached and cache-write tokens out of input_tokens', () => {
    const n = fromOpenAIResponsesUsage({ input_tokens: 5000, input_tokens_details: { cached_tokens: 3000, cache_write_tokens: 500 }, output_tokens: 700, output_tokens_details: { reasoning_tokens: 300 }, total_tokens: 5700 });
    expect(n.buckets).toEqual({ uncachedInput: 1500, cachedInput: 3000, cacheWriteInput: 500, output: 700, reasoningOutput: 300 });
    expect(totalTokens(n.buckets)).toBe(5700);
  });
  it('copes with details that are null', () => {
    expect(fromOpenAIResponsesUsage({ input_tokens: 10, input_tokens_details: null, output_tokens: 2, output_tokens_details: null }).buckets)
      .toEqual({ uncachedInput: 10, cachedInput: 0, cacheWriteInput: 0, output: 2, reasoningOutput: 0 });
  });
});

describe('fromOpenAIChatUsage', () => {
  it('prompt_tokens includes cached_tokens; completion_tokens includes reasoning', () => {
    const n = fromOpenAIChatUsage({ prompt_tokens: 2006, prompt_tokens_details: { cached_tokens: 1920 }, completion_tokens: 300, completion_tokens_details: { reasoning_tokens: 128 }, total_tokens: 2306 });
    expect(n.buckets).toEqual({ uncachedInput: 86, cachedInput: 1920, cacheWriteInput: 0, output: 300, reasoningOutput: 128 });
    expect(totalTokens(n.buckets)).toBe(2306);
  });
});

describe('fromAnthropicUsage', () => {
  it('counts cache read and cache creation apart from input_tokens (which excludes both)', () => {
    const n = fromAnthropicUsage({ input_tokens: 3, cache_read_input_tokens: 12000, cache_creation_input_tokens: 1500, output_tokens: 250 });
    expect(n.buckets).toEqual({ uncachedInput: 3, cachedInput: 12000, cacheWriteInput: 1500, output: 250, reasoningOutput: 0 });
    expect(inputTokens(n.buckets)).toBe(13503);
    expect(totalTokens(n.buckets)).toBe(13753);
  });
});

describe('every normalizer', () => {
  it('gives non-negative buckets whose total is their sum', () => {
    const samples = [
      fromCodexUsage({ input_tokens: 7, cached_input_tokens: 9, output_tokens: 1, reasoning_output_tokens: 4 }),
      fromOpenAIResponsesUsage({ input_tokens: 3, input_tokens_details: { cached_tokens: 5 }, output_tokens: 0 }),
      fromOpenAIChatUsage({ prompt_tokens: 1, prompt_tokens_details: { cached_tokens: 2 }, completion_tokens: 3 }),
      fromAnthropicUsage({ input_tokens: -1, cache_read_input_tokens: 4, output_tokens: 2 }),
    ];
    for (const { buckets } of samples) {
      for (const k of BUCKET_KEYS) expect(buckets[k]).toBeGreaterThanOrEqual(0);
      expect(buckets.reasoningOutput).toBeLessThanOrEqual(buckets.output);
      expect(totalTokens(buckets)).toBe(sumOfBuckets(buckets));
    }
  });
});
