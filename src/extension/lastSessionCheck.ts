import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { type Logger } from '../core/logger.js';
import { MeterCacheStore } from '../core/meterCache.js';
import { REPORT_CACHE_FILE } from '../core/reportCache.js';
import { meterCacheKey } from './meterCacheKey.js';
import { type WorkerConfig, type WorkerMessage } from './workerProtocol.js';

/**
 * The scan worker's first job, before it loads the scanner (see scanWorkerEntry.ts): when the
 * meter cache says no rollout changed since the last session wrote it, tells the host (whose meter
 * then counts its figures as checked) and returns true; otherwise tells the host that the figures it
 * may be showing from the cache are out of date until the first scan ends.
 */
export async function checkLastSession(config: WorkerConfig, post: (message: WorkerMessage) => void, logger: Logger): Promise<boolean> {
  // The report cache of earlier versions, which the worker neither reads nor writes any more.
  rmSync(join(dirname(config.statePath), REPORT_CACHE_FILE), { force: true });
  const key = meterCacheKey(config);
  if (!key) return false;
  const started = Date.now();
  const found = await MeterCacheStore.beside(config.statePath, logger).lookup(key);
  if (!found.hit) {
    post({ type: 'lastSessionStale', reason: found.reason });
    return false;
  }
  const millis = Date.now() - started;
  const sinceStart = config.startedAt === undefined ? '' : `, ${Date.now() - config.startedAt} ms after the worker was started`;
  logger.info(`Nothing new in the ${found.cache.trackedFiles} rollout files since the last session (checked in ${millis} ms${sinceStart}): the meter shows its figures while the scan state loads.`);
  post({ type: 'lastSession', files: found.cache.trackedFiles, millis, meter: found.cache });
  return true;
}
