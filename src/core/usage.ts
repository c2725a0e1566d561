/**
 * Provider-neutral token buckets. The buckets are disjoint; every total derives from them.
 *  - uncachedInput: input tokens neither read from nor written to a prompt cache
 *  - cachedInput: input tokens read from the cache
 *  - cacheWriteInput: input tokens written to the cache
 *  - output: all output tokens (reasoning included)
 *  - reasoningOutput: the reasoning part of output (a subset, not added again)
 */
export interface TokenBuckets {
  uncachedInput: number;
  cachedInput: number;
  cacheWriteInput: number;
  output: number;
  reasoningOutput: number;
}

export const ZERO_BUCKETS: Readonly<TokenBuckets> = Object.freeze({
  uncachedInput: 0,
  cachedInput: 0,
  cacheWriteInput: 0,
  output: 0,
  reasoningOutput: 0,
});

export const BUCKET_KEYS = ['uncachedInput', 'cachedInput', 'cacheWriteInput', 'output', 'reasoningOutput'] as const;

export function emptyBuckets(): TokenBuckets {
  return { ...ZERO_BUCKETS };
}

/** All input: uncached + cached + cache write (what OpenAI calls input_tokens). */
export function inputTokens(b: TokenBuckets): number {
  return b.uncachedInput + b.cachedInput + b.cacheWriteInput;
}

/** All tokens: all input plus output (reasoning is inside output). Never taken from a log. */
export function totalTokens(b: TokenBuckets): number {
  return inputTokens(b) + b.output;
}

export function addBuckets(target: TokenBuckets, add: TokenBuckets): TokenBuckets {
  target.uncachedInput += add.uncachedInput;
  target.cachedInput += add.cachedInput;
  target.cacheWriteInput += add.cacheWriteInput;
  target.output += add.output;
  target.reasoningOutput += add.reasoningOutput;
  return target;
}

export function sumBuckets(items: Iterable<TokenBuckets>): TokenBuckets {
  const sum = emptyBuckets();
  for (const item of items) addBuckets(sum, item);
  return sum;
}

// Written out field by field: these run for every usage line, and a closure per call added up.
export function bucketsEqual(a: TokenBuckets, b: TokenBuckets): boolean {
  return a.uncachedInput === b.uncachedInput && a.cachedInput === b.cachedInput && a.cacheWriteInput === b.cacheWriteInput
    && a.output === b.output && a.reasoningOutput === b.reasoningOutput;
}

export function isZero(b: TokenBuckets): boolean {
  return b.uncachedInput === 0 && b.cachedInput === 0 && b.cacheWriteInput === 0 && b.output === 0 && b.reasoningOutput === 0;
}

/** a - b per bucket; undefined when any bucket would go negative (not a continuation of b). */
export function subtractBuckets(a: TokenBuckets, b: TokenBuckets): TokenBuckets | undefined {
  const out = emptyBuckets();
  for (const k of BUCKET_KEYS) {
    const v = a[k] - b[k];
    if (v < 0) return undefined;
    out[k] = v;
  }
  return out;
}

/** cached ÷ all input, or undefined when there was no input. */
export function cacheHitRate(b: TokenBuckets): number | undefined {
  const input = inputTokens(b);
  return input > 0 ? b.cachedInput / input : undefined;
}
