import { type CacheKey } from '../core/cacheStamp.js';
import { type MeterCache, type MeterCacheStore, meterFromCache, type MeterSummary } from '../core/meterCache.js';

/**
 * The host's figures of the last session (the meter cache, meterCache.ts) until the worker's first
 * scan ends: read at activation and shown at once, not yet checked; checked when the worker says
 * that nothing changed since (it sends the cache it checked). Pure (no vscode import), tested in Node.
 */
export class LastSessionMeter {
  private cache: MeterCache | undefined;
  private isChecked = false;
  private isStale = false;
  /** Set by forget(): what the worker says afterwards of the cache is of the settings before. */
  private retired = false;

  constructor(private readonly store: MeterCacheStore) {}

  /** Reads the cache written for `key` (synchronously; see MeterCacheStore.read); true when there is one to show. Never replaces a checked cache. */
  load(key: CacheKey | undefined): boolean {
    if (!key || this.isChecked || this.retired) return this.cache !== undefined;
    this.cache = this.store.read(key);
    return this.cache !== undefined;
  }

  /** The worker checked this cache against every rollout: its figures are those the scan will give. */
  confirm(cache: MeterCache): void {
    if (this.retired) return;
    this.cache = cache;
    this.isChecked = true;
  }

  /** The worker found that something changed since the cache was written: its figures are out of date until the first scan ends. */
  markStale(): void {
    if (!this.isChecked && !this.retired) this.isStale = true;
  }

  /** The settings the cache was for changed: nothing of it is shown any more, whatever the worker says of it later. */
  forget(): void {
    this.retired = true;
    this.cache = undefined;
    this.isChecked = false;
    this.isStale = false;
  }

  /** What is known of the figures: 'checked' (the scan will give them), 'stale' (it will not) or 'unchecked' (not known yet). */
  get state(): 'checked' | 'stale' | 'unchecked' {
    return this.isChecked ? 'checked' : this.isStale ? 'stale' : 'unchecked';
  }

  /** The meter for the budget period [start, end); undefined without figures, or for a period that is not whole local days. */
  summary(period: { start: Date | undefined; end: Date | undefined }): MeterSummary | undefined {
    return this.cache ? meterFromCache(this.cache, period.start, period.end) : undefined;
  }
}
