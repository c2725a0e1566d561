import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Worker, type WorkerOptions } from 'node:worker_threads';
import { type WorkerConfig, type WorkerMessage } from '../../../src/extension/workerProtocol.js';

const repo = resolve(__dirname, '..', '..', '..');
/** The scan worker as the extension ships it. */
export const WORKER_BUNDLE = join(repo, 'dist', 'scanWorker.js');

/** Builds the bundles when the worker's are missing (a test run before `npm run build`). */
export function ensureWorkerBundle(): void {
  if (!existsSync(WORKER_BUNDLE) || !existsSync(join(repo, 'dist', 'scanReader.js'))) execFileSync(process.execPath, [join(repo, 'esbuild.mjs')], { cwd: repo });
}

/**
 * The shipped scan worker started as the host starts it, with every message it posts kept in order
 * (`messages`), and `request` to ask it what the host asks. `onMessage` sees each message as it comes.
 */
export class ShippedWorker {
  readonly worker: Worker;
  readonly messages: WorkerMessage[] = [];
  readonly errors: Error[] = [];
  private nextId = 1;

  constructor(config: WorkerConfig, options: Omit<WorkerOptions, 'workerData'> = {}, onMessage?: (message: WorkerMessage, worker: ShippedWorker) => void) {
    this.worker = new Worker(WORKER_BUNDLE, { ...options, workerData: config });
    this.worker.on('message', (m: WorkerMessage) => {
      this.messages.push(m);
      onMessage?.(m, this);
    });
    this.worker.on('error', (e) => this.errors.push(e));
  }

  /** Sends a request and resolves with its reply's value. */
  request(body: Record<string, unknown>): Promise<unknown> {
    const id = this.nextId++;
    return new Promise<unknown>((resolveReply, reject) => {
      const onMessage = (m: WorkerMessage): void => {
        if (m.type !== 'reply' || m.id !== id) return;
        this.worker.off('message', onMessage);
        if (m.ok) resolveReply(m.value);
        else reject(new Error(m.error));
      };
      this.worker.on('message', onMessage);
      this.worker.postMessage({ ...body, id });
    });
  }

  /** The worker's log lines so far, one per line. */
  logs(): string {
    return this.messages.filter((m) => m.type === 'log').map((m) => (m as { message: string }).message).join('\n');
  }

  /** Where in `messages` the first message of `type` is (-1: none yet). */
  indexOf(type: WorkerMessage['type']): number {
    return this.messages.findIndex((m) => m.type === type);
  }

  terminate(): Promise<number> {
    return this.worker.terminate();
  }
}
