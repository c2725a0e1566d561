import { type TokenBuckets } from './usage.js';

/**
 * Provider usage objects turned into disjoint buckets. Each normalizer keeps its input untouched;
 * callers store the raw object next to the buckets. Missing numbers count as 0; a cache figure
 * larger than the input it is part of is clamped (and reported through `anomaly`).
 */
export interface NormalizedUsage {
  buckets: TokenBuckets;
  /** Set when the raw figures were inconsistent and had to be clamped. */
  anomaly?: string;
}

/** Codex `TokenUsage` (rollout files, app-server, exec --json): cached and cache write are parts of input. */
export interface CodexTokenUsage {
  input_tokens?: number | null;
  cached_input_tokens?: number | null;
  cache_write_input_tokens?: number | null;
  output_tokens?: number | null;
  reasoning_output_tokens?: number | null;
  total_tokens?: number | null;
}

export function fromCodexUsage(u: CodexTokenUsage): NormalizedUsage {
  return partsOfInput(n(u.input_tokens), n(u.cached_input_tokens), n(u.cache_write_input_tokens), n(u.output_tokens), n(u.reasoning_output_tokens));
}

/** OpenAI Responses API usage: `input_tokens_details.cached_tokens` is part of input_tokens. */
export interface OpenAIResponsesUsage {
  input_tokens?: number | null;
  input_tokens_details?: { cached_tokens?: number | null; cache_write_tokens?: number | null } | null;
  output_tokens?: number | null;
  output_tokens_details?: { reasoning_tokens?: number | null } | null;
  total_tokens?: number | null;
}

export function fromOpenAIResponsesUsage(u: OpenAIResponsesUsage): NormalizedUsage {
  return partsOfInput(
    n(u.input_tokens),
    n(u.input_tokens_details?.cached_tokens),
    n(u.input_tokens_details?.cache_write_tokens),
    n(u.output_tokens),
    n(u.output_tokens_details?.reasoning_tokens),
  );
}

/** OpenAI Chat Completions usage: `prompt_tokens` includes `prompt_tokens_details.cached_tokens`. */
export interface OpenAIChatUsage {
  prompt_tokens?: number | null;
  prompt_tokens_details?: { cached_tokens?: number | null } | null;
  completion_tokens?: number | null;
  completion_tokens_details?: { reasoning_tokens?: number | null } | null;
  total_tokens?: number | null;
}

export function fromOpenAIChatUsage(u: OpenAIChatUsage): NormalizedUsage {
  return partsOfInput(
    n(u.prompt_tokens),
    n(u.prompt_tokens_details?.cached_tokens),
    0,
    n(u.completion_tokens),
    n(u.completion_tokens_details?.reasoning_tokens),
  );
}

/** Anthropic Messages usage: `input_tokens` EXCLUDES cache reads and cache creation, which are counted apart. */
export interface AnthropicUsage {
  input_tokens?: number | null;
  cache_read_input_tokens?: number | null;
  cache_creation_input_tokens?: number | null;
  output_tokens?: number | null;
}

export function fromAnthropicUsage(u: AnthropicUsage): NormalizedUsage {
  return {
    buckets: {
      uncachedInput: n(u.input_tokens),
      cachedInput: n(u.cache_read_input_tokens),
      cacheWriteInput: n(u.cache_creation_input_tokens),
      output: n(u.output_tokens),
      reasoningOutput: 0,
    },
  };
}

function partsOfInput(input: number, cached: number, cacheWrite: number, output: number, reasoning: number): NormalizedUsage {
  const anomalies: string[] = [];
  let cachedPart = cached;
  let writePart = cacheWrite;
  if (cachedPart + writePart > input) {
    anomalies.push(`cached (${cached}) + cache write (${cacheWrite}) exceed input (${input})`);
    cachedPart = Math.min(cachedPart, input);
    writePart = Math.min(writePart, input - cachedPart);
  }
  let reasoningPart = reasoning;
  if (reasoningPart > output) {
    anomalies.push(`reasoning (${reasoning}) exceeds output (${output})`);
    reasoningPart = output;
  }
  const result: NormalizedUsage = {
    buckets: {
      uncachedInput: input - cachedPart - writePart,
      cachedInput: cachedPart,
      cacheWriteInput: writePart,
      output,
      reasoningOutput: reasoningPart,
    },
  };
  if (anomalies.length > 0) result.anomaly = anomalies.join('; ');
  return result;
}

function n(value: number | null | undefined): number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? Math.floor(value) : 0;
}
