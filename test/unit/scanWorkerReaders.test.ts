import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type MeterSummary } from '../../src/core/meterCache.js';
import { type WorkerConfig } from '../../src/extension/workerProtocol.js';
import { file, resetClock, sessionMeta, tokenCount, turnContext } from './helpers/rolloutBuilder.js';
import { ensureWorkerBundle, ShippedWorker } from './helpers/shippedWorker.js';
import { TempHome } from './helpers/tempHome.js';

let home: TempHome;
beforeAll(() => ensureWorkerBundle());
beforeEach(async () => {
  home = await TempHome.create();
  resetClock();
});
afterEach(async () => home.dispose());

describe('the shipped scan worker on a cold home', () => {
  it('reads it with reader threads started from dist/scanReader.js, to the same figures', async () => {
    // 40 files: enough for reader threads (32), which CODEX_METER_READER_THREADS asks for whatever their size.
    for (let i = 0; i < 40; i += 1) {
      await home.write(`t${i}`, file(sessionMeta(`t${i}`), turnContext('gpt-5.1-codex'), tokenCount([100 + i, 0, 10, 0], [100 + i, 0, 10, 0])));
    }
    const expected = Array.from({ length: 40 }, (_, i) => 110 + i).reduce((a, b) => a + b, 0);
    const config: WorkerConfig = { roots: [home.root], statePath: home.path('state/scan-state.json'), priceOverrides: {}, timeZone: 'UTC' };
    const worker = new ShippedWorker(config, { env: { ...process.env, CODEX_METER_READER_THREADS: '2' } });
    try {
      await expect.poll(() => worker.indexOf('scanned'), { timeout: 20_000 }).toBeGreaterThan(-1);
      expect(worker.logs()).toMatch(/Reading 40 files never read before with reader threads/);
      expect(worker.logs()).not.toMatch(/reading (its|their) files in this thread instead/);
      const meter = (await worker.request({ type: 'meter', period: 'all' })) as MeterSummary;
      expect(meter.totalTokens).toBe(expected);
      expect(worker.errors).toEqual([]);
    } finally {
      await worker.terminate();
    }
  }, 30_000);
});
