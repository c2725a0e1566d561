import { appendFile } from 'node:fs/promises';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildReport } from '../../src/core/reports.js';
import { addBuckets, BUCKET_KEYS, emptyBuckets, type TokenBuckets, totalTokens } from '../../src/core/usage.js';
import { compacted, compactionTokenCount, file, overflowTokenCount, resetClock, sessionMeta, tokenCount, turnContext, usageRecord, type Usage4 } from './helpers/rolloutBuilder.js';
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

// ---------------------------------------------------------------------------------------------
// A richer model: snapshot files (repeats, restarts, compaction snapshots with last = 0,0,0,0,N,
// context overflows) and 0.169 record files (records plus cross-check snapshots, remote
// compaction only in records), read in random appended chunks with the state round-tripped
// through JSON between some reads. Expected buckets come from the model, not from the code.

type RichStep =
  | { kind: 'response'; usage: Usage4 }
  | { kind: 'repeat' }
  | { kind: 'compaction'; lastTotalTokens: number }
  | { kind: 'restart'; usage: Usage4 }
  /** A restart whose new total exceeds the old one in every bucket (subtracting totals undercounts it). */
  | { kind: 'largerRestart'; usage: Usage4 }
  | { kind: 'overflow' }
  | { kind: 'remoteCompaction'; usage: Usage4 };

const richStep: fc.Arbitrary<RichStep> = fc.oneof(
  { weight: 6, arbitrary: usage.map((u) => ({ kind: 'response' as const, usage: u })) },
  { weight: 2, arbitrary: fc.constant({ kind: 'repeat' as const }) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 9000 }).map((n) => ({ kind: 'compaction' as const, lastTotalTokens: n })) },
  { weight: 1, arbitrary: usage.map((u) => ({ kind: 'restart' as const, usage: u })) },
  { weight: 1, arbitrary: usage.map((u) => ({ kind: 'largerRestart' as const, usage: u })) },
  { weight: 1, arbitrary: fc.constant({ kind: 'overflow' as const }) },
  { weight: 1, arbitrary: usage.map((u) => ({ kind: 'remoteCompaction' as const, usage: u })) },
);

const add4 = (x: Usage4, y: Usage4): Usage4 => [x[0] + y[0], x[1] + y[1], x[2] + y[2], x[3] + y[3]];
const same4 = (x: Usage4, y: Usage4) => x.every((v, i) => v === y[i]);

/** Renders a thread; `records` = 0.169 (token_usage_record lines), else snapshots only (0.44–0.130). */
function renderRich(id: string, steps: RichStep[], records: boolean): { text: string; expected: TokenBuckets; responses: number } {
  resetClock();
  const lines = [sessionMeta(id), turnContext('gpt-5.1-codex')];
  const expected = emptyBuckets();
  let responses = 0;
  let total: Usage4 | undefined;
  let lastLine: string | undefined;
  let inflation = 0;
  let n = 0;
  const count = (u: Usage4) => {
    addBuckets(expected, { uncachedInput: u[0] - u[1], cachedInput: u[1], cacheWriteInput: 0, output: u[2], reasoningOutput: u[3] });
    responses += 1;
  };
  for (const s of steps) {
    if (s.kind === 'largerRestart' && !records && total) {
      // resume restarts the totals; the first response after it is bigger than all history
      const next = add4(total, s.usage);
      lastLine = tokenCount(next, next);
      lines.push(turnContext('gpt-5.1-codex'), lastLine);
      total = next;
      inflation = 0;
      count(next);
    } else if (s.kind === 'response' || (s.kind === 'restart' && !records)) {
      const base: Usage4 = s.kind === 'restart' || !total ? [0, 0, 0, 0] : total;
      const next = add4(base, s.usage);
      if (total && same4(next, total)) continue; // indistinguishable from a repeat
      if (records) lines.push(usageRecord(id, `resp_${n++}`, s.usage));
      if (s.kind === 'restart') inflation = 0;
      lastLine = tokenCount(next, s.usage, { totalTokens: inflation + next[0] + next[2] });
      lines.push(lastLine);
      total = next;
      count(s.usage);
    } else if (s.kind === 'repeat' && lastLine) {
      lines.push(lastLine);
    } else if (s.kind === 'compaction' && total) {
      lines.push(compacted(), compactionTokenCount(total, s.lastTotalTokens));
    } else if (s.kind === 'overflow' && !records) {
      lines.push(overflowTokenCount(258400));
      lastLine = undefined;
      total = [0, 0, 0, 0];
      inflation = 258400;
    } else if (s.kind === 'remoteCompaction' && records) {
      lines.push(usageRecord(id, `resp_${n++}`, s.usage), compacted());
      if (total) lines.push(compactionTokenCount(total, 0));
      count(s.usage);
    }
  }
  return { text: file(...lines), expected, responses };
}

