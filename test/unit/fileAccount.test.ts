import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemoryLogger } from '../../src/core/logger.js';
import { FileAccount, type FileAccountState, type LineOutcome, newFileAccountState, type TokenCounter } from '../../src/core/fileAccount.js';
import { PREFIX_BYTES, type ReadLine } from '../../src/core/lineReader.js';
import { sumBuckets, totalTokens } from '../../src/core/usage.js';
import {
  assistantMessage, compacted, compactionTokenCount, envelope, eventMsg, file, hugeContentLine, legacyFunctionCall, legacyFunctionOutput, legacyHeader, legacyMessage,
  legacyReasoning, legacyState, overflowTokenCount, rateLimitsResetsAt, rateLimitsResetsIn, rawUsage, resetClock, sessionMeta, threadSettingsApplied, threadSpawnSource,
  tokenCount, tokenCountRaw, turnContext, usageRecord, usageRecordWithModel, userMessage, withOrdinals, type Usage4,
} from './helpers/rolloutBuilder.js';
import { expectBuckets, figures, sumUsage, TempHome } from './helpers/tempHome.js';

let home: TempHome;
beforeEach(async () => {
  home = await TempHome.create();
  resetClock();
});
afterEach(async () => home.dispose());

function strip(f: ReturnType<typeof figures>[string] | undefined) {
  if (!f) return undefined;
  const { responses: _r, estimated: _e, ...rest } = f;
  return rest;
}

