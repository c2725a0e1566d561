import { join } from 'node:path';
import { rolloutFilesNow } from '../core/cacheStamp.js';
import { runFromReportCache } from './cachedRun.js';
import { resolveInvocation } from './invocation.js';
import { type CliIo, stderrLogger } from './io.js';

/** Set by esbuild.mjs: this package's version and that of its price data. */
declare const CODEX_METER_BUILD: string;

/** The bundle of the full run, beside this one (see scanEntry.ts). */
const SCAN_BUNDLE = join(__dirname, 'cliScan.js');
/** The reader threads' bundle, beside this one (see readerEntry.ts). */
const READER_BUNDLE = join(__dirname, 'cliReader.js');

/**
 * Writes to `stream` until it is a pipe its reader has closed (`codex-meter threads | head`): then
 * what is left to print is dropped quietly, as other command-line tools do, where Node would throw
 * an unhandled EPIPE; the run goes on to its end (the state and caches saved) and exits as it would have.
 */
function writerTo(stream: NodeJS.WriteStream): (chunk: string | Uint8Array) => void {
  let closed = false;
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
    closed = true;
  });
  return (chunk) => {
    if (!closed) stream.write(chunk);
  };
}

async function main(): Promise<number> {
  const stdout = writerTo(process.stdout);
  const io: CliIo = {
    out: stdout,
    outBytes: stdout,
    err: writerTo(process.stderr),
    env: process.env,
    readerThreadScript: READER_BUNDLE,
    // Node's version and time-zone data too: a day's bounds come from its ICU.
    reportCacheBuild: `${CODEX_METER_BUILD}; Node ${process.version}; tz ${process.versions.tz ?? 'unknown'}`,
    version: CODEX_METER_BUILD,
  };
  const inv = resolveInvocation(process.argv.slice(2), io);
  if (typeof inv === 'number') return inv;
  // One look at the rollouts: the full run goes on from what the report cache's check found.
  const rollouts = rolloutFilesNow(inv.roots, stderrLogger(io, inv.args.verbose));
  const cached = await runFromReportCache(inv, io, rollouts);
  if (cached !== undefined) return cached;
  // Started before the full run is loaded, so a cold scan's reader threads start meanwhile. Imported
  // here: what opens them (node:worker_threads' set-up, ~4 ms) is of no use to a run the cache answers.
  const { scanReaders } = await import('./readerStart.js');
  const readers = await scanReaders(inv, io);
  // Loaded here, not imported: a run the report cache answers never parses the scanner and the price data.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { runScan } = require(SCAN_BUNDLE) as typeof import('./scanEntry.js');
  return runScan(inv, io, readers, rollouts);
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`codex-meter: unexpected failure: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 70;
  },
);
