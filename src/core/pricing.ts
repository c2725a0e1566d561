import { type calcPrice, type PriceCalculation } from '@pydantic/genai-prices';
import * as z from 'zod/mini';
import { type Pricer } from './reports.js';
import { type TokenBuckets } from './usage.js';

/** A user's price for a model, in USD per million tokens. */
const rate = z.number({ error: 'must be a number' }).check(z.nonnegative({ error: 'must not be negative' }));
export const priceOverrideSchema = z.strictObject({
  input: rate,
  cachedInput: z.optional(rate),
  cacheWrite: z.optional(rate),
  output: rate,
}, { error: 'must be an object' });
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

/** The price library's calculator. */
export type PriceCalculator = typeof calcPrice;

let library: Promise<PriceCalculator> | undefined;

/**
 * Loads the price library once, on first use: its bundled data costs ~20 MiB and a tenth of a
 * second to load, which reader threads and commands that price nothing never pay.
 */
function loadPriceCalculator(): Promise<PriceCalculator> {
  library ??= import('@pydantic/genai-prices').then((m) => m.calcPrice);
  return library;
}

/** A PriceBook with the price library loaded. */
export async function openPriceBook(overrides: Record<string, unknown> = {}): Promise<PriceBook> {
  return new PriceBook(overrides, await loadPriceCalculator());
}

/**
 * A Pricer whose price book is opened only when `load` is awaited: a run that turns out to have
 * nothing to price (the CLI's run after a change whose new lines hold no usage) never sets up the
 * price data (~27 ms on these machines). Asking for a price before `load` is a bug, and throws.
 */
export class PricerOnDemand implements Pricer {
  private book: PriceBook | undefined;

  constructor(private readonly open: () => Promise<PriceBook> = () => openPriceBook()) {}

  async load(): Promise<void> {
    this.book ??= await this.open();
  }

  get loaded(): boolean {
    return this.book !== undefined;
  }

  price(model: string | undefined, buckets: TokenBuckets, at: Date): PriceResult {
    if (!this.book) throw new Error('a price was asked for before the price book was opened');
    return this.book.price(model, buckets, at);
  }
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
  /** Per model, per UTC day (days since the epoch): flat per-million rates when the price is linear, else null (ask the library each time). */
  private readonly linear = new Map<string, Map<number, LinearRates | null>>();
  /** Per model, flat rates whose price has no date condition at all: the same on every day. */
  private readonly undated = new Map<string, LinearRates>();

  constructor(overrides: Record<string, unknown>, private readonly calcPrice: PriceCalculator) {
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
    const ms = at.getTime();
    const day = Number.isNaN(ms) ? Number.NaN : Math.floor(ms / 86_400_000);
    let days = this.linear.get(model);
    if (!days) this.linear.set(model, (days = new Map()));
    const rates = this.undated.get(model) ?? days.get(day);
    if (rates && (buckets.cacheWriteInput === 0 || rates.cacheWrite !== undefined)) {
      const usd = (buckets.uncachedInput * rates.input + buckets.cachedInput * rates.cacheRead + buckets.cacheWriteInput * (rates.cacheWrite ?? 0) + buckets.output * rates.output) / 1_000_000;
      return { usd, known: true, source: 'genai-prices', modelMatched: rates.modelId };
    }
    const usage = {
      input_tokens: buckets.uncachedInput + buckets.cachedInput + buckets.cacheWriteInput,
      cache_read_tokens: buckets.cachedInput,
      cache_write_tokens: buckets.cacheWriteInput,
      output_tokens: buckets.output,
    };
    const timestamp = Number.isNaN(at.getTime()) ? undefined : at;
    const result = this.calcPrice(usage, model, { providerId: 'openai', timestamp }) ?? this.calcPrice(usage, model, { timestamp });
    if (!result) {
      this.unknown.add(model);
      return { usd: undefined, known: false, source: 'unknown' };
    }
    this.matched.set(model, result.model.id);
    const linear = linearRates(result);
    if (linear && !Array.isArray(result.model.prices)) this.undated.set(model, linear);
    else if (!days.has(day)) days.set(day, linear);
    return { usd: result.total_price, known: true, source: 'genai-prices', modelMatched: result.model.id };
  }

  /** Models seen that have no price. */
  get unknownModels(): ReadonlySet<string> {
    return this.unknown;
  }
}

interface LinearRates {
  modelId: string;
  input: number;
  cacheRead: number;
  cacheWrite: number | undefined;
  output: number;
}

/**
 * The per-million rates of a price that is the same for every request size and hour: no tiers
 * (long-context rates) and no time-of-day constraint. Then pricing is a multiplication, which is
 * what the hot path needs; otherwise null, and the library prices each increment.
 */
function linearRates(result: PriceCalculation): LinearRates | null {
  const conditional = Array.isArray(result.model.prices) ? result.model.prices : [];
  if (conditional.some((c) => c.constraint?.type === 'time_of_date')) return null;
  const p = result.model_price;
  const flat = (v: unknown): v is number => typeof v === 'number';
  if (!flat(p.input_mtok) || !flat(p.output_mtok)) return null;
  if (p.cache_read_mtok !== undefined && !flat(p.cache_read_mtok)) return null;
  if (p.cache_write_mtok !== undefined && !flat(p.cache_write_mtok)) return null;
  return {
    modelId: result.model.id,
    input: p.input_mtok,
    cacheRead: flat(p.cache_read_mtok) ? p.cache_read_mtok : p.input_mtok,
    cacheWrite: flat(p.cache_write_mtok) ? p.cache_write_mtok : undefined,
    output: p.output_mtok,
  };
}