describe('snapshot accounting (token_count)', () => {
  it('counts each changed snapshot once and ignores repeated ones', async () => {
    const a: Usage4 = [5000, 1000, 300, 100];
    const b: Usage4 = [6000, 4000, 200, 50];
    await home.write('t1', file(
      sessionMeta('t1'), turnContext('gpt-5.1-codex'), userMessage('hi'),
      tokenCount(null), tokenCount(a, a), tokenCount(a, a), tokenCount(sumUsage(a, b), b), tokenCount(sumUsage(a, b), b), tokenCount(sumUsage(a, b), b),
    ));
    const scanner = home.scanner();
    await scanner.scanAll();
    expect(strip(figures(scanner).t1)).toEqual(expectBuckets(sumUsage(a, b)));
    expect(figures(scanner).t1!.responses).toBe(2);
    expect(scanner.counters().repeatedSnapshots).toBe(3);
  });

  it('recognises totals that restart inside a file (exec resume in 0.44) and counts both segments', async () => {
    const a: Usage4 = [2104, 0, 486, 14];
    const b: Usage4 = [4188, 2303, 779, 373];
    const c: Usage4 = [6370, 1210, 852, 485];
    const d: Usage4 = [2980, 0, 514, 149];
    await home.write('t2', file(
      sessionMeta('t2', { cli_version: '0.44.0' }), turnContext('gpt-5.1-codex-mini'), tokenCount(a, a),
      turnContext('gpt-5.1-codex'), tokenCount(b, b), // restart: total == last, smaller than before? no: larger
      tokenCount(c, c), tokenCount(c, c), tokenCount(sumUsage(c, d), d), // another restart, a repeat, then a continuation
    ));
    const scanner = home.scanner();
    await scanner.scanAll();
    expect(strip(figures(scanner).t2)).toEqual(expectBuckets(sumUsage(a, b, c, d)));
    expect(scanner.counters().totalsRestarts).toBe(2);
    const models = [...scanner.ledger.allIncrements()].map((i) => i.model);
    expect(models).toEqual(['gpt-5.1-codex-mini', 'gpt-5.1-codex', 'gpt-5.1-codex', 'gpt-5.1-codex']);
  });

  it('keeps counting when totals continue across a resume (0.80+)', async () => {
    const a: Usage4 = [1000, 0, 100, 0];
    const b: Usage4 = [2000, 500, 200, 10];
    await home.write('t3', file(sessionMeta('t3'), turnContext('m'), tokenCount(a, a), turnContext('m'), tokenCount(sumUsage(a, b), b)));
    const scanner = home.scanner();
    await scanner.scanAll();
    expect(strip(figures(scanner).t3)).toEqual(expectBuckets(sumUsage(a, b)));
  });

  it('ignores compaction snapshots whose total did not change (last = {total_tokens only})', async () => {
    const a: Usage4 = [8463, 507, 301, 72];
    const b: Usage4 = [3688, 848, 858, 8];
    await home.write('t4', file(
      sessionMeta('t4'), turnContext('m'), tokenCount(a, a), tokenCount(sumUsage(a, b), b), compacted(),
      tokenCount(sumUsage(a, b), [0, 0, 0, 0]),
    ));
    const scanner = home.scanner();
    await scanner.scanAll();
    expect(strip(figures(scanner).t4)).toEqual(expectBuckets(sumUsage(a, b)));
    expect(scanner.counters().compactions).toBe(1);
  });

  it('uses total − previous total only when last is missing', async () => {
    const a: Usage4 = [1000, 100, 50, 5];
    const b: Usage4 = [700, 300, 40, 4];
    await home.write('t5', file(sessionMeta('t5'), turnContext('m'), tokenCount(a), tokenCount(sumUsage(a, b))));
    const scanner = home.scanner();
    await scanner.scanAll();
    expect(strip(figures(scanner).t5)).toEqual(expectBuckets(sumUsage(a, b)));
  });

  it('does not count the parent twice in a fork whose first total includes the parent (forked_from_id)', async () => {
    const parent: Usage4 = [15642, 3513, 2631, 1021];
    const own: Usage4 = [8463, 507, 301, 72];
    await home.write('fork', file(sessionMeta('fork', { forked_from_id: 'parent' }), turnContext('m'), tokenCount(sumUsage(parent, own), own)));
    const scanner = home.scanner();
    await scanner.scanAll();
    expect(strip(figures(scanner).fork)).toEqual(expectBuckets(own));
    expect(scanner.ledger.thread('fork')!.parentThreadId).toBe('parent');
  });

  it('skips the parent history a fork_context sub-agent replays (0.130) and counts only its own turns', async () => {
    const p1: Usage4 = [7113, 0, 179, 85];
    const p2: Usage4 = [6031, 2050, 365, 87];
    const own: Usage4 = [6911, 0, 225, 117];
    const spawn = { subagent: { thread_spawn: { parent_thread_id: 'parent', depth: 1, agent_nickname: 'Curie', agent_role: null } } };
    await home.write('child', file(
      sessionMeta('child', { forked_from_id: 'parent', source: spawn }),
      sessionMeta('parent'),
      userMessage('first turn'), tokenCount(null), tokenCount(p1, p1), tokenCount(p1, p1), tokenCount(sumUsage(p1, p2), p2),
      turnContext('gpt-5.1-codex'), userMessage('sub-agent task'),
      tokenCount(sumUsage(p1, p2), p2), tokenCount(sumUsage(p1, p2, own), own),
    ));
    await home.write('parent', file(sessionMeta('parent'), turnContext('m'), tokenCount(p1, p1), tokenCount(sumUsage(p1, p2), p2)));
    const scanner = home.scanner();
    await scanner.scanAll();
    const f = figures(scanner);
    expect(strip(f.child)).toEqual(expectBuckets(own));
    expect(strip(f.parent)).toEqual(expectBuckets(sumUsage(p1, p2)));
    expect(scanner.counters().replayedSnapshots).toBe(3);
    const child = scanner.ledger.thread('child')!;
    expect(child.agent.name).toBe('Curie');
    expect(child.parentThreadId).toBe('parent');
  });

  it('derives totals from buckets after a context overflow rewrote total_tokens', async () => {
    const a: Usage4 = [7259, 4790, 557, 200];
    const b: Usage4 = [5774, 3637, 480, 43];
    const c: Usage4 = [6531, 3918, 64, 35];
    await home.write('ov', file(
      sessionMeta('ov'), turnContext('m'), tokenCount(a, a), tokenCount(a, a),
      overflowTokenCount(258400), overflowTokenCount(258400),
      tokenCount(b, b, { totalTokens: 264654 }), tokenCount(sumUsage(b, c), c, { totalTokens: 271249 }),
    ));
    const scanner = home.scanner();
    await scanner.scanAll();
    const f = figures(scanner).ov!;
    expect(strip(f)).toEqual(expectBuckets(sumUsage(a, b, c)));
    expect(f.total).toBe(7259 + 557 + 5774 + 480 + 6531 + 64);
  });
});

