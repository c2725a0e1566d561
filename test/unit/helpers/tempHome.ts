import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { MemoryLogger } from '../../../src/core/logger.js';
import { type UsageScanner, UsageScanner as Scanner } from '../../../src/core/scanner.js';
import { type PersistedScanState } from '../../../src/core/scanState.js';
import { emptyBuckets, type TokenBuckets, addBuckets, totalTokens } from '../../../src/core/usage.js';

/** A throw-away Codex home. */
export class TempHome {
  private constructor(readonly root: string) {}

  static async create(): Promise<TempHome> {
    return new TempHome(await mkdtemp(join(tmpdir(), 'codex-meter-test-')));
  }

  path(relative: string): string {
    return join(this.root, relative);
  }

  /** Writes `sessions/2026/11/20/rollout-…-<name>.jsonl` (or any relative path containing a slash). */
  async write(relative: string, text: string | Buffer): Promise<string> {
    const full = this.path(relative.includes('/') ? relative : `sessions/2026/11/20/rollout-2026-11-20T10-00-00-${relative}.jsonl`);
    await mkdir(dirname(full), { recursive: true });
    await writeFile(full, text);
    return full;
  }

  scanner(state?: PersistedScanState, logger = new MemoryLogger()): UsageScanner {
    return new Scanner({ roots: [this.root], logger, countTokens: (t) => t.split(/\s+/).filter(Boolean).length }, state);
  }

  async dispose(): Promise<void> {
    await rm(this.root, { recursive: true, force: true });
  }
}

export interface ThreadFigures extends TokenBuckets {
  total: number;
  responses: number;
  estimated: boolean;
}

/** Per-thread sums of the scanner's ledger. */
export function figures(scanner: UsageScanner): Record<string, ThreadFigures> {
  const out: Record<string, ThreadFigures> = {};
  for (const inc of scanner.ledger.allIncrements()) {
    const row = (out[inc.threadId] ??= { ...emptyBuckets(), total: 0, responses: 0, estimated: false });
    addBuckets(row, inc.buckets);
    row.total += totalTokens(inc.buckets);
    row.responses += 1;
    if (inc.source === 'estimate') row.estimated = true;
  }
  return out;
}

/** Buckets from Codex-convention figures [input, cached, output, reasoning]. */
export function expectBuckets([input, cached, output, reasoning]: [number, number, number, number]): TokenBuckets & { total: number } {
  return { uncachedInput: input - cached, cachedInput: cached, cacheWriteInput: 0, output, reasoningOutput: reasoning, total: input + output };
}

export function sumUsage(...usages: [number, number, number, number][]): [number, number, number, number] {
  return usages.reduce<[number, number, number, number]>((a, u) => [a[0] + u[0], a[1] + u[1], a[2] + u[2], a[3] + u[3]], [0, 0, 0, 0]);
}