function bucketsOf(scanner: ReturnType<TempHome['scanner']>, id: string): TokenBuckets {
  const f = figures(scanner)[id];
  return f ? { uncachedInput: f.uncachedInput, cachedInput: f.cachedInput, cacheWriteInput: f.cacheWriteInput, output: f.output, reasoningOutput: f.reasoningOutput } : emptyBuckets();
}

describe('ledger invariants with every trap (property-based)', () => {
  let home: TempHome;
  beforeAll(async () => { home = await TempHome.create(); });
  afterAll(async () => home.dispose());
  let n = 0;

  it('chunked reads with persisted state = whole read = the model; re-reads change nothing; buckets never negative; totals = sum of buckets', async () => {
    await fc.assert(fc.asyncProperty(
      fc.boolean(),
      fc.array(richStep, { minLength: 1, maxLength: 20 }),
      fc.array(fc.tuple(fc.integer({ min: 1, max: 700 }), fc.boolean()), { minLength: 1, maxLength: 30 }),
      async (records, steps, chunks) => {
        const id = `r${n++}`;
        const { text, expected, responses } = renderRich(id, steps, records);

        const wholePath = await home.write(`rich-whole-${id}`, text);
        const whole = home.scanner();
        await whole.refreshFile(wholePath);
        expect(bucketsOf(whole, id)).toEqual(expected);
        expect(figures(whole)[id]?.responses ?? 0).toBe(responses);

        // (a) random-sized appends, refresh after each, state through JSON after some of them
        const path = await home.write(`rich-chunks-${id}`, '');
        let scanner = home.scanner();
        let offset = 0;
        let i = 0;
        while (offset < text.length) {
          const [size, persist] = chunks[i++ % chunks.length]!;
          await appendFile(path, text.slice(offset, offset + size));
          offset += size;
          await scanner.refreshFile(path);
          if (persist) scanner = home.scanner(JSON.parse(JSON.stringify(scanner.toState())));
        }
        expect(bucketsOf(scanner, id)).toEqual(expected);
        expect(scanner.counters()).toEqual(whole.counters());
        expect([...scanner.ledger.allIncrements()].map((x) => x.key).sort()).toEqual([...whole.ledger.allIncrements()].map((x) => x.key).sort());

        // (b) reading again, in this scanner and in one built from its state, changes nothing
        const before = { f: figures(scanner), c: scanner.counters() };
        expect((await scanner.refreshFile(path)).bytesRead).toBe(0);
        const again = home.scanner(JSON.parse(JSON.stringify(scanner.toState())));
        expect((await again.refreshFile(path)).bytesRead).toBe(0);
        expect({ f: figures(scanner), c: scanner.counters() }).toEqual(before);
        expect({ f: figures(again), c: again.counters() }).toEqual(before);

        // (c) and (d)
        const report = buildReport(scanner.ledger, { timeZone: 'UTC', pricer: { price: () => ({ usd: undefined, known: false }) } });
        for (const k of BUCKET_KEYS) expect(report.totals.buckets[k]).toBeGreaterThanOrEqual(0);
        for (const inc of scanner.ledger.allIncrements()) {
          for (const k of BUCKET_KEYS) expect(inc.buckets[k]).toBeGreaterThanOrEqual(0);
          expect(inc.buckets.reasoningOutput).toBeLessThanOrEqual(inc.buckets.output);
        }
        const t = report.totals.buckets;
        expect(report.totals.totalTokens).toBe(t.uncachedInput + t.cachedInput + t.cacheWriteInput + t.output);
        expect(report.totals.totalTokens).toBe(expected.uncachedInput + expected.cachedInput + expected.output);
      },
    ), { numRuns: 60 });
  }, 120_000);
});
