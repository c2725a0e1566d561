import { parentPort } from 'node:worker_threads';
import { isFileReaderThread } from '../core/fileReadPool.js';
import { serveFileReads } from '../core/fileReadServer.js';
import { countTextTokens } from '../core/tokenizer.js';

/**
 * The entry of dist/scanReader.js, the script of the reader threads the scan worker starts for a
 * cold scan of many files (fileReadPool.ts; on machines with more than two cores): the reader, the
 * line decoders and the tokenizer, without the scanner, the ledger, the state and the price data of
 * dist/scanWorkerMain.js, which was their script before. A reader thread started from it adds ~16.5
 * MiB to its process's memory instead of ~24 MiB, once it has read its first file. Unlike the
 * CLI's (src/cli/readerEntry.ts), it sets no V8 flag: a flag would hold for the whole extension host.
 */
if (isFileReaderThread()) {
  serveFileReads(parentPort!, countTextTokens);
}
