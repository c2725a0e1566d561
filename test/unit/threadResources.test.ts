import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ResourceLimits, Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FILE_READER_ROLE, type PooledRead, ThreadFileReadPool } from '../../src/core/fileReadPool.js';
import { SCAN_THREAD_RESOURCE_LIMITS } from '../../src/core/threadResources.js';
import { scanWorkerOptions } from '../../src/extension/workerProtocol.js';

/** A thread's own view of its limits (`resourceLimits` of node:worker_threads inside it). */
const REPORT_LIMITS = "const { parentPort, resourceLimits, workerData } = require('node:worker_threads'); parentPort.postMessage({ resourceLimits, workerData });";

function limitsSeenBy(options: ConstructorParameters<typeof Worker>[1]): Promise<{ resourceLimits: ResourceLimits; workerData: unknown }> {
  const worker = new Worker(REPORT_LIMITS, { ...options, eval: true });
  return new Promise((resolve, reject) => {
    worker.once('message', (seen: { resourceLimits: ResourceLimits; workerData: unknown }) => void worker.terminate().then(() => resolve(seen)));
    worker.once('error', reject);
  });
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'codex-meter-thread-limits-'));
});
afterAll(async () => rm(dir, { recursive: true, force: true }));

describe('the heap limits of the scanning threads', () => {
  it('give the scan worker a small young generation and leave its old generation at V8\'s default', async () => {
    const config = { roots: ['/nowhere'], statePath: '/nowhere/state.json', priceOverrides: {}, timeZone: 'UTC' };
    const seen = await limitsSeenBy(scanWorkerOptions(config));
    const unlimited = await limitsSeenBy({});
    expect(seen.workerData).toEqual(config);
    expect(seen.resourceLimits.maxYoungGenerationSizeMb).toBe(SCAN_THREAD_RESOURCE_LIMITS.maxYoungGenerationSizeMb);
    expect(seen.resourceLimits.maxYoungGenerationSizeMb).toBeLessThan(unlimited.resourceLimits.maxYoungGenerationSizeMb!);
    // The ledger of a large home lives in the old generation: a limit there would stop the worker.
    expect(SCAN_THREAD_RESOURCE_LIMITS.maxOldGenerationSizeMb).toBeUndefined();
    expect(seen.resourceLimits.maxOldGenerationSizeMb).toBe(unlimited.resourceLimits.maxOldGenerationSizeMb);
  });

  it('are given to each reader thread of a pool', async () => {
    // A reader script that answers each read with the limits its thread runs under.
    const script = join(dir, 'limits-reader.cjs');
    await writeFile(script, `const { parentPort, resourceLimits, workerData } = require('node:worker_threads');
if (workerData?.role === ${JSON.stringify(FILE_READER_ROLE)}) parentPort.on('message', (m) => parentPort.postMessage({ type: 'read', read: { path: m.path, error: { message: JSON.stringify(resourceLimits) } } }));`);
    const pool = new ThreadFileReadPool({ script, threads: 2, resourceLimits: SCAN_THREAD_RESOURCE_LIMITS });
    const paths = ['/a.jsonl', '/b.jsonl', '/c.jsonl', '/d.jsonl'];
    const reads: PooledRead[] = [];
    try {
      await pool.readAll(() => paths.pop(), (read) => reads.push(read));
    } finally {
      await pool.close();
    }
    expect(reads).toHaveLength(4);
    for (const read of reads) expect((JSON.parse(read.error!.message) as ResourceLimits).maxYoungGenerationSizeMb).toBe(SCAN_THREAD_RESOURCE_LIMITS.maxYoungGenerationSizeMb);
  });
});
