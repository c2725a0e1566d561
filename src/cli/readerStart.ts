import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { discoverRolloutFiles } from '../core/discovery.js';
import { defaultReaderThreads, type FileReadPool, readerThreadOptions, worthReaderThreads } from '../core/fileReadPool.js';
import { silentLogger } from '../core/logger.js';
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
 * will start cold (no --state, or no state saved there yet) and the scan will want them (as many
 * files and bytes as fileReadPool.ts's thresholds ask), they are started now, before the full run's
 * bundle is loaded: a thread takes ~60 ms to start, which then passes while this thread loads the
 * scanner, the price data and the file list, instead of after. Listing the files for that costs
 * ~10 ms on a 1 GB home, and spares a small home a thread it would not use (+11 ms on an empty
 * one). A warm run starts them only when its scan asks.
 */
export async function scanReaders(inv: Invocation, io: CliIo): Promise<ScanReaders> {
  const options = withSynchronousOptimization(readerThreadOptions(io.readerThreadScript, 1, io.env), io.env);
  const cold = !inv.args.stateDir || !existsSync(join(inv.args.stateDir, STATE_FILE));
  if (!options.openReadPool || !cold) return options;
  const paths = (await discoverRolloutFiles(inv.roots, silentLogger)).files.map((f) => f.path);
  // The scan's own test (with CODEX_METER_READER_THREADS set, the count alone decides).
  if (!worthReaderThreads(paths, undefined, options.poolThresholdBytes)) return options;
  const started = options.openReadPool();
  // The bytes were counted here; the scan still checks its count of new files.
  return { openReadPool: () => started, poolThresholdBytes: 0, started };
}

/**
 * When the reader threads and this one take every core, the threads opened are told to optimize
 * their hot functions in the thread itself rather than on V8's compiler threads: with none free, those
 * threads only took CPU from the readers. V8 reads the flag as it creates a thread's isolate, so it
 * applies to threads started after it is set, not to this one. A cold scan of the 1 GB bench home on
 * two cores: 3.5 % faster (medians of five interleaved series of 9 to 31 runs, all five in favour).
 */
function withSynchronousOptimization(options: ScanReaders, env: NodeJS.ProcessEnv): ScanReaders {
  const open = options.openReadPool;
  if (!open || defaultReaderThreads(env, availableParallelism(), 1) + 1 < availableParallelism()) return options;
  return {
    ...options,
    openReadPool: () => {
      // node:v8 loaded only here: a run the report cache answers would pay ~2 ms for it at the top.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      (require('node:v8') as typeof import('node:v8')).setFlagsFromString('--no-concurrent-recompilation');
      return open();
    },
  };
}
