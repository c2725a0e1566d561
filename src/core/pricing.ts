import { calcPrice } from '@pydantic/genai-prices';
import { z } from 'zod';
import { type Pricer } from './reports.js';
import { type TokenBuckets } from './usage.js';

/** A user's price for a model, in USD per million tokens. */
export const priceOverrideSchema = z.object({
  input: z.number().finite().nonnegative(),
  cachedInput: z.number().finite().nonnegative().optional(),
  cacheWrite: z.number().finite().nonnegative().optional(),
  output: z.number().finite().nonnegative(),
}).strict();
export type PriceOverride = z.infer<typeof priceOverrideSchema>;

export interface PriceResult {
  usd: number | undefined;
  known: boolean;
  source: 'override' | 'genai-prices' | 'unknown';
  /** The price database's model id the name matched (e.g. gpt-5.1-codex → gpt-5.1). */
  modelMatched?: string;
}

export interface PriceProblem {
  model: string;
  message: string;
}

/**
 * Prices usage with the price database bundled in @pydantic/genai-prices (never fetched from the
 * network), at the date of each increment, with tiered and cache rates where the data has them.
 * User overrides win. An unknown model is unpriced (`usd` undefined), never $0.
 */
export class PriceBook implements Pricer {
  private readonly overrides = new Map<string, PriceOverride>();
  readonly problems: PriceProblem[] = [];
  private readonly unknown = new Set<string>();
  private readonly matched = new Map<string, string>();

  constructor(overrides: Record<string, unknown> = {}) {
    for (const [model, value] of Object.entries(overrides)) {
      const parsed = priceOverrideSchema.safeParse(value);
      if (parsed.success) this.overrides.set(model, parsed.data);
      else {
        const issue = parsed.error.issues[0];
        this.problems.push({ model, message: `price override for "${model}" ignored: ${issue?.path.join('.') || 'value'} ${issue?.message ?? 'is invalid'} (expected { input, output, cachedInput?, cacheWrite? } in USD per million tokens)` });
      }
    }
  }

  price(model: string | undefined, buckets: TokenBuckets, at: Date): PriceResult {
    if (!model) return { usd: undefined, known: false, source: 'unknown' };
    const override = this.overrides.get(model);
    if (override) {
      const usd = (buckets.uncachedInput * override.input
        + buckets.cachedInput * (override.cachedInput ?? override.input)
        + buckets.cacheWriteInput * (override.cacheWrite ?? override.input)
        + buckets.output * override.output) / 1_000_000;
      return { usd, known: true, source: 'override', modelMatched: model };
    }
    if (this.unknown.has(model)) return { usd: undefined, known: false, source: 'unknown' };
    const usage = {
      input_tokens: buckets.uncachedInput + buckets.cachedInput + buckets.cacheWriteInput,
      cache_read_tokens: buckets.cachedInput,
      cache_write_tokens: buckets.cacheWriteInput,
      output_tokens: buckets.output,
    };
    const timestamp = Number.isNaN(at.getTime()) ? undefined : at;
    const result = calcPrice(usage, model, { providerId: 'openai', timestamp }) ?? calcPrice(usage, model, { timestamp });
    if (!result) {
      this.unknown.add(model);
      return { usd: undefined, known: false, source: 'unknown' };
    }
    this.matched.set(model, result.model.id);
    return { usd: result.total_price, known: true, source: 'genai-prices', modelMatched: result.model.id };
  }

  /** Models seen that have no price. */
  get unknownModels(): ReadonlySet<string> {
    return this.unknown;
  }
}
