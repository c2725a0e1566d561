import { statSync } from 'node:fs';
import { type MessagePort } from 'node:worker_threads';
import { type TokenCounter } from './fileAccount.js';
import { freshRecord, readRolloutFile } from './fileRead.js';
import { identityFromStats } from './fileIdentity.js';
import { type FromReader, type PooledRead, type ToReader } from './fileReadPool.js';

/**
 * The reader thread's side of a ThreadFileReadPool (fileReadPool.ts): reads each file it is sent,
 * from the start, and posts what it found. Apart from the pool, so the pool can be started from a
 * bundle that holds no reader (the CLI's first one, cli.js).
 */
export function serveFileReads(port: MessagePort, countTokens: TokenCounter): void {
  port.on('message', (message: ToReader) => {
    if (message.type !== 'read') return;
    port.postMessage({ type: 'read', read: readOne(message.path, countTokens) } satisfies FromReader);
  });
}

function readOne(path: string, countTokens: TokenCounter): PooledRead {
  try {
    const identity = identityFromStats(statSync(path));
    return { path, outcome: readRolloutFile(path, freshRecord(identity), identity, countTokens) };
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    return { path, error: { ...(e.code ? { code: e.code } : {}), message: e.message } };
  }
}
