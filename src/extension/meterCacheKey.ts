import { type CacheKey } from '../core/cacheStamp.js';
import { type WorkerConfig } from './workerProtocol.js';

/**
 * The build's identity (esbuild.mjs defines it in the host's bundle and the worker's alike);
 * absent when this module runs unbundled, and then no meter cache is written or read.
 */
declare const CODEX_METER_BUILD: string | undefined;

/**
 * What the meter cache is valid for: this build, Node and ICU, the price overrides, the time zone
 * and the roots. The host (which shows the cache at once) and the worker (which checks and writes
 * it) run in one process, so they make the same key from the same configuration.
 */
export function meterCacheKey(config: Pick<WorkerConfig, 'roots' | 'priceOverrides' | 'timeZone'>): CacheKey | undefined {
  if (typeof CODEX_METER_BUILD !== 'string') return undefined;
  const build = `${CODEX_METER_BUILD}; Node ${process.version}; tz ${process.versions.tz ?? 'unknown'}; price overrides ${JSON.stringify(config.priceOverrides)}`;
  return { build, timeZone: config.timeZone, roots: config.roots };
}
