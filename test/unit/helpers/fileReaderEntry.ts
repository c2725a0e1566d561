// The script of the reader threads in test/unit/fileReadPool.test.ts (bundled there with esbuild):
// serves reads with the tests' word-counting tokenizer, or fails on purpose when asked to.
import { parentPort } from 'node:worker_threads';
import { isFileReaderThread } from '../../../src/core/fileReadPool.js';
import { serveFileReads } from '../../../src/core/fileReadServer.js';

if (isFileReaderThread()) {
  if (process.env.CODEX_METER_TEST_READER_CRASH === '1') throw new Error('reader thread crashed on purpose');
  serveFileReads(parentPort!, (text) => text.split(/\s+/).filter(Boolean).length);
}
