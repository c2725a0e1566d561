import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { FILE_READER_ROLE, serveFileReads } from '../core/fileReadPool.js';
import { countTextTokens } from '../core/tokenizer.js';
import { runCli } from './main.js';

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
