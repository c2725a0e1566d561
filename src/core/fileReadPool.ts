import { statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { isMainThread, type ResourceLimits, Worker, workerData } from 'node:worker_threads';
import { type FileReadOutcome } from './fileRead.js';
import { SCAN_THREAD_RESOURCE_LIMITS } from './threadResources.js';

/** Files never read before that make starting reader threads worth it. */
const DEFAULT_POOL_THRESHOLD = 32;
/**
 * Bytes of files never read before that make starting reader threads worth it: a thread costs a
 * tenth of a second to start (its bundle, its token table), which a cold scan of 0.25 GB does not
 * win back on two cores (0.65 s against 0.59 s without) and one of 1 GB does (1.28 s against 1.44 s).
 */
const DEFAULT_POOL_THRESHOLD_BYTES = 512 << 20;

/**
 * Whether reading `paths`, never read before, is worth starting reader threads for: at least `files`
 * of them (default 32) adding up to at least `bytes` (default 512 MiB; 0: the count alone decides).
 */
export function worthReaderThreads(paths: readonly string[], files = DEFAULT_POOL_THRESHOLD, bytes = DEFAULT_POOL_THRESHOLD_BYTES): boolean {
  return paths.length >= files && bytesAtLeast(paths, bytes);
}

/** Whether the files add up to at least `bytes` (a file that cannot be stat'ed counts 0). */
function bytesAtLeast(paths: readonly string[], bytes: number): boolean {
  let sum = 0;
  for (const path of paths) {
    if (sum >= bytes) return true;
    try {
      sum += statSync(path).size;
    } catch {
      // gone or unreadable: its read will say so
    }
  }
  return sum >= bytes;
}

/** `workerData.role` of a thread started to read files for a pool. */
export const FILE_READER_ROLE = 'codex-meter-file-reader';

/** Whether this thread is one a pool started to read files (its `workerData.role`): a reader script serves reads only then. */
export function isFileReaderThread(): boolean {
  return !isMainThread && (workerData as { role?: string } | undefined)?.role === FILE_READER_ROLE;
}

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

/** What a pool sends a reader thread, and what the thread sends back (fileReadServer.ts). */
export type ToReader = { type: 'read'; path: string };
export type FromReader = { type: 'read'; read: PooledRead };

/**
 * Reader threads started from a script that calls `serveFileReads` (fileReadServer.ts) when its
 * `workerData.role` is FILE_READER_ROLE (isFileReaderThread; the CLI's cliReader.js and the
 * extension's scanReader.js are such scripts). The threads start when the pool is made, so a caller that knows early that it will
 * need them (the CLI, before it loads its scanner) has them ready by the time the files are listed.
 * Each thread keeps DEFAULT_FILES_IN_FLIGHT files queued, so it never waits for this thread between
 * files. `resourceLimits` are given to each thread (see threadResources.ts).
 */
export class ThreadFileReadPool implements FileReadPool {
  private readonly readers: ReaderThread[];

  constructor(private readonly options: { script: string; threads: number; filesInFlight?: number; resourceLimits?: ResourceLimits }) {
    this.readers = Array.from({ length: options.threads }, () => new ReaderThread(options.script, options.resourceLimits));
  }

  async readAll(next: () => string | undefined, onRead: (read: PooledRead) => void): Promise<void> {
    const inFlight = this.options.filesInFlight ?? DEFAULT_FILES_IN_FLIGHT;
    await Promise.all(this.readers.map((reader) => reader.readAll(inFlight, next, onRead)));
  }

  /** How many of its threads have stopped (crashed or exited) so far. */
  get stoppedThreads(): number {
    return this.readers.filter((r) => r.hasStopped).length;
  }

  async close(): Promise<void> {
    const readers = this.readers.splice(0);
    await Promise.all(readers.map((r) => r.worker.terminate()));
  }
}

/** One reader thread of a pool: started at once, listened to from the start (a thread that fails before its first file must not go unheard). */
class ReaderThread {
  readonly worker: Worker;
  /** Why the thread stopped, once it has. */
  private stopped: string | undefined;
  private onMessage: ((message: FromReader) => void) | undefined;
  private onStop: (() => void) | undefined;

  constructor(script: string, resourceLimits: ResourceLimits | undefined) {
    this.worker = new Worker(script, { workerData: { role: FILE_READER_ROLE }, ...(resourceLimits ? { resourceLimits } : {}) });
    const stop = (err?: Error | number): void => {
      if (this.stopped !== undefined) return;
      this.stopped = err instanceof Error ? err.message : `it exited with code ${err ?? 0}`;
      this.onStop?.();
    };
    this.worker.on('error', stop);
    this.worker.on('exit', stop);
    this.worker.on('message', (message: FromReader) => this.onMessage?.(message));
  }

  get hasStopped(): boolean {
    return this.stopped !== undefined;
  }

  /**
   * Hands the thread paths from `next`, up to `inFlight` at a time, until `next` runs out; every
   * path ends in `onRead`, with `threadFailed` when the thread stopped first (a thread that stopped
   * before this call takes one path, to say so).
   */
  readAll(inFlight: number, next: () => string | undefined, onRead: (read: PooledRead) => void): Promise<void> {
    return new Promise<void>((resolve) => {
      const outstanding = new Set<string>();
      let finished = false;
      const failOutstanding = (): void => {
        if (finished) return;
        finished = true;
        for (const path of outstanding) onRead({ path, threadFailed: true, error: { message: `a reader thread stopped: ${this.stopped}` } });
        outstanding.clear();
        resolve();
      };
      const send = (): void => {
        while (outstanding.size < inFlight) {
          const path = next();
          if (path === undefined) break;
          outstanding.add(path);
          if (this.stopped !== undefined) break;
          this.worker.postMessage({ type: 'read', path } satisfies ToReader);
        }
        if (this.stopped !== undefined) failOutstanding();
        else if (outstanding.size === 0) {
          finished = true;
          resolve();
        }
      };
      this.onMessage = (message) => {
        if (finished || message.type !== 'read' || !outstanding.delete(message.read.path)) return;
        onRead(message.read);
        send();
      };
      this.onStop = failOutstanding;
      send();
    });
  }
}