describe('usage records (token_usage_record, 0.169)', () => {
  it('prefers records, including remote compaction that the totals leave out', async () => {
    const r1: Usage4 = [9124, 0, 274, 161];
    const compaction: Usage4 = [7398, 2737, 900, 207];
    const r2: Usage4 = [10798, 3779, 704, 232];
    await home.write('rc', file(
      sessionMeta('rc', { cli_version: '0.169.0' }), turnContext('gpt-5.1-codex'),
      usageRecord('rc', 'resp_9', r1), tokenCount(r1, r1),
      usageRecord('rc', 'resp_10', compaction), compacted(), tokenCount(r1, [0, 0, 0, 0]),
      usageRecord('rc', 'resp_11', r2, 100), tokenCount(sumUsage(r1, r2), r2),
    ));
    const scanner = home.scanner();
    await scanner.scanAll();
    const f = figures(scanner).rc!;
    const want = expectBuckets(sumUsage(r1, compaction, r2));
    expect(f.cacheWriteInput).toBe(100);
    expect(f.uncachedInput).toBe(want.uncachedInput - 100);
    expect(f.cachedInput).toBe(want.cachedInput);
    expect(f.output).toBe(want.output);
    expect(f.total).toBe(want.total);
    expect(f.responses).toBe(3);
    expect(scanner.counters().usageRecords).toBe(3);
    // Two disagreements, the records kept both times: the compaction record never showed in the
    // totals, and the last record has a cache write its snapshot does not.
    expect(scanner.counters().sourceDisagreements).toBe(2);
  });

  it('counts a record seen in two files (a fork copying its parent) once, under its own thread', async () => {
    const p: Usage4 = [1000, 0, 10, 0];
    const c: Usage4 = [2000, 0, 20, 0];
    await home.write('p', file(sessionMeta('p'), turnContext('m'), usageRecord('p', 'resp_1', p)));
    await home.write('c', file(sessionMeta('c', { forked_from_id: 'p' }), sessionMeta('p'), usageRecord('p', 'resp_1', p), turnContext('m'), usageRecord('c', 'resp_2', c)));
    const scanner = home.scanner();
    await scanner.scanAll();
    const f = figures(scanner);
    expect(strip(f.p)).toEqual(expectBuckets(p));
    expect(strip(f.c)).toEqual(expectBuckets(c));
  });
});

describe('files without usage (0.8–0.20)', () => {
  it('estimates them from the text, marks them estimated, and logs once', async () => {
    await home.write('legacy', file(
      legacyHeader('legacy', 'one two three'),
      legacyMessage('user', 'four five'),
      JSON.stringify({ record_type: 'state' }),
      legacyMessage('assistant', 'six seven eight'),
      legacyMessage('user', 'nine'),
      legacyMessage('assistant', 'ten'),
    ));
    const logger = new MemoryLogger();
    const scanner = home.scanner(undefined, logger);
    await scanner.scanAll();
    const f = figures(scanner).legacy!;
    // The test tokenizer counts words. Response 1 reads 3 + 2 words and writes 3; response 2 reads
    // everything before it (3 + 2 + 3 + 1) and writes 1.
    expect(f.estimated).toBe(true);
    expect(f.uncachedInput).toBe(5 + 9);
    expect(f.output).toBe(3 + 1);
    expect(logger.messages.filter((m) => m.message.includes('estimated'))).toHaveLength(1);
    await scanner.scanAll();
    expect(logger.messages.filter((m) => m.message.includes('estimated'))).toHaveLength(1);
  });
});

describe('agents', () => {
  it('names threads by originator and sub-agents by nickname and role', async () => {
    await home.write('a', file(sessionMeta('a', { originator: 'codex_exec', source: 'exec' }), turnContext('m'), tokenCount([10, 0, 1, 0], [10, 0, 1, 0])));
    await home.write('b', file(sessionMeta('b', { originator: 'codex_vscode', source: 'vscode' }), turnContext('m'), tokenCount([10, 0, 1, 0], [10, 0, 1, 0])));
    await home.write('c', file(sessionMeta('c', { source: { subagent: { thread_spawn: { parent_thread_id: 'a', depth: 1, agent_nickname: 'Avicenna', agent_role: 'explorer' } } } })));
    await home.write('d', file(sessionMeta('d', { source: { subagent: 'review' } })));
    await home.write('e', file(sessionMeta('e', { source: { subagent: { memory_consolidation: {} } } })));
    const scanner = home.scanner();
    await scanner.scanAll();
    const name = (id: string) => scanner.ledger.thread(id)!.agent;
    expect(name('a').name).toBe('codex exec');
    expect(name('b').name).toBe('Codex IDE');
    expect(name('c')).toMatchObject({ name: 'Avicenna (explorer)', parentThreadId: 'a', kind: 'thread_spawn', id: 'subagent:Avicenna' });
    expect(name('d')).toMatchObject({ name: 'review sub-agent', kind: 'review' });
    expect(name('e')).toMatchObject({ kind: 'memory_consolidation' });
  });
});

describe('rate limits', () => {
  it('keeps the latest snapshot, with reset times from resets_in_seconds or resets_at', async () => {
    const older = { primary: { used_percent: 10, window_minutes: 300, resets_in_seconds: 3600 }, secondary: { used_percent: 3, window_minutes: 10080, resets_in_seconds: 86400 } };
    const newer = { primary: { used_percent: 42, window_minutes: 300, resets_at: 1795000000 }, secondary: null, plan_type: 'pro' };
    await home.write('rl', file(sessionMeta('rl'), tokenCount(null, undefined, { rateLimits: older }), tokenCount(null, undefined, { rateLimits: newer })));
    const scanner = home.scanner();
    await scanner.scanAll();
    const rl = scanner.ledger.latestRateLimits!;
    expect(rl.primary).toEqual({ usedPercent: 42, windowMinutes: 300, resetsAt: 1795000000 * 1000 });
    expect(rl.planType).toBe('pro');
  });
});

