import { setFlagsFromString } from 'node:v8';
import { parentPort } from 'node:worker_threads';
import { isFileReaderThread } from '../core/fileReadPool.js';
import { serveFileReads } from '../core/fileReadServer.js';
import { countTextTokens } from '../core/tokenizer.js';

/**
 * The entry of dist/cliReader.js, the script of the reader threads a cold scan starts (fileReadPool.ts):
 * the reader, the line decoders and the tokenizer, without the scanner, the ledger, the state and the
 * price data of dist/cliScan.js. A thread started alone answers its first file ~35 ms sooner (50–70
 * against 90–106 ms) and then adds 16.5 instead of 29.3 MiB to the process (a cold scan's peak RSS
 * was 128–129 MiB in the benches of both rounds, before and after). In a cold scan, where it starts
 * while this thread loads the full run, the difference is below what the benches resolve: 1.48
 * against 1.50 s (1 GB home, 41 alternated runs each), 15.77 against 15.81 G instructions
 * (bench/instructions.mjs).
 */

// Kept at its first size in the reader threads too, as in the scanning thread (see scanEntry.ts).
setFlagsFromString('--semi-space-growth-factor=1');

if (isFileReaderThread()) {
  serveFileReads(parentPort!, countTextTokens);
}
