import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { periodWindow } from '../../src/core/budget/index.js';
import { silentLogger } from '../../src/core/logger.js';
import { METER_CACHE_FILE, type MeterCache, MeterCacheStore, meterFromCache, type MeterSummary } from '../../src/core/meterCache.js';
import { type WorkerConfig, type WorkerMessage } from '../../src/extension/workerProtocol.js';
import { file, resetClock, sessionMeta, tokenCount, turnContext } from './helpers/rolloutBuilder.js';
import { ensureWorkerBundle, ShippedWorker } from './helpers/shippedWorker.js';
import { TempHome } from './helpers/tempHome.js';

let home: TempHome;
let config: WorkerConfig;
beforeAll(() => ensureWorkerBundle());
beforeEach(async () => {
  home = await TempHome.create();
  resetClock();
  await home.write('r1', file(sessionMeta('r1'), turnContext('gpt-5.1-codex'), tokenCount([1000, 100, 10, 0], [1000, 100, 10, 0])));
  await home.write('r2', file(sessionMeta('r2'), turnContext('gpt-5'), tokenCount([4000, 2000, 300, 50], [4000, 2000, 300, 50])));
  config = { roots: [home.root], statePath: home.path('state/scan-state.json'), priceOverrides: {}, timeZone: 'UTC' };
});
afterEach(async () => home.dispose());

const r1 = (): string => home.path('sessions/2026/11/20/rollout-2026-11-20T10-00-00-r1.jsonl');

/**
 * A first session: the worker scans, answers the meter, saves at the host's flush (deactivation)
 * and stops. With `liveChange`, a response is appended while it watches, after the first scan (the
 * meter cache written then goes stale; the save after the change, or the flush, writes it again).
 * With `killed`, the worker is stopped without the flush, once its save after the change is on disk
 * (VS Code killed, or its server stopped).
 */
async function firstSession(liveChange = false, killed = false): Promise<MeterSummary> {
  const worker = new ShippedWorker(config);
  try {
    await expect.poll(() => worker.indexOf('scanned'), { timeout: 15_000 }).toBeGreaterThan(-1);
    if (liveChange) {
      await expect.poll(() => /Watching \d+ folders/.test(worker.logs()), { timeout: 15_000 }).toBe(true);
      appendFileSync(r1(), file(tokenCount([3000, 100, 30, 0], [2000, 0, 20, 0])));
      await expect.poll(() => worker.indexOf('changed'), { timeout: 15_000 }).toBeGreaterThan(-1);
    }
    const meter = (await worker.request({ type: 'meter', period: 'all' })) as MeterSummary;
    if (killed) {
      // The debounced save (500 ms after the change) and the meter cache after it.
      await expect.poll(() => storedMeterCache() && meterFromCache(storedMeterCache()!, undefined, undefined)?.totalTokens, { timeout: 10_000 }).toBe(meter.totalTokens);
    } else {
      await worker.request({ type: 'flush' });
    }
    expect(worker.errors).toEqual([]);
    return meter;
  } finally {
    await worker.terminate();
  }
}

/** The meter cache the worker left beside its state, as the host reads it at activation (not checked). */
function storedMeterCache(): MeterCache | undefined {
  const path = home.path(`state/${METER_CACHE_FILE}`);
  if (!existsSync(path)) return undefined;
  const build = (JSON.parse(readFileSync(path, 'utf8')) as { build: string }).build;
  return new MeterCacheStore(path, config.statePath, silentLogger).read({ build, timeZone: config.timeZone, roots: config.roots });
}

const monthOf = (now: Date): { start: Date; end: Date } => {
  const w = periodWindow('month', now, 'UTC');
  return { start: w.start!, end: w.end! };
};

