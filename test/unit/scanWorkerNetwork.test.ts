import { appendFileSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type WorkerMessage } from '../../src/extension/workerProtocol.js';
import { file, legacyHeader, legacyMessage, resetClock, sessionMeta, tokenCount, turnContext } from './helpers/rolloutBuilder.js';
import { ensureWorkerBundle, ShippedWorker, WORKER_BUNDLE as bundle } from './helpers/shippedWorker.js';
import { TempHome } from './helpers/tempHome.js';


/** The inotify watches this process holds (Linux; its threads included). */
function inotifyWatches(): number {
  let watches = 0;
  for (const fd of readdirSync('/proc/self/fdinfo')) {
    try {
      watches += (readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8').match(/^inotify wd:/gm) ?? []).length;
    } catch {
      // closed meanwhile
    }
  }
  return watches;
}

let home: TempHome;
beforeAll(() => ensureWorkerBundle());
beforeEach(async () => {
  home = await TempHome.create();
  resetClock();
  await home.write('w1', file(sessionMeta('w1'), turnContext('gpt-5.1-codex'), tokenCount([1000, 100, 10, 0], [1000, 100, 10, 0])));
  await home.write('legacy', file(legacyHeader('legacy'), legacyMessage('user', 'hello'), legacyMessage('assistant', 'hi')));
});
afterEach(async () => home.dispose());

describe('the shipped scan worker (dist/scanWorker.js)', () => {
  it('scans, estimates, prices and answers the host without any network use', async () => {
    const worker = new ShippedWorker(
      { roots: [home.root], statePath: home.path('state/scan-state.json'), priceOverrides: {}, timeZone: 'UTC' },
      { execArgv: ['--require', join(__dirname, 'helpers', 'forbidNetwork.cjs')] },
    );
    try {
      await expect.poll(() => worker.indexOf('scanned'), { timeout: 15_000 }).toBeGreaterThan(-1);
      const meter = (await worker.request({ type: 'meter', period: 'all' })) as { totalTokens: number; costUsd: number };
      expect(meter.totalTokens).toBeGreaterThan(1010);
      expect(meter.costUsd).toBeGreaterThan(0);
      const panel = (await worker.request({ type: 'panel', filter: { period: 'all' } })) as { threads: unknown[] };
      expect(panel.threads).toHaveLength(2);
      await worker.request({ type: 'flush' });
      expect(worker.errors).toEqual([]);
      const logs = worker.logs();
      expect(logs).not.toMatch(/forbidden/);
      expect(logs).toContain('estimated');
    } finally {
      await worker.terminate();
    }
  }, 30_000);

  it('counts what is appended while the watcher is still starting after the first scan', async () => {
    const worker = new Worker(bundle, { workerData: { roots: [home.root], statePath: home.path('state/scan-state.json'), priceOverrides: {}, timeZone: 'UTC' } });
    const messages: WorkerMessage[] = [];
    worker.on('message', (m: WorkerMessage) => {
      messages.push(m);
      // Right after the scan, before the watcher has seen the file: the gap the catch-up closes.
      if (m.type === 'scanned') appendFileSync(home.path('sessions/2026/11/20/rollout-2026-11-20T10-00-00-w1.jsonl'), file(tokenCount([3000, 100, 30, 0], [2000, 0, 20, 0])));
    });
    try {
      await expect.poll(() => messages.some((m) => m.type === 'changed'), { timeout: 10_000 }).toBe(true);
      const logs = messages.filter((m) => m.type === 'log').map((m) => (m as { message: string }).message).join('\n');
      expect(logs).toMatch(/Caught up with \d+ bytes the watcher had not reported \(1 new responses\)|rollout-w1\.jsonl: read \d+ new bytes, 1 new responses/);
    } finally {
      await worker.terminate();
    }
  }, 30_000);

  it('watches the folders, not each rollout (an inotify watch per file would hit the system limit on a large home)', async () => {
    for (let i = 0; i < 40; i += 1) await home.write(`many-${i}`, file(sessionMeta(`many-${i}`), turnContext('gpt-5.1-codex'), tokenCount([10, 0, 1, 0], [10, 0, 1, 0])));
    const before = inotifyWatches();
    const worker = new Worker(bundle, { workerData: { roots: [home.root], statePath: home.path('state/scan-state.json'), priceOverrides: {}, timeZone: 'UTC' } });
    const messages: WorkerMessage[] = [];
    worker.on('message', (m: WorkerMessage) => messages.push(m));
    try {
      const ready = () => messages.some((m) => m.type === 'log' && /Watching \d+ folders for new usage/.test((m as { message: string }).message));
      await expect.poll(ready, { timeout: 15_000 }).toBe(true);
      // sessions/, 2026/, 11/, 20/ and the home (awaiting archived_sessions/): a handful, not 42 files more.
      expect(inotifyWatches() - before).toBeLessThan(10);
      appendFileSync(home.path('sessions/2026/11/20/rollout-2026-11-20T10-00-00-many-7.jsonl'), file(tokenCount([30, 0, 3, 0], [20, 0, 2, 0])));
      await expect.poll(() => messages.filter((m) => m.type === 'changed').length, { timeout: 10_000 }).toBe(1);
      // A rollout that appears in a watched folder, and one in a day folder that appears, are read too.
      await home.write('newcomer', file(sessionMeta('newcomer'), turnContext('gpt-5.1-codex'), tokenCount([7, 0, 1, 0], [7, 0, 1, 0])));
      await expect.poll(() => messages.filter((m) => m.type === 'changed').length, { timeout: 10_000 }).toBe(2);
      await home.write('sessions/2026/11/21/rollout-2026-11-21T10-00-00-next-day.jsonl', file(sessionMeta('next-day'), turnContext('gpt-5.1-codex'), tokenCount([5, 0, 1, 0], [5, 0, 1, 0])));
      await expect.poll(() => messages.filter((m) => m.type === 'changed').length, { timeout: 10_000 }).toBe(3);
      // A rollout deleted (or moved away) leaves the ledger.
      rmSync(home.path('sessions/2026/11/20/rollout-2026-11-20T10-00-00-many-3.jsonl'));
      await expect.poll(() => messages.filter((m) => m.type === 'changed').length, { timeout: 10_000 }).toBe(4);
    } finally {
      await worker.terminate();
    }
  }, 30_000);

  it('has a guard that really catches network use (control)', async () => {
    const worker = new Worker('require("node:https").get("https://example.invalid/")', { eval: true, execArgv: ['--require', join(__dirname, 'helpers', 'forbidNetwork.cjs')] });
    const error = await new Promise<Error>((resolveError) => worker.on('error', resolveError));
    expect(error.message).toContain('network use is forbidden in the scan worker: https.get');
  });
});
