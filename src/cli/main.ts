import { rolloutFilesNow } from '../core/cacheStamp.js';
import { runFromReportCache } from './cachedRun.js';
import { resolveInvocation } from './invocation.js';
import { type CliIo, stderrLogger } from './io.js';
import { scanReaders } from './readerStart.js';
import { runScan } from './scanRun.js';

export { type CliIo } from './io.js';

/**
 * Runs `codex-meter` and returns its exit code (0 ok, 1 a configuration problem, 2 a usage error):
 * from the report cache when nothing is new, else in full. bin.ts does the same with the full run's
 * code in a bundle of its own, loaded only when needed.
 */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const inv = resolveInvocation(argv, io);
  if (typeof inv === 'number') return inv;
  const rollouts = rolloutFilesNow(inv.roots, stderrLogger(io, inv.args.verbose));
  return (await runFromReportCache(inv, io, rollouts)) ?? runScan(inv, io, await scanReaders(inv, io), rollouts);
}