describe('the shipped scan worker across a restart', () => {
  it('with nothing new, sends the meter cache it checked before its first scan ends: the figures the scan gives', async () => {
    const before = await firstSession(true);
    expect(before.totalTokens).toBe(1010 + 4300 + 2020);
    // What the host shows at once on the next start: written at the flush, after the change the worker watched.
    const unchecked = storedMeterCache();
    expect(unchecked && meterFromCache(unchecked, undefined, undefined)).toEqual(before);
    // The report cache of earlier versions goes.
    writeFileSync(home.path('state/report-cache.json'), '{}');
    const worker = new ShippedWorker(config);
    try {
      await expect.poll(() => worker.indexOf('scanned'), { timeout: 15_000 }).toBeGreaterThan(-1);
      expect(worker.indexOf('lastSession')).toBeGreaterThan(-1);
      expect(worker.indexOf('lastSession')).toBeLessThan(worker.indexOf('scanned'));
      expect(worker.indexOf('lastSessionStale')).toBe(-1);
      expect(worker.logs()).toMatch(/Nothing new in the 2 rollout files since the last session \(checked in \d+ ms\)/);
      const checked = (worker.messages[worker.indexOf('lastSession')] as Extract<WorkerMessage, { type: 'lastSession' }>).meter;
      expect(checked).toEqual(unchecked);
      // The same figures once the state is loaded and every rollout checked, of all time and of this month.
      expect(meterFromCache(checked, undefined, undefined)).toEqual(await worker.request({ type: 'meter', period: 'all' }));
      const month = monthOf(new Date());
      expect(meterFromCache(checked, month.start, month.end)).toEqual(await worker.request({ type: 'meter', period: 'month' }));
      expect(existsSync(home.path('state/report-cache.json'))).toBe(false);
      expect(worker.errors).toEqual([]);
    } finally {
      await worker.terminate();
    }
  }, 30_000);

  it('with the cache current, skips its own pass over the rollouts, and still counts what is written after the check', async () => {
    const before = await firstSession();
    // Appended the moment the worker says the cache was current: after its check, before its watcher.
    const worker = new ShippedWorker(config, {}, (m: WorkerMessage) => {
      if (m.type === 'lastSession') appendFileSync(r1(), file(tokenCount([3000, 100, 30, 0], [2000, 0, 20, 0])));
    });
    try {
      await expect.poll(() => worker.indexOf('scanned'), { timeout: 15_000 }).toBeGreaterThan(-1);
      expect(worker.logs()).toMatch(/Scanned 2 rollout files under .* \(each checked at the start against the last session's meter cache\): read 0 new bytes/);
      await expect.poll(async () => ((await worker.request({ type: 'meter', period: 'all' })) as MeterSummary).totalTokens, { timeout: 15_000 }).toBe(before.totalTokens + 2020);
    } finally {
      await worker.terminate();
    }
  }, 30_000);

  it('finds the meter cache current after a session that was stopped without its last save, once its save after a change was done', async () => {
    const before = await firstSession(true, true);
    const worker = new ShippedWorker(config);
    try {
      await expect.poll(() => worker.indexOf('scanned'), { timeout: 15_000 }).toBeGreaterThan(-1);
      const last = worker.messages[worker.indexOf('lastSession')] as Extract<WorkerMessage, { type: 'lastSession' }> | undefined;
      expect(last && meterFromCache(last.meter, undefined, undefined)).toEqual(before);
    } finally {
      await worker.terminate();
    }
  }, 30_000);

  it('when a rollout changed while it was stopped, sends nothing before its scan, which counts the change and writes the cache again', async () => {
    const before = await firstSession();
    appendFileSync(r1(), file(tokenCount([3000, 100, 30, 0], [2000, 0, 20, 0])));
    const worker = new ShippedWorker(config);
    try {
      await expect.poll(() => worker.indexOf('scanned'), { timeout: 15_000 }).toBeGreaterThan(-1);
      expect(worker.indexOf('lastSession')).toBe(-1);
      // The host hears, before the scan ends, that the figures it shows from the cache are behind.
      const stale = worker.indexOf('lastSessionStale');
      expect(stale).toBeGreaterThan(-1);
      expect(stale).toBeLessThan(worker.indexOf('scanned'));
      expect(worker.messages[stale]).toEqual({ type: 'lastSessionStale', reason: 'a rollout file changed' });
      const after = (await worker.request({ type: 'meter', period: 'all' })) as MeterSummary;
      expect(after.totalTokens).toBe(before.totalTokens + 2020);
      // Written again after the scan that read the change (no flush needed).
      await expect.poll(() => {
        const cache = storedMeterCache();
        return cache && meterFromCache(cache, undefined, undefined)?.totalTokens;
      }, { timeout: 10_000 }).toBe(after.totalTokens);
    } finally {
      await worker.terminate();
    }
  }, 30_000);
});
