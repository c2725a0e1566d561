/**
 * The entry of dist/scanWorkerMain.js. The same script serves two kinds of thread: the scan worker
 * the extension starts (scanWorkerEntry.ts loads it there and calls startScanWorker), and the reader
 * threads that scan worker starts for a cold scan of many files.
 */
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { FILE_READER_ROLE } from '../core/fileReadPool.js';
import { serveFileReads } from '../core/fileReadServer.js';
import { countTextTokens } from '../core/tokenizer.js';

if (!isMainThread && (workerData as { role?: string } | undefined)?.role === FILE_READER_ROLE) {
  serveFileReads(parentPort!, countTextTokens);
}

/** Starts the scan worker (scanWorker.ts, loaded only here: a reader thread never runs it). */
export async function startScanWorker(meterCacheWasCurrent: boolean): Promise<void> {
  const worker = await import('./scanWorker.js');
  worker.begin(meterCacheWasCurrent);
}
