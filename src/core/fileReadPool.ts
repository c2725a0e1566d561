import { statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { type MessagePort, type ResourceLimits, Worker } from 'node:worker_threads';
import { type TokenCounter } from './fileAccount.js';
import { type FileReadOutcome, freshRecord, readRolloutFile } from './fileRead.js';
import { SCAN_THREAD_RESOURCE_LIMITS } from './threadResources.js';

/** `workerData.role` of a thread started to read files for a pool. */
export const FILE_READER_ROLE = 'codex-meter-file-reader';

/** One file read whole by a reader thread: its outcome, why it could not be read, or that the thread failed first. */
export interface PooledRead {
  path: string;
  outcome?: FileReadOutcome;
  error?: { code?: string; message: string };
  /** The thread stopped before reading this file; the caller reads it itself. */
  threadFailed?: boolean;
}

/** Reads files whole, from their first byte, in other threads. */
export interface FileReadPool {
  /** Reads the paths `next` hands out until it returns undefined, calling `onRead` as each one ends. */
  readAll(next: () => string | undefined, onRead: (read: PooledRead) => void): Promise<void>;
  close(): Promise<void>;
}

/**
 * The number of reader threads to start beside the scanning thread: `CODEX_METER_READER_THREADS`
 * when set (0 turns them off), else one per core beyond `keepFree`, at most three. `keepFree` is
 * the cores left to others: the scanning thread's own (the CLI), and the editor's too (the
 * extension, whose first scan runs while VS Code starts).
 */
export function defaultReaderThreads(env: NodeJS.ProcessEnv = process.env, cores: number = availableParallelism(), keepFree = 2): number {
  return configuredReaderThreads(env) ?? Math.max(0, Math.min(3, cores - keepFree));
}

/** The number CODEX_METER_READER_THREADS sets (at most 16), or undefined when it sets none. */
function configuredReaderThreads(env: NodeJS.ProcessEnv = process.env): number | undefined {
  const configured = env.CODEX_METER_READER_THREADS?.trim();
  return configured && /^\d+$/.test(configured) ? Math.min(16, Number(configured)) : undefined;
}

/**
 * The scanner's reader-thread options for a thread that scans with `script` as the reader threads'
 * script (the CLI's, the scan worker's bundle): as many threads as defaultReaderThreads gives, with
 * the scan threads' limits, and threads that CODEX_METER_READER_THREADS asks for started whatever
 * the size of the cold scan.
 */
export function readerThreadOptions(script: string | undefined, keepFree: number, env: NodeJS.ProcessEnv = process.env): { openReadPool?: () => FileReadPool; poolThresholdBytes?: number } {
  const threads = defaultReaderThreads(env, availableParallelism(), keepFree);
  if (!script || threads === 0) return {};
  const openReadPool = (): FileReadPool => new ThreadFileReadPool({ script, threads, resourceLimits: SCAN_THREAD_RESOURCE_LIMITS });
  return configuredReaderThreads(env) === undefined ? { openReadPool } : { openReadPool, poolThresholdBytes: 0 };
}

/**
 * Files handed to a reader thread ahead of its results. The scanning thread takes the results
 * only between files of its own, which can take a while: with 2 the reader sat idle most of a cold
 * scan of a 1 GB home (2.2 s against 1.6 s without it); with 16 it never waits (1.23 s).
 */
const DEFAULT_FILES_IN_FLIGHT = 16;

type ToReader = { type: 'read'; path: string };
type FromReader = { type: 'read'; read: PooledRead };

/**
 * Reader threads started from a script that calls `serveFileReads` when its `workerData.role` is
 * FILE_READER_ROLE (the CLI and the extension's scan worker are such scripts). Each thread keeps
 * DEFAULT_FILES_IN_FLIGHT files queued, so it never waits for this thread between files. `resourceLimits` are
 * given to each thread (see threadResources.ts).
 */
export class ThreadFileReadPool implements FileReadPool {
  private readonly workers: Worker[] = [];

  constructor(private readonly options: { script: string; threads: number; filesInFlight?: number; resourceLimits?: ResourceLimits }) {}

  async readAll(next: () => string | undefined, onRead: (read: PooledRead) => void): Promise<void> {
    const inFlight = this.options.filesInFlight ?? DEFAULT_FILES_IN_FLIGHT;
    const runs: Promise<void>[] = [];
    for (let i = 0; i < this.options.threads; i += 1) {
      const worker = new Worker(this.options.script, {
        workerData: { role: FILE_READER_ROLE },
        ...(this.options.resourceLimits ? { resourceLimits: this.options.resourceLimits } : {}),
      });
      this.workers.push(worker);
      runs.push(new Promise<void>((resolve) => {
        const outstanding = new Set<string>();
        let finished = false;
        const finish = (err?: Error | number): void => {
          if (finished) return;
          finished = true;
          const why = err instanceof Error ? err.message : `it exited with code ${err ?? 0}`;
          for (const path of outstanding) onRead({ path, threadFailed: true, error: { message: `a reader thread stopped: ${why}` } });
          outstanding.clear();
          resolve();
        };
        const send = (): void => {
          while (outstanding.size < inFlight) {
            const path = next();
            if (path === undefined) break;
            outstanding.add(path);
            worker.postMessage({ type: 'read', path } satisfies ToReader);
          }
          if (outstanding.size === 0) {
            finished = true;
            resolve();
          }
        };
        worker.on('message', (message: FromReader) => {
          if (finished || message.type !== 'read' || !outstanding.delete(message.read.path)) return;
          onRead(message.read);
          send();
        });
        worker.on('error', finish);
        worker.on('exit', finish);
        send();
      }));
    }
    await Promise.all(runs);
  }

  async close(): Promise<void> {
    const workers = this.workers.splice(0);
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

/** The reader thread's side: reads each file it is sent, from the start, and posts what it found. */
export function serveFileReads(port: MessagePort, countTokens: TokenCounter): void {
  port.on('message', (message: ToReader) => {
    if (message.type !== 'read') return;
    port.postMessage({ type: 'read', read: readOne(message.path, countTokens) } satisfies FromReader);
  });
}

function readOne(path: string, countTokens: TokenCounter): PooledRead {
  try {
    const info = statSync(path);
    const identity = { size: info.size, mtimeMs: info.mtimeMs, ino: info.ino };
    return { path, outcome: readRolloutFile(path, freshRecord(identity), identity, countTokens) };
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    return { path, error: { ...(e.code ? { code: e.code } : {}), message: e.message } };
  }
}
