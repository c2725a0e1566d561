import { type WorkerOptions } from 'node:worker_threads';
import { type BudgetPeriod } from '../core/budget/index.js';
import { type PanelBudget } from '../core/panelModel.js';
import { type MeterCache } from '../core/meterCache.js';
import { SCAN_THREAD_RESOURCE_LIMITS } from '../core/threadResources.js';
import { type PanelFilter } from '../shared/protocol.js';

/** Given to the scan worker when it starts. */
export interface WorkerConfig {
  roots: string[];
  statePath: string;
  priceOverrides: Record<string, unknown>;
  timeZone: string;
  /** When the host started the worker (Date.now()), for the worker's log of how long its first figures took. */
  startedAt?: number;
}

/** How the host starts the scan worker: with its configuration and the heap limits of threadResources.ts. */
export function scanWorkerOptions(config: WorkerConfig): WorkerOptions {
  return { workerData: config, resourceLimits: { ...SCAN_THREAD_RESOURCE_LIMITS } };
}

export type WorkerRequest =
  | { id: number; type: 'meter'; period: BudgetPeriod; resetAt?: string }
  | { id: number; type: 'panel'; filter: PanelFilter; budget?: PanelBudget & { resetAt?: string }; threadLimit?: number }
  | { id: number; type: 'rescan' }
  | { id: number; type: 'configure'; priceOverrides: Record<string, unknown>; extraRoots: string[]; timeZone: string }
  | { id: number; type: 'flush' };

export type WorkerMessage =
  | { type: 'reply'; id: number; ok: true; value: unknown }
  | { type: 'reply'; id: number; ok: false; error: string }
  | { type: 'log'; level: 'trace' | 'debug' | 'info' | 'warn' | 'error'; message: string }
  | { type: 'progress'; done: number; total: number }
  | { type: 'scanned'; files: number; bytesRead: number; newIncrements: number; millis: number; initial: boolean }
  /**
   * On a start: nothing changed since the last session, so its meter cache (checked against every
   * rollout, in `millis`) holds the figures the first scan will give; the host shows them meanwhile.
   */
  | { type: 'lastSession'; files: number; millis: number; meter: MeterCache }
  /** On a start: the meter cache is not current (why); the host's figures from it are out of date until the first scan ends. */
  | { type: 'lastSessionStale'; reason: string }
  | { type: 'changed'; newIncrements: number; bytesRead: number };

