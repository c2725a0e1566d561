import { setFlagsFromString } from 'node:v8';
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { FILE_READER_ROLE, serveFileReads } from '../core/fileReadPool.js';
import { countTextTokens } from '../core/tokenizer.js';
import { runCli } from './main.js';

// Nearly all a scan allocates is short-lived line data, and V8 would grow the young generation to
// 2 × 16 MiB for it; kept at its first size, the peak RSS of a cold scan of a 1 GB home drops by
// ~30 MiB (158 → 127 MiB) for ~1.5 % more instructions. V8 reads this flag whenever it would grow
// the space, so setting it after start-up takes effect (unlike --max-semi-space-size).
setFlagsFromString('--semi-space-growth-factor=1');

if (!isMainThread && (workerData as { role?: string } | undefined)?.role === FILE_READER_ROLE) {
  // This bundle also serves as the script of the reader threads a cold scan starts.
  serveFileReads(parentPort!, countTextTokens);
} else {
  runCli(process.argv.slice(2), {
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
    env: process.env,
    readerThreadScript: __filename,
  }).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`codex-meter: unexpected failure: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exitCode = 70;
    },
  );
}
