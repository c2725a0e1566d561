import { appendFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type MeterSummary } from '../../src/core/meterCache.js';
import { type WorkerConfig } from '../../src/extension/workerProtocol.js';
import { file, resetClock, sessionMeta, tokenCount, turnContext } from './helpers/rolloutBuilder.js';
import { ensureWorkerBundle, ShippedWorker } from './helpers/shippedWorker.js';
import { TempHome } from './helpers/tempHome.js';

let home: TempHome;
let disk: string;
beforeAll(() => ensureWorkerBundle());
beforeEach(async () => {
  home = await TempHome.create();
  disk = await mkdtemp(join(tmpdir(), 'codex-meter-disk-'));
  resetClock();
});
afterEach(async () => {
  await home.dispose();
  await rm(disk, { recursive: true, force: true });
});

describe('the shipped scan worker, with a year of sessions on another disk linked into the home', () => {
  it('counts the linked rollouts, and follows an append to one, a new one there and a year linked in as it watches', async () => {
    await home.write('here', file(sessionMeta('here'), turnContext('gpt-5.1-codex'), tokenCount([1000, 100, 10, 0], [1000, 100, 10, 0])));
    const old = join(disk, '2025/06/01/rollout-2025-06-01T10-00-00-old.jsonl');
    await mkdir(join(disk, '2025/06/01'), { recursive: true });
    await writeFile(old, file(sessionMeta('old'), turnContext('gpt-5'), tokenCount([4000, 2000, 300, 50], [4000, 2000, 300, 50])));
    await symlink(join(disk, '2025'), home.path('sessions/2025'));
    const config: WorkerConfig = { roots: [home.root], statePath: home.path('state/scan-state.json'), priceOverrides: {}, timeZone: 'UTC' };
    const worker = new ShippedWorker(config);
    const total = async (): Promise<number> => ((await worker.request({ type: 'meter', period: 'all' })) as MeterSummary).totalTokens;
    try {
      await expect.poll(() => worker.indexOf('scanned'), { timeout: 15_000 }).toBeGreaterThan(-1);
      expect(await total()).toBe(1010 + 4300);
      await expect.poll(() => /Watching \d+ folders/.test(worker.logs()), { timeout: 15_000 }).toBe(true);
      // Written through the disk's own path, as Codex resuming the thread there would.
      appendFileSync(old, file(tokenCount([5000, 2000, 400, 50], [1000, 0, 100, 0])));
      await expect.poll(total, { timeout: 15_000 }).toBe(1010 + 4300 + 1100);
      await mkdir(join(disk, '2025/06/02'));
      await writeFile(join(disk, '2025/06/02/rollout-2025-06-02T10-00-00-new.jsonl'), file(sessionMeta('new'), turnContext('gpt-5'), tokenCount([70, 0, 7, 0], [70, 0, 7, 0])));
      await expect.poll(total, { timeout: 15_000 }).toBe(1010 + 4300 + 1100 + 77);
      // Another year linked in while it watches.
      await mkdir(join(disk, '2024/03/01'), { recursive: true });
      await writeFile(join(disk, '2024/03/01/rollout-2024-03-01T10-00-00-older.jsonl'), file(sessionMeta('older'), turnContext('gpt-5'), tokenCount([900, 0, 9, 0], [900, 0, 9, 0])));
      await symlink(join(disk, '2024'), home.path('sessions/2024'));
      await expect.poll(total, { timeout: 15_000 }).toBe(1010 + 4300 + 1100 + 77 + 909);
      expect(worker.errors).toEqual([]);
    } finally {
      await worker.terminate();
    }
  });
});
