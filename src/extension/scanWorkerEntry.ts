/**
 * The entry of dist/scanWorker.js, the scan worker the extension starts. It is small: it checks the
 * last session's meter cache first (lastSessionCheck.ts), and only then loads dist/scanWorkerMain.js
 * (the scanner, the state, the price data, the watcher; ~40 ms to load in a new thread), so that the
 * host learns that its figures are current that much sooner.
 */
import { join } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { checkLastSession } from './lastSessionCheck.js';
import { workerLogger } from './workerLog.js';
import { type WorkerConfig, type WorkerMessage } from './workerProtocol.js';

/** The bundle of the rest of the worker, beside this one (see scanWorkerMainEntry.ts). */
const MAIN_BUNDLE = join(__dirname, 'scanWorkerMain.js');

const post = (message: WorkerMessage): void => parentPort!.postMessage(message);
const logger = workerLogger(post);

// The host's requests meanwhile wait in the port until scanWorker.ts listens.
void checkLastSession(workerData as WorkerConfig, post, logger)
  .catch((err: unknown) => {
    logger.warn(`Could not check the last session's figures: ${(err as Error).message}`);
    return false;
  })
  .then((current) => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { startScanWorker } = require(MAIN_BUNDLE) as typeof import('./scanWorkerMainEntry.js');
    return startScanWorker(current);
  });
