import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { FILE_READER_ROLE, serveFileReads } from '../core/fileReadPool.js';
import { countTextTokens } from '../core/tokenizer.js';

/**
 * The entry of dist/cliScan.js: the CLI's full run (the scanner, the state, the price data), which
 * bin.ts loads only when the report cache cannot answer. It is also the script of the reader threads
 * a cold scan starts.
 */
export { runScan } from './scanRun.js';

if (!isMainThread && (workerData as { role?: string } | undefined)?.role === FILE_READER_ROLE) {
  serveFileReads(parentPort!, countTextTokens);
}
