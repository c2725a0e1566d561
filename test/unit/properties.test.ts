import { appendFile } from 'node:fs/promises';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUCKET_KEYS, totalTokens } from '../../src/core/usage.js';
import { compacted, file, resetClock, sessionMeta, tokenCount, turnContext, type Usage4 } from './helpers/rolloutBuilder.js';
import { figures, TempHome } from './helpers/tempHome.js';

/** An event of a generated thread: a new response, a repeat of the last snapshot, a compaction, or a restart. */
type Step = { kind: 'response'; usage: Usage4 } | { kind: 'repeat' } | { kind: 'compaction' } | { kind: 'restart'; usage: Usage4 };

const usage = fc.tuple(fc.integer({ min: 1, max: 20000 }), fc.integer({ min: 0, max: 100 }), fc.integer({ min: 0, max: 3000 }), fc.integer({ min: 0, max: 100 }))
  .map(([input, cachedPct, output, reasoningPct]): Usage4 => [input, Math.floor((input * cachedPct) / 100), output, Math.floor((output * reasoningPct) / 100)]);
const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 5, arbitrary: usage.map((u) => ({ kind: 'response' as const, usage: u })) },
  { weight: 2, arbitrary: fc.constant({ kind: 'repeat' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'compaction' as const }) },
  { weight: 1, arbitrary: usage.map((u) => ({ kind: 'restart' as const, usage: u })) },
);

/** Renders steps as rollout lines and returns the usage a correct ledger must count. */
function render(id: string, steps: Step[]): { text: string; expected: number } {
  resetClock();
  const lines = [sessionMeta(id), turnContext('gpt-5.1-codex')];
  let total: Usage4 | undefined;
  let expected = 0;
  for (const s of steps) {
    if (s.kind === 'response' || s.kind === 'restart') {
      const base: Usage4 = s.kind === 'restart' || !total ? [0, 0, 0, 0] : total;
      const next: Usage4 = [base[0] + s.usage[0], base[1] + s.usage[1], base[2] + s.usage[2], base[3] + s.usage[3]];
      // A restart whose new total equals the previous one is indistinguishable from a repeat: skip it.
      if (total && next.every((v, i) => v === total![i])) continue;
      lines.push(tokenCount(next, s.usage));
      total = next;
      expected += s.usage[0] + s.usage[2];
    } else if (s.kind === 'repeat' && total) {
      lines.push(tokenCount(total, total));
    } else if (s.kind === 'compaction' && total) {
      lines.push(compacted(), tokenCount(total, [0, 0, 0, 0]));
    }
  }
  return { text: file(...lines), expected };
}

describe('ledger invariants (property-based)', () => {
  let home: TempHome;
  beforeAll(async () => { home = await TempHome.create(); });
  afterAll(async () => home.dispose());
  let n = 0;

  it('reading in random chunks, with state round-tripped through JSON, equals reading whole; re-reading changes nothing', async () => {
    await fc.assert(fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 25 }), fc.array(fc.integer({ min: 1, max: 400 }), { minLength: 1, maxLength: 40 }), fc.boolean(), async (steps, cuts, roundTrip) => {
      const id = `p${n++}`;
      const { text, expected } = render(id, steps);
      const wholePath = await home.write(`whole-${id}`, text);
      const whole = home.scanner();
      await whole.refreshFile(wholePath);
      const wholeFigures = figures(whole)[id];
      expect(wholeFigures?.total ?? 0).toBe(expected);

      const path = await home.write(`chunks-${id}`, '');
      let scanner = home.scanner();
      let offset = 0;
      let i = 0;
      while (offset < text.length) {
        const size = cuts[i++ % cuts.length]!;
        await appendFile(path, text.slice(offset, offset + size));
        offset += size;
        await scanner.refreshFile(path);
        if (roundTrip && i % 3 === 0) scanner = home.scanner(JSON.parse(JSON.stringify(scanner.toState())));
      }
      const chunked = figures(scanner)[id];
      expect(chunked?.total ?? 0).toBe(expected);
      for (const k of BUCKET_KEYS) expect(chunked?.[k] ?? 0).toBe(wholeFigures?.[k] ?? 0);
      await scanner.refreshFile(path);
      await scanner.scanAll();
      expect(figures(scanner)[id]?.total ?? 0).toBe(expected);
      for (const inc of scanner.ledger.allIncrements()) {
        for (const k of BUCKET_KEYS) expect(inc.buckets[k]).toBeGreaterThanOrEqual(0);
        expect(inc.buckets.reasoningOutput).toBeLessThanOrEqual(inc.buckets.output);
        expect(totalTokens(inc.buckets)).toBe(inc.buckets.uncachedInput + inc.buckets.cachedInput + inc.buckets.cacheWriteInput + inc.buckets.output);
      }
    }), { numRuns: 60 });
  }, 120_000);
});

describe('fuzzing the reader and schemas with mutated rollouts', () => {
  let home: TempHome;
  beforeAll(async () => { home = await TempHome.create(); });
  afterAll(async () => home.dispose());
  let n = 0;

  const mutation = fc.oneof(
    fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
    fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 40 }) }),
    fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), text: fc.string({ maxLength: 30 }) }),
    fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  );

  it('never crashes, never goes negative, and reports bad lines with line numbers', async () => {
    await fc.assert(fc.asyncProperty(fc.array(step, { minLength: 2, maxLength: 12 }), fc.array(mutation, { minLength: 1, maxLength: 8 }), async (steps, mutations) => {
      const id = `f${n++}`;
      let bytes = Buffer.from(render(id, steps).text);
      for (const m of mutations) {
        const at = bytes.length === 0 ? 0 : m.at % bytes.length;
        if (m.kind === 'flip') bytes[at] = m.byte;
        else if (m.kind === 'delete') bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + m.length)]);
        else if (m.kind === 'insert') bytes = Buffer.concat([bytes.subarray(0, at), Buffer.from(m.text), bytes.subarray(at)]);
        else bytes = bytes.subarray(0, at);
      }
      const path = await home.write(`fuzz-${id}`, bytes);
      const scanner = home.scanner();
      await scanner.refreshFile(path);
      for (const inc of scanner.ledger.allIncrements()) {
        for (const k of BUCKET_KEYS) expect(inc.buckets[k]).toBeGreaterThanOrEqual(0);
      }
      for (const p of scanner.problems()) {
        expect(p.line).toBeGreaterThan(0);
        expect(p.reason.length).toBeGreaterThan(0);
      }
    }), { numRuns: 150 });
  }, 120_000);
});
