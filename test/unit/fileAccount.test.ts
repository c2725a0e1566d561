import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemoryLogger } from '../../src/core/logger.js';
import { compacted, file, legacyHeader, legacyMessage, overflowTokenCount, resetClock, sessionMeta, tokenCount, turnContext, usageRecord, userMessage, type Usage4 } from './helpers/rolloutBuilder.js';
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
