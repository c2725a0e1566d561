import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { type FileReadPool, readerThreadOptions } from '../core/fileReadPool.js';
import { STATE_FILE } from './cachedRun.js';
import { type Invocation } from './invocation.js';
import { type CliIo } from './io.js';

/** The scanner's reader-thread options, with the pool they open when it was started already. */
export interface ScanReaders {
  openReadPool?: () => FileReadPool;
  poolThresholdBytes?: number;
  /** The pool started ahead of the scan; closed after it, whether the scan used it or not. */
  started?: FileReadPool;
}

/**
 * Reader threads for the full run (one core is kept free: the scanning thread's own). When the run
 * will start cold (no --state, or no state saved there yet) they are started now, before the full
 * run's bundle is loaded: a thread takes ~60 ms to start, which then passes while this thread
 * loads the scanner, the price data and the file list, instead of after. A cold scan that turns out
 * too small for them (fileReadPool's thresholds) has started them for nothing, at no cost to the
 * wall time on two cores (docs/performance.md). A warm run starts them only when its scan asks.
 */
export function scanReaders(inv: Invocation, io: CliIo): ScanReaders {
  const options = readerThreadOptions(io.readerThreadScript, 1, io.env);
  const cold = !inv.args.stateDir || !existsSync(join(inv.args.stateDir, STATE_FILE));
  if (!options.openReadPool || !cold) return options;
  const started = options.openReadPool();
  return { ...options, openReadPool: () => started, started };
}