// ---------------------------------------------------------------------------------------------
// The account on its own, fed line by line as the reader would (no files): every trap of the
// format notes with figures computed by hand.

const words: TokenCounter = (t) => t.split(/\s+/).filter(Boolean).length;

function feed(lines: string[], state: FileAccountState = newFileAccountState(), firstLine = 1, path = '/codex/sessions/rollout-x.jsonl') {
  const account = new FileAccount(path, state, words);
  const outcomes: LineOutcome[] = [];
  let offset = 0;
  lines.forEach((text, i) => {
    const prefix = Buffer.from(text).subarray(0, PREFIX_BYTES).toString('latin1');
    const disposition = account.classify(prefix);
    const line: ReadLine = { lineNumber: firstLine + i, offset, disposition, prefix };
    if (disposition === 'parse') line.bytes = Buffer.from(text);
    outcomes.push(account.handle(line));
    offset += Buffer.byteLength(text) + 1;
  });
  const increments = outcomes.flatMap((o) => o.increments);
  return { account, state: account.snapshot, outcomes, increments, sum: sumBuckets(increments.map((i) => i.buckets)), problems: outcomes.flatMap((o) => (o.problem ? [o.problem] : [])) };
}

const B = (uncachedInput: number, cachedInput: number, output: number, reasoningOutput: number, cacheWriteInput = 0) => ({ uncachedInput, cachedInput, cacheWriteInput, output, reasoningOutput });

