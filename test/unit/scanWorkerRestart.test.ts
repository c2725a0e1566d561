import { appendFileSync } from 'node:fs';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type MeterSummary, type WorkerConfig, type WorkerMessage } from '../../src/extension/workerProtocol.js';
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
 * report cache written then goes stale; the flush must write it again).
 */
async function firstSession(liveChange = false): Promise<MeterSummary> {
  const worker = new ShippedWorker(config);
  try {
    await expect.poll(() => worker.indexOf('scanned'), { timeout: 15_000 }).toBeGreaterThan(-1);
    if (liveChange) {
      await expect.poll(() => /Watching \d+ folders/.test(worker.logs()), { timeout: 15_000 }).toBe(true);
      appendFileSync(r1(), file(tokenCount([3000, 100, 30, 0], [2000, 0, 20, 0])));
      await expect.poll(() => worker.indexOf('changed'), { timeout: 15_000 }).toBeGreaterThan(-1);
    }
    const meter = (await worker.request({ type: 'meter', period: 'all' })) as MeterSummary;
    await worker.request({ type: 'flush' });
    expect(worker.errors).toEqual([]);
    return meter;
  } finally {
    await worker.terminate();
  }
}

const replyIndex = (worker: ShippedWorker, id: number): number => worker.messages.findIndex((m) => m.type === 'reply' && m.id === id);

describe('the shipped scan worker across a restart', () => {
  it('with nothing new, answers the meter from the last session before its first scan ends, with the figures the scan gives', async () => {
    const before = await firstSession(true);
    expect(before.totalTokens).toBe(1010 + 4300 + 2020);
    let early: Promise<unknown> | undefined;
    // Asked the moment the worker says it has the last session's figures, as the host does.
    const worker = new ShippedWorker(config, {}, (m: WorkerMessage, w) => {
      if (m.type === 'lastSession') early = w.request({ type: 'meter', period: 'all' });
    });
    try {
      await expect.poll(() => worker.indexOf('scanned'), { timeout: 15_000 }).toBeGreaterThan(-1);
      expect(worker.indexOf('lastSession')).toBeGreaterThan(-1);
      expect(worker.indexOf('lastSession')).toBeLessThan(worker.indexOf('scanned'));
      expect(worker.logs()).toMatch(/Nothing new in the 2 rollout files since the last session \(checked in \d+ ms\)/);
      const fromCache = (await early) as MeterSummary;
      expect(replyIndex(worker, 1)).toBeLessThan(worker.indexOf('scanned'));
      expect(fromCache).toEqual(before);
      // The same figures once the state is loaded and every rollout checked.
      expect(await worker.request({ type: 'meter', period: 'all' })).toEqual(before);
      expect(await worker.request({ type: 'meter', period: 'month' })).toMatchObject({ totalTokens: expect.any(Number) });
      expect(worker.errors).toEqual([]);
    } finally {
      await worker.terminate();
    }
  }, 30_000);

  it('when a rollout changed while it was stopped, waits for the scan, which counts the change', async () => {
    const before = await firstSession();
    appendFileSync(r1(), file(tokenCount([3000, 100, 30, 0], [2000, 0, 20, 0])));
    const worker = new ShippedWorker(config);
    try {
      await expect.poll(() => worker.indexOf('scanned'), { timeout: 15_000 }).toBeGreaterThan(-1);
      expect(worker.indexOf('lastSession')).toBe(-1);
      const after = (await worker.request({ type: 'meter', period: 'all' })) as MeterSummary;
      expect(after.totalTokens).toBe(before.totalTokens + 2020);
    } finally {
      await worker.terminate();
    }
  }, 30_000);

  it('asked for a budget period reset at another time than midnight, answers after the scan', async () => {
    await firstSession();
    const resetAt = new Date(Date.now() - 3_600_000 - 17_000).toISOString(); // an hour ago, not at a midnight
    let early: Promise<unknown> | undefined;
    const worker = new ShippedWorker(config, {}, (m: WorkerMessage, w) => {
      if (m.type === 'lastSession') early = w.request({ type: 'meter', period: 'month', resetAt });
    });
    try {
      await expect.poll(() => worker.indexOf('scanned'), { timeout: 15_000 }).toBeGreaterThan(-1);
      expect(worker.indexOf('lastSession')).toBeGreaterThan(-1);
      await early;
      expect(replyIndex(worker, 1)).toBeGreaterThan(worker.indexOf('scanned'));
    } finally {
      await worker.terminate();
    }
  }, 30_000);
});
