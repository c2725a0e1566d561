/**
 * The entry of dist/scanWorker.js. The same script serves two kinds of thread: the scan worker the
 * extension starts, and the reader threads that scan worker starts for a cold scan of many files.
 */
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { FILE_READER_ROLE } from '../core/fileReadPool.js';
import { serveFileReads } from '../core/fileReadServer.js';
import { countTextTokens } from '../core/tokenizer.js';

if (!isMainThread && (workerData as { role?: string } | undefined)?.role === FILE_READER_ROLE) {
  serveFileReads(parentPort!, countTextTokens);
} else {
  void import('./scanWorker.js');
}