describe('FileAccount, line by line', () => {
  it('0.169 lines with "ordinal": records are the source, the compaction snapshot (last = 0,0,0,0,N) adds nothing', () => {
    resetClock();
    const r1: Usage4 = [5754, 4430, 492, 290];
    const r2: Usage4 = [3258, 879, 228, 11];
    const lines = withOrdinals([
      sessionMeta('t169', { cli_version: '0.169.0', originator: 'codex_exec', source: 'exec' }), turnContext('gpt-5.1-codex'), threadSettingsApplied('t169'),
      usageRecord('t169', 'resp_1', r1), tokenCount(r1, r1),
      usageRecord('t169', 'resp_2', r2), tokenCount([9012, 5309, 720, 301], r2),
      compacted(), compactionTokenCount([9012, 5309, 720, 301], 5405), compactionTokenCount([9012, 5309, 720, 301], 5405),
    ]);
    expect(lines[3]).toMatch(/^\{"timestamp":"[^"]+","ordinal":3,"type":"token_usage_record"/);
    const { increments, sum, state } = feed(lines);
    expect(increments.map((i) => [i.source, i.key])).toEqual([['record', 'r:t169:resp_1'], ['record', 'r:t169:resp_2']]);
    // (5754 − 4430) + (3258 − 879) uncached, 4430 + 879 cached, 492 + 228 output, 290 + 11 reasoning
    expect(sum).toEqual(B(3703, 5309, 720, 301));
    expect(totalTokens(sum)).toBe(9732);
    expect(increments.every((i) => i.model === 'gpt-5.1-codex')).toBe(true);
    expect(state.counters).toMatchObject({ usageRecords: 2, compactions: 1, repeatedSnapshots: 2, sourceDisagreements: 0, badLines: 0, unknownLineTypes: 0 });
  });

  it('a compaction snapshot with last = [0,0,0,0,N] and the same total adds nothing (0.130, no records)', () => {
    resetClock();
    const first: Usage4 = [10000, 2000, 500, 100];
    const next: Usage4 = [5302, 3499, 297, 0];
    const { increments, sum, state } = feed([
      sessionMeta('c1'), turnContext('m'), tokenCount(first, first),
      compacted(), compactionTokenCount(first, 5405), compactionTokenCount(first, 5405),
      tokenCount([15302, 5499, 797, 100], next),
    ]);
    expect(increments).toHaveLength(2);
    expect(sum).toEqual(B(8000 + 1803, 2000 + 3499, 797, 100));
    expect(totalTokens(sum)).toBe(16099);
    expect(state.counters).toMatchObject({ compactions: 1, repeatedSnapshots: 2, snapshots: 2 });
  });

  it('counts a local compaction, which the totals include, like any response', () => {
    resetClock();
    const turn: Usage4 = [4000, 0, 300, 0];
    const compaction: Usage4 = [4300, 4000, 800, 0];
    const { sum } = feed([sessionMeta('c2', { model_provider: 'ollama' }), turnContext('m'), tokenCount(turn, turn), compacted(), tokenCount([8300, 4000, 1100, 0], compaction)]);
    expect(sum).toEqual(B(4000 + 300, 4000, 1100, 0));
  });

  it('counts both segments when totals restart inside the file (0.44 resume: total == last after history), smaller or larger', () => {
    resetClock();
    const a: Usage4 = [2000, 0, 100, 10];
    const b: Usage4 = [3000, 1000, 200, 20];
    const r: Usage4 = [1500, 500, 50, 5]; // restart below the old total
    const s: Usage4 = [2500, 2000, 80, 8];
    const t: Usage4 = [9000, 0, 900, 90]; // restart above the old total
    const { increments, sum, state } = feed([
      sessionMeta('r44', { cli_version: '0.44.0', originator: 'codex_exec' }), turnContext('m'),
      tokenCount(a, a), tokenCount([5000, 1000, 300, 30], b), tokenCount([5000, 1000, 300, 30], b),
      turnContext('m'), tokenCount(r, r), tokenCount([4000, 2500, 130, 13], s),
      turnContext('m'), tokenCount(t, t), tokenCount(t, t),
    ]);
    expect(increments).toHaveLength(5);
    expect(new Set(increments.map((i) => i.key)).size).toBe(5);
    // input 2000+3000+1500+2500+9000 = 18000 of which cached 0+1000+500+2000+0 = 3500
    expect(sum).toEqual(B(18000 - 3500, 3500, 1330, 133));
    expect(state.counters).toMatchObject({ totalsRestarts: 2, repeatedSnapshots: 2, snapshots: 5 });
    expect(state.segment).toBe(2);
  });

  it('keeps counting when totals continue across a resume (0.80+) with no new session_meta', () => {
    resetClock();
    const a: Usage4 = [1200, 200, 40, 0];
    const b: Usage4 = [1800, 1100, 60, 30];
    const { sum, state } = feed([sessionMeta('r80', { cli_version: '0.80.0' }), turnContext('m'), tokenCount(a, a), tokenCount(a, a), turnContext('m'), tokenCount([3000, 1300, 100, 30], b)]);
    expect(sum).toEqual(B(1000 + 700, 1300, 100, 30));
    expect(state.counters.totalsRestarts).toBe(0);
  });

  it('a fork (forked_from_id) whose first total includes the parent counts only its own last', () => {
    resetClock();
    const own1: Usage4 = [8463, 507, 301, 72];
    const own2: Usage4 = [900, 800, 10, 0];
    const { sum, outcomes } = feed([
      sessionMeta('fork', { forked_from_id: 'parent', cli_version: '0.169.0' }), turnContext('m'),
      tokenCount([15642 + 8463, 3513 + 507, 2631 + 301, 1021 + 72], own1),
      tokenCount([15642 + 8463 + 900, 3513 + 507 + 800, 2631 + 301 + 10, 1021 + 72], own2),
    ]);
    expect(sum).toEqual(B(8463 - 507 + 100, 507 + 800, 311, 72));
    expect(outcomes[0]!.thread).toMatchObject({ threadId: 'fork', forkedFromId: 'parent', parentThreadId: 'parent' });
  });

  it('a 0.130 fork_context sub-agent: the parent session_meta and copied token_counts before its own turn_context count nothing', () => {
    resetClock();
    const p1: Usage4 = [7113, 0, 179, 85];
    const p2: Usage4 = [6031, 2050, 365, 87];
    const own: Usage4 = [6911, 0, 225, 117];
    const { sum, increments, state, outcomes } = feed([
      sessionMeta('kid', { forked_from_id: 'dad', source: threadSpawnSource('dad', 'Curie', null), originator: 'codex_exec' }),
      sessionMeta('dad', { source: 'exec', originator: 'codex_exec' }),
      eventMsg('task_started'), userMessage('parent turn'), tokenCount(null), assistantMessage('Reply'), tokenCount(p1, p1),
      eventMsg('task_complete'), tokenCount(p1, p1), tokenCount([13144, 2050, 544, 172], p2),
      eventMsg('task_started'), turnContext('gpt-5.1-codex'), userMessage('the sub-agent task'),
      tokenCount([13144, 2050, 544, 172], p2), tokenCount([20055, 2050, 769, 289], own),
    ]);
    expect(increments).toHaveLength(1);
    expect(sum).toEqual(B(6911, 0, 225, 117));
    expect(state.counters).toMatchObject({ replayedSnapshots: 3, repeatedSnapshots: 1, snapshots: 1 });
    expect(outcomes.filter((o) => o.thread).map((o) => o.thread!.threadId)).toEqual(['kid']);
    expect(outcomes[0]!.thread!.agent).toMatchObject({ name: 'Curie', kind: 'thread_spawn', parentThreadId: 'dad' });
  });

  it('after a context overflow, totals come from the buckets, never from total_tokens', () => {
    resetClock();
    const a: Usage4 = [7259, 4790, 557, 200];
    const b: Usage4 = [5774, 3637, 480, 43];
    const { increments, sum } = feed([
      sessionMeta('ov'), turnContext('m'), tokenCount(a, a),
      overflowTokenCount(258400),
      tokenCount(b, b, { totalTokens: 258400 + 6254 }),
      // even a `last` whose total_tokens is wrong does not leak into the figures
      tokenCountRaw(rawUsage([5774 + 100, 3637, 480 + 10, 43], { totalTokens: 999999 }), rawUsage([100, 0, 10, 0], { totalTokens: 777777 })),
    ]);
    expect(increments).toHaveLength(3);
    expect(sum).toEqual(B(2469 + 2137 + 100, 4790 + 3637, 1037 + 10, 243));
    expect(totalTokens(sum)).toBe(7816 + 6254 + 110);
    expect(increments[2]!.raw!.total_tokens).toBe(777777); // the log's figure is kept as written, and not used
    expect(totalTokens(increments[2]!.buckets)).toBe(110);
  });

  it('uses total − previous when last_token_usage is null', () => {
    resetClock();
    const { sum } = feed([sessionMeta('nl'), turnContext('m'), tokenCountRaw(rawUsage([100, 0, 10, 0]), null), tokenCountRaw(rawUsage([350, 50, 25, 5]), null)]);
    expect(sum).toEqual(B(300, 50, 25, 5));
  });

  it('counts cache writes of 0.169 records in their own bucket, apart from uncached input', () => {
    resetClock();
    const { sum } = feed([sessionMeta('cw'), turnContext('claude-x'), usageRecord('cw', 'resp_1', [1000, 200, 50, 0], 300)]);
    expect(sum).toEqual(B(500, 200, 50, 0, 300));
  });

  it('takes a record\'s own model over the turn\'s', () => {
    resetClock();
    const { increments } = feed([sessionMeta('rm'), turnContext('gpt-5.1-codex'), usageRecordWithModel('rm', 'resp_1', [10, 0, 1, 0], 'gpt-5.1-codex-mini')]);
    expect(increments[0]!.model).toBe('gpt-5.1-codex-mini');
  });

  it('reads an envelope written in another key order', () => {
    resetClock();
    const reordered = JSON.stringify({ type: 'event_msg', payload: { type: 'token_count', info: { total_token_usage: rawUsage([500, 0, 5, 0]), last_token_usage: rawUsage([500, 0, 5, 0]) } }, timestamp: '2026-11-20T10:00:30.000Z' });
    const { sum } = feed([sessionMeta('ko'), turnContext('m'), reordered]);
    expect(sum).toEqual(B(500, 0, 5, 0));
  });

  it('rate limits: resets_in_seconds counts from the event\'s time, resets_at is epoch seconds, null means unknown', () => {
    resetClock();
    const l44 = tokenCountRaw(null, undefined, rateLimitsResetsIn(26, 3600, 19, 86400));
    const at = Date.parse(JSON.parse(l44).timestamp as string);
    const { outcomes, increments } = feed([sessionMeta('rl'), l44, tokenCountRaw(null, undefined, rateLimitsResetsAt(20, 1795500000, 13, null, 'pro'))], newFileAccountState());
    // note: the session_meta line took one tick, so the 0.44 line's time is read back from its JSON
    expect(outcomes[1]!.rateLimits).toEqual({
      observedAt: new Date(at).toISOString(), threadId: 'rl',
      primary: { usedPercent: 26, windowMinutes: 300, resetsAt: at + 3600_000 },
      secondary: { usedPercent: 19, windowMinutes: 10080, resetsAt: at + 86400_000 },
    });
    expect(outcomes[2]!.rateLimits).toMatchObject({ primary: { usedPercent: 20, windowMinutes: 300, resetsAt: 1795500000_000 }, secondary: { usedPercent: 13, windowMinutes: 10080 }, planType: 'pro' });
    expect(outcomes[2]!.rateLimits!.secondary!.resetsAt).toBeUndefined();
    expect(increments).toEqual([]);
  });

  it('reports bad lines with their line numbers and reasons, and counts unknown line types without failing', () => {
    resetClock();
    const u: Usage4 = [100, 0, 10, 0];
    const { sum, problems, state } = feed([
      sessionMeta('bad'), turnContext('m'),
      '{"timestamp":"2026-11-20T10:00:00Z","type":"session_meta","payload":{"cwd":"/x"}}',
      'garbage {',
      JSON.stringify({ type: 'message', role: 'user', content: [] }),
      envelope('brand_new_kind', { anything: true }),
      eventMsg('some_new_event', { x: 1 }),
      tokenCount(u, u),
    ]);
    expect(problems.map((p) => [p.line, p.file])).toEqual([[3, '/codex/sessions/rollout-x.jsonl'], [4, '/codex/sessions/rollout-x.jsonl'], [5, '/codex/sessions/rollout-x.jsonl']]);
    expect(problems[0]!.reason).toMatch(/session_meta without a usable id/);
    expect(problems[1]!.reason).toMatch(/not valid JSON/);
    expect(problems[2]!.reason).toMatch(/without the rollout envelope/);
    expect(state.counters).toMatchObject({ badLines: 3, unknownLineTypes: 1 });
    expect(sum).toEqual(B(100, 0, 10, 0));
  });

  it('a first line that is neither an envelope nor a legacy header is a bad line', () => {
    const { problems, increments } = feed(['{"hello":"world"}']);
    expect(problems).toEqual([{ file: '/codex/sessions/rollout-x.jsonl', line: 1, reason: 'neither a rollout envelope nor a legacy session header' }]);
    expect(increments).toEqual([]);
  });

  it('estimates a legacy (0.8–0.20) file from its text: input is the context before each response, output what it wrote', () => {
    // The test counter counts words. Context: instructions 3, user 2 → reasoning (2 out, reads 5),
    // function call (2 out, follows an output so reads 0), its output (+2), assistant (2 out, reads 3+2+2+2+2 = 11).
    const { increments, sum, outcomes, state } = feed([
      legacyHeader('old', 'a b c'), legacyMessage('user', 'd e'), legacyState(),
      legacyReasoning('r1 r2'), legacyFunctionCall('shell', '{"cmd":"ls"}'), legacyFunctionOutput('file1 file2'), legacyState(),
      legacyMessage('assistant', 'done now'),
    ]);
    expect(state.format).toBe('legacy');
    expect(increments.map((i) => i.source)).toEqual(['estimate', 'estimate', 'estimate']);
    expect(increments.map((i) => i.buckets.uncachedInput)).toEqual([5, 0, 11]);
    expect(sum).toEqual(B(16, 0, 6, 2));
    expect(increments.every((i) => i.timestamp === '2025-06-01T09:00:00.000Z' && i.threadId === 'old')).toBe(true);
    expect(outcomes[0]!.thread).toMatchObject({ threadId: 'old', startedAt: '2025-06-01T09:00:00.000Z' });
    expect(outcomes.filter((o) => o.estimatedThread === 'old')).toHaveLength(3);
    expect(state.counters.badLines).toBe(0);
  });

  it('continues from a persisted state exactly as if read at once', () => {
    resetClock();
    const a: Usage4 = [2000, 0, 100, 10];
    const r: Usage4 = [1500, 500, 50, 5];
    const lines = [sessionMeta('split', { cli_version: '0.44.0' }), turnContext('m'), tokenCount(a, a), tokenCount(a, a), turnContext('m'), tokenCount(r, r), tokenCount([1600, 500, 60, 5], [100, 0, 10, 0])];
    const whole = feed(lines);
    for (let cut = 1; cut < lines.length; cut += 1) {
      const first = feed(lines.slice(0, cut));
      const persisted = JSON.parse(JSON.stringify(first.state)) as FileAccountState;
      const second = feed(lines.slice(cut), persisted, cut + 1);
      expect([...first.increments, ...second.increments].map((i) => i.key)).toEqual(whole.increments.map((i) => i.key));
      expect(sumBuckets([first.sum, second.sum])).toEqual(whole.sum);
    }
    expect(whole.sum).toEqual(B(2000 + 1000 + 100, 500, 160, 15));
  });

  it('classifies lines from their prefix: usage and metadata parsed, content skipped, compaction counted', () => {
    resetClock();
    const account = new FileAccount('/f', newFileAccountState(), words);
    const kinds = (line: string) => account.classify(Buffer.from(line).subarray(0, PREFIX_BYTES).toString('latin1'));
    expect(kinds(sessionMeta('x'))).toBe('parse');
    expect(kinds(turnContext('m'))).toBe('parse');
    expect(kinds(tokenCount([1, 0, 1, 0], [1, 0, 1, 0]))).toBe('parse');
    expect(kinds(usageRecord('x', 'r', [1, 0, 1, 0]))).toBe('parse');
    expect(kinds(withOrdinals([usageRecord('x', 'r', [1, 0, 1, 0])], 41)[0]!)).toBe('parse');
    expect(kinds(threadSettingsApplied('x'))).toBe('parse');
    expect(kinds(userMessage('hello'))).toBe('skip');
    expect(kinds(hugeContentLine(1000))).toBe('skip');
    expect(kinds(eventMsg('agent_message', { message: 'x'.repeat(1000) }))).toBe('skip');
    expect(kinds(envelope('world_state', { full: true, state: {} }))).toBe('skip');
    expect(kinds(compacted())).toBe('count');
    expect(kinds(envelope('something_new', {}))).toBe('count');
  });
});

describe('FileAccount, split anywhere between lines with the state persisted', () => {
  const p1: Usage4 = [7113, 0, 179, 85];
  const p2: Usage4 = [6031, 2050, 365, 87];
  const own: Usage4 = [6911, 0, 225, 117];
  const files: [string, () => string[], ReturnType<typeof B>][] = [
    ['a 0.130 fork_context sub-agent', () => [
      sessionMeta('kid', { forked_from_id: 'dad', source: threadSpawnSource('dad', 'Curie', null) }), sessionMeta('dad'),
      tokenCount(p1, p1), tokenCount(p1, p1), tokenCount([13144, 2050, 544, 172], p2),
      turnContext('m'), tokenCount([13144, 2050, 544, 172], p2), tokenCount([20055, 2050, 769, 289], own),
    ], B(6911, 0, 225, 117)],
    ['a 0.169 file with remote compaction', () => withOrdinals([
      sessionMeta('rc'), turnContext('m'), usageRecord('rc', 'resp_1', p1), tokenCount(p1, p1),
      usageRecord('rc', 'resp_2', p2), compacted(), compactionTokenCount(p1, 5000), usageRecord('rc', 'resp_3', own), tokenCount([14024, 0, 404, 202], own),
    ]), B(7113 + (6031 - 2050) + 6911, 2050, 179 + 365 + 225, 85 + 87 + 117)],
    ['a legacy file', () => [legacyHeader('leg', 'a b'), legacyMessage('user', 'c'), legacyMessage('assistant', 'd e f'), legacyMessage('user', 'g h'), legacyMessage('assistant', 'i')], B(3 + 8, 0, 4, 0)],
  ];
  for (const [name, make, expected] of files) {
    it(`${name}: every split gives the figures of one read`, () => {
      resetClock();
      const lines = make();
      const whole = feed(lines);
      expect(whole.sum).toEqual(expected);
      for (let cut = 1; cut < lines.length; cut += 1) {
        const first = feed(lines.slice(0, cut));
        const second = feed(lines.slice(cut), JSON.parse(JSON.stringify(first.state)) as FileAccountState, cut + 1);
        expect(sumBuckets([first.sum, second.sum]), `cut after line ${cut}`).toEqual(whole.sum);
        expect([...first.increments, ...second.increments].map((i) => i.key)).toEqual(whole.increments.map((i) => i.key));
        expect(second.state.counters).toEqual(whole.state.counters);
      }
    });
  }
});

describe('FileAccount, models and odd but valid shapes', () => {
  it('takes the model from collaboration_mode when turn_context has none, and leaves it unknown without turn_context (0.34)', () => {
    resetClock();
    const u: Usage4 = [100, 0, 10, 0];
    const withMode = feed([sessionMeta('cm'), turnContext('ignored', { model: null, collaboration_mode: { mode: 'default', settings: { model: 'gpt-5.2-codex' } } }), tokenCount(u, u)]);
    expect(withMode.increments[0]!.model).toBe('gpt-5.2-codex');
    const old = feed([sessionMeta('v34', { cli_version: '0.34.0', source: undefined }), tokenCount(u, u)]);
    expect(old.increments[0]!.model).toBeUndefined();
    expect(old.increments[0]!.cwd).toBe('/work/project');
  });

  it('counts usage whose rate_limits are of a shape it does not know, without a problem', () => {
    resetClock();
    const u: Usage4 = [100, 0, 10, 0];
    const { sum, problems, outcomes } = feed([sessionMeta('rl2'), turnContext('m'), tokenCountRaw(rawUsage(u), rawUsage(u), 'weird')]);
    expect(sum).toEqual(B(100, 0, 10, 0));
    expect(problems).toEqual([]);
    expect(outcomes[2]!.rateLimits).toBeUndefined();
  });

  it('reports negative or non-numeric usage as a bad line rather than counting it', () => {
    resetClock();
    const { sum, problems } = feed([sessionMeta('neg'), turnContext('m'), tokenCountRaw({ input_tokens: -5, output_tokens: 3 }, null), tokenCountRaw({ input_tokens: '7', output_tokens: 3 }, null)]);
    expect(sum).toEqual(B(0, 0, 0, 0));
    expect(problems.map((p) => p.line)).toEqual([3, 4]);
    expect(problems[0]!.reason).toMatch(/^token_count of an unexpected shape \(info\.total_token_usage\.input_tokens\)$/);
  });

  it('keeps session_meta details on the thread: cwd, git, originator, version, provider, source', () => {
    resetClock();
    const { outcomes } = feed([sessionMeta('meta', { originator: 'codex_vscode', source: 'vscode', cli_version: '0.80.0', model_provider: 'openai', git: { repository_url: 'git@example.invalid:x.git', branch: 'main', commit_hash: 'abc' } })]);
    expect(outcomes[0]!.thread).toMatchObject({
      threadId: 'meta', cwd: '/work/project', originator: 'codex_vscode', cliVersion: '0.80.0', modelProvider: 'openai', source: 'vscode',
      gitRepositoryUrl: 'git@example.invalid:x.git', gitBranch: 'main', agent: { name: 'Codex IDE' }, file: '/codex/sessions/rollout-x.jsonl',
    });
  });
});
