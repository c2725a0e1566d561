import { Worker } from 'node:worker_threads';
import * as vscode from 'vscode';
import { type BudgetPeriod } from '../core/budget/index.js';
import { type Logger } from '../core/logger.js';
import { type MeterCache, type MeterSummary } from '../core/meterCache.js';
import { type PanelBudget } from '../core/panelModel.js';
import { type PanelFilter, type PanelSnapshot } from '../shared/protocol.js';
import { type PanelDataSource } from './tokenPanel.js';
import { scanWorkerOptions, type WorkerConfig, type WorkerMessage, type WorkerRequest } from './workerProtocol.js';

type RequestBody = WorkerRequest extends infer R ? (R extends { id: number } ? Omit<R, 'id'> : never) : never;

/**
 * The host's side of the scan worker: starts it, relays its log lines, turns its notifications into
 * events, and sends it requests that resolve with small summaries.
 */
export class UsageClient implements PanelDataSource, vscode.Disposable {
  private readonly worker: Worker;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (value: unknown) => void; reject: (err: Error) => void }>();
  private readonly changed = new vscode.EventEmitter<void>();
  private readonly progress = new vscode.EventEmitter<{ done: number; total: number }>();
  private readonly scanned = new vscode.EventEmitter<{ files: number; bytesRead: number; millis: number; initial: boolean }>();
  readonly onDidChange = this.changed.event;
  readonly onProgress = this.progress.event;
  readonly onScanned = this.scanned.event;
  private readonly lastSession = new vscode.EventEmitter<{ files: number; millis: number; meter: MeterCache }>();
  /** On a start with nothing new since the last session: its meter cache, checked, for the meter until the first scan ends. */
  readonly onLastSession = this.lastSession.event;
  private readonly lastSessionStale = new vscode.EventEmitter<{ reason: string }>();
  /** On a start: the last session's figures are out of date (something changed since); the first scan will tell. */
  readonly onLastSessionStale = this.lastSessionStale.event;
  private budget: (PanelBudget & { resetAt?: string }) | undefined;
  private disposed = false;

  constructor(workerPath: string, config: WorkerConfig, private readonly logger: Logger) {
    this.worker = new Worker(workerPath, scanWorkerOptions({ ...config, startedAt: Date.now() }));
    this.worker.on('message', (message: WorkerMessage) => this.onMessage(message));
    this.worker.on('error', (err) => this.logger.error(`The scan worker failed: ${err.stack ?? err.message}`));
    this.worker.on('exit', (code) => {
      if (!this.disposed) this.logger.error(`The scan worker stopped (exit code ${code}); run "Codex Token Meter: Rescan Codex Logs" or reload the window.`);
      for (const p of this.pending.values()) p.reject(new Error('the scan worker stopped'));
      this.pending.clear();
    });
  }

  /** The budget the panel shows (set by the budget controller). */
  setBudget(budget: (PanelBudget & { resetAt?: string }) | undefined): void {
    this.budget = budget;
  }

  meter(period: BudgetPeriod, resetAt: Date | undefined): Promise<MeterSummary | undefined> {
    return this.request({ type: 'meter', period, resetAt: resetAt?.toISOString() }) as Promise<MeterSummary | undefined>;
  }

  async snapshot(filter: PanelFilter, threadLimit?: number): Promise<PanelSnapshot> {
    const snapshot = (await this.request({ type: 'panel', filter, budget: this.budget, ...(threadLimit === undefined ? {} : { threadLimit }) })) as PanelSnapshot | undefined;
    if (!snapshot) throw new Error('the first scan has not finished yet');
    return snapshot;
  }

  rescan(): Promise<unknown> {
    return this.request({ type: 'rescan' });
  }

  configure(priceOverrides: Record<string, unknown>, extraRoots: string[], timeZone: string): Promise<unknown> {
    return this.request({ type: 'configure', priceOverrides, extraRoots, timeZone });
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    try {
      await Promise.race([this.request({ type: 'flush' }), new Promise((r) => setTimeout(r, 2000))]);
    } catch {
      /* the worker is gone already */
    }
    this.disposed = true;
    await this.worker.terminate();
    this.changed.dispose();
    this.progress.dispose();
    this.scanned.dispose();
    this.lastSession.dispose();
    this.lastSessionStale.dispose();
  }

  private request(body: RequestBody): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ ...body, id } as WorkerRequest);
    });
  }

  private onMessage(message: WorkerMessage): void {
    switch (message.type) {
      case 'reply': {
        const p = this.pending.get(message.id);
        this.pending.delete(message.id);
        if (!p) return;
        if (message.ok) p.resolve(message.value);
        else p.reject(new Error(message.error));
        return;
      }
      case 'log':
        this.logger[message.level](message.message);
        return;
      case 'progress':
        this.progress.fire({ done: message.done, total: message.total });
        return;
      case 'scanned':
        this.scanned.fire(message);
        this.changed.fire();
        return;
      case 'lastSession':
        this.lastSession.fire(message);
        return;
      case 'lastSessionStale':
        this.lastSessionStale.fire(message);
        return;
      case 'changed':
        this.changed.fire();
        return;
    }
  }
}
