import { UsageLedger } from '../../../src/core/ledger.js';
import { type ThreadInfo, type UsageIncrement } from '../../../src/core/ledgerTypes.js';
import { type Pricer } from '../../../src/core/reports.js';
import { totalTokens, type TokenBuckets } from '../../../src/core/usage.js';

// Random ledgers for the tests of what is summed from them (liveCells, meterCache): November 2026,
// threads with and without session metadata, priced, unpriced and estimated increments.

/** Prices m-a and m-b at odd rates (so sums in another order would differ in their last bits), and counts its calls. */
export class CountingPricer implements Pricer {
  calls = 0;
  price(model: string | undefined, buckets: TokenBuckets) {
    this.calls += 1;
    const rate = model === 'm-a' ? 0.0000031 : model === 'm-b' ? 0.0000173 : undefined;
    return rate === undefined ? { usd: undefined, known: false } : { usd: totalTokens(buckets) * rate, known: true };
  }
}

/** A small deterministic generator (mulberry32), so a failing sequence can be run again. */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const fileOf = (thread: number): string => `/h/sessions/2026/11/0${1 + (thread % 9)}/rollout-T${thread}.jsonl`;
export const info = (thread: number, agent: string, cwd: string): ThreadInfo => ({
  threadId: `T${thread}`, file: fileOf(thread), cwd, agent: { id: `originator:${agent}`, name: agent, kind: 'top-level' },
});

export function increment(rand: () => number, n: number, thread: number): UsageIncrement {
  const day = 1 + Math.floor(rand() * 28);
  const out = Math.floor(rand() * 900);
  return {
    key: `k${n}`,
    threadId: `T${thread}`,
    timestamp: `2026-11-${String(day).padStart(2, '0')}T${String(Math.floor(rand() * 24)).padStart(2, '0')}:30:00.000Z`,
    ...(rand() < 0.8 ? { model: rand() < 0.5 ? 'm-a' : rand() < 0.7 ? 'm-b' : 'mystery' } : {}),
    ...(rand() < 0.3 ? { cwd: `/p/${Math.floor(rand() * 3)}` } : {}),
    source: rand() < 0.1 ? 'estimate' : 'snapshot',
    buckets: { uncachedInput: Math.floor(rand() * 5000), cachedInput: Math.floor(rand() * 3000), cacheWriteInput: 0, output: out, reasoningOutput: Math.floor(out / 3) },
  };
}

/** `increments` random increments over threads T0…T(withMeta), all but the last with session metadata (agents codex and exec). */
export function randomLedger(seed: number, withMeta: number, increments: number): UsageLedger {
  const rand = random(seed);
  const ledger = new UsageLedger();
  for (let t = 0; t < withMeta; t += 1) ledger.setThread(info(t, t % 2 ? 'exec' : 'codex', `/p/${t}`));
  for (let n = 0; n < increments; n += 1) {
    const thread = Math.floor(rand() * (withMeta + 1));
    ledger.add(fileOf(thread), increment(rand, n, thread));
  }
  return ledger;
}
