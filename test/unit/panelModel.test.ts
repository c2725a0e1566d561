import { describe, expect, it } from 'vitest';
import { deriveAgent } from '../../src/core/agents.js';
import { UsageLedger } from '../../src/core/ledger.js';
import { emptyCounters, type ThreadInfo, type UsageIncrement } from '../../src/core/ledgerTypes.js';
import { buildPanelSnapshot, snapshotToCsv } from '../../src/core/panelModel.js';
import { buildReport, type Pricer, type ThreadRow, type UsageReport } from '../../src/core/reports.js';
import { parseWebviewMessage } from '../../src/extension/panelMessages.js';
import { type FigureRow, type PanelFilter, type ThreadPanelRow } from '../../src/shared/protocol.js';
import { DEFAULT_THREAD_SORT, flattenTree, SORT_COLUMNS, sortRows } from '../../src/shared/sorting.js';
import { random } from './helpers/randomLedger.js';
import { type TokenBuckets } from '../../src/core/usage.js';

const pricer: Pricer = {
  price: (model, buckets) => (model === 'priced' ? { usd: (buckets.uncachedInput + buckets.output) / 1000, known: true } : { usd: undefined, known: false }),
};

function buckets(input: number, output: number): TokenBuckets {
  return { uncachedInput: input, cachedInput: 0, cacheWriteInput: 0, output, reasoningOutput: 0 };
}

function thread(id: string, originator: string, source: unknown, file = `/h/sessions/${id}.jsonl`): ThreadInfo {
  const agent = deriveAgent(originator, source);
  const info: ThreadInfo = { threadId: id, agent, file, cwd: '/work/<b>proj</b>' };
  if (agent.parentThreadId) info.parentThreadId = agent.parentThreadId;
  return info;
}

function inc(key: string, threadId: string, b: TokenBuckets, model = 'priced', timestamp = '2026-11-20T10:00:00.000Z'): UsageIncrement {
  return { key, threadId, timestamp, buckets: b, source: 'record', model };
}

function fixtureLedger(): UsageLedger {
  const ledger = new UsageLedger();
  const parent = thread('parent', 'codex_cli_rs', 'cli');
  const child = thread('child', 'codex_cli_rs', { subagent: { thread_spawn: { parent_thread_id: 'parent', depth: 1, agent_nickname: 'Avicenna', agent_role: 'explorer' } } });
  const other = thread('other', 'codex_exec', 'exec');
  for (const t of [parent, child, other]) ledger.setThread(t);
  ledger.add(parent.file, inc('r:parent:1', 'parent', buckets(1000, 100)));
  ledger.add(child.file, inc('r:child:1', 'child', buckets(500, 50)));
  ledger.add(other.file, inc('r:other:1', 'other', buckets(300, 30), 'mystery-model'));
  return ledger;
}

function snapshotOf(ledger: UsageLedger, totalBudget = 10_000, limits: Record<string, number> = {}, filter: PanelFilter = { period: 'all' }, threadLimit?: number) {
  const report = buildReport(ledger, { timeZone: 'UTC', pricer });
  return buildPanelSnapshot({
    report,
    filter,
    ...(threadLimit === undefined ? {} : { threadLimit }),
    periodLabel: 'All time',
    budget: { totalBudget, warningThreshold: 80, period: 'month', perAgentLimits: limits },
    counters: emptyCounters(),
    estimatedThreads: 0,
    unreadableFiles: 0,
    scanning: false,
    choices: { agents: [], models: [], projects: [] },
    now: new Date('2026-11-24T00:00:00Z'),
  });
}

describe('panel view model', () => {
  it('nests a sub-agent thread under the thread that spawned it and rolls usage up', () => {
    const s = snapshotOf(fixtureLedger());
    const parent = s.threads.find((t) => t.threadId === 'parent')!;
    expect(parent.children.map((c) => c.threadId)).toEqual(['child']);
    expect(parent.totalTokens).toBe(1100);
    expect(parent.rolledUpTokens).toBe(1100 + 550);
    expect(parent.rolledUpCostUsd).toBeCloseTo(1.1 + 0.55, 10);
    expect(s.threads.map((t) => t.threadId).sort()).toEqual(['other', 'parent']);
  });

  it('nests sub-agents under the agent of their parent thread, shown by nickname and role', () => {
    const s = snapshotOf(fixtureLedger(), 10_000, { 'Avicenna (explorer)': 1000 });
    const cli = s.agents.find((a) => a.label === 'Codex CLI')!;
    expect(cli.children.map((c) => c.label)).toEqual(['Avicenna (explorer)']);
    const sub = cli.children[0]!;
    expect(sub.limit).toBe(1000);
    expect(sub.limitShare).toBeCloseTo(0.55, 10);
    expect(cli.budgetShare).toBeCloseTo(1100 / 10_000, 10);
    expect(s.agents.find((a) => a.label === 'codex exec')).toBeDefined();
  });

  it('shows unknown models as unpriced, never as $0', () => {
    const s = snapshotOf(fixtureLedger());
    const other = s.threads.find((t) => t.threadId === 'other')!;
    expect(other.costUsd).toBeNull();
    expect(other.unpricedTokens).toBe(330);
    expect(s.header.unpricedTokens).toBe(330);
    expect(s.diagnostics.unpricedTokens).toBe(330);
    expect(s.header.costUsd).toBeCloseTo(1.65, 10);
  });

  it('computes the budget level from the threshold', () => {
    expect(snapshotOf(fixtureLedger(), 10_000).header.level).toBe('ok');
    expect(snapshotOf(fixtureLedger(), 2_400).header.level).toBe('warning'); // 1980 of 2400 = 82.5 %
    expect(snapshotOf(fixtureLedger(), 1_980).header.level).toBe('exceeded');
    expect(snapshotOf(fixtureLedger(), 0).header.budgetPercent).toBeNull();
  });

  it('writes CSV with quoting and neutralises formula-looking cells', () => {
    const ledger = fixtureLedger();
    ledger.setThread({ ...thread('=cmd', 'codex_exec', 'exec'), threadId: '=HYPERLINK("x")' });
    ledger.add('/h/x.jsonl', inc('r:x', '=HYPERLINK("x")', buckets(1, 1), 'a,"b"'));
    const csv = snapshotToCsv(snapshotOf(ledger));
    expect(csv).toContain('"a,""b"""');
    expect(csv).toContain(`"'=HYPERLINK(""x"")"`);
    expect(csv.split('\r\n')[0]).toBe('kind,key,label,uncached_input,cached_input,cache_write_input,output,reasoning_output,total_tokens,cost_usd,estimated_tokens,first_seen,last_seen');
  });

  it('keeps hostile strings from the logs as plain data (escaping happens at render time)', () => {
    const s = snapshotOf(fixtureLedger());
    expect(s.projects[0]!.label).toBe('/work/<b>proj</b>');
  });
});

describe('a view with more threads than a snapshot holds', () => {
  function manyThreads(n: number): UsageLedger {
    const ledger = new UsageLedger();
    for (let i = 0; i < n; i += 1) {
      const t = thread(`t${i}`, 'codex_cli_rs', 'cli');
      ledger.setThread(t);
      // t0 is the oldest and the largest; the later a thread, the smaller.
      ledger.add(t.file, inc(`r:t${i}:1`, t.threadId, buckets(1000 - i, 10), 'priced', new Date(Date.UTC(2026, 10, 1, 0, i)).toISOString()));
    }
    const child = thread('child-of-t0', 'codex_cli_rs', { subagent: { thread_spawn: { parent_thread_id: 't0', depth: 1, agent_nickname: 'Ada', agent_role: 'worker' } } });
    ledger.setThread(child);
    ledger.add(child.file, inc('r:child:1', child.threadId, buckets(1, 1), 'priced', '2026-11-01T00:00:30.000Z'));
    return ledger;
  }

  it('holds the first roots in the panel\'s order, with their sub-agents, and counts them all', () => {
    const ledger = manyThreads(8);
    const recent = snapshotOf(ledger, 10_000, {}, { period: 'all' }, 3);
    expect(recent.threadCount).toBe(9);
    expect(recent.threads.map((t) => t.threadId)).toEqual(['t7', 't6', 't5']); // the default order: the most recent first
    const largest = snapshotOf(ledger, 10_000, {}, { period: 'all', threadSort: { column: 'totalTokens', descending: true } }, 3);
    expect(largest.threads.map((t) => t.threadId)).toEqual(['t0', 't1', 't2']);
    expect(largest.threads[0]!.children.map((t) => t.threadId)).toEqual(['child-of-t0']);
    const all = snapshotOf(ledger, 10_000, {}, { period: 'all' }, 8);
    expect(all.threads).toHaveLength(8);
    expect(snapshotOf(ledger).threads).toHaveLength(8);
  });

  /**
   * The thread tree as the panel built it before rows were made only for the threads shown: a row
   * for every thread, each attached to its parent unless that would close a loop, rolled up to 64
   * levels down, and the roots sorted (children too) and cut when there are more than the limit.
   */
  function referenceThreads(threads: ThreadRow[], filter: PanelFilter, limit: number | undefined): ThreadPanelRow[] {
    const rows = new Map<string, ThreadPanelRow>();
    for (const t of threads) {
      rows.set(t.threadId, {
        key: t.threadId, label: t.threadId, buckets: { ...t.buckets }, totalTokens: t.totalTokens, costUsd: t.costUsd ?? null, unpricedTokens: t.unpricedTokens,
        estimatedTokens: t.estimatedTokens, responses: t.responses, firstSeen: t.firstSeen ?? null, lastSeen: t.lastSeen ?? null,
        threadId: t.threadId, parentThreadId: t.parentThreadId ?? null, agent: t.agent, models: [...t.models], project: t.project ?? null, estimated: t.estimated,
        rolledUpTokens: t.totalTokens, rolledUpCostUsd: t.costUsd ?? null, children: [],
      });
    }
    const isAncestor = (candidate: ThreadPanelRow, of: ThreadPanelRow): boolean => {
      let current: ThreadPanelRow | undefined = of;
      for (let depth = 0; current && depth < 64; depth += 1) {
        if (current === candidate) return true;
        current = current.parentThreadId ? rows.get(current.parentThreadId) : undefined;
      }
      return false;
    };
    const roots: ThreadPanelRow[] = [];
    for (const row of rows.values()) {
      const parent = row.parentThreadId ? rows.get(row.parentThreadId) : undefined;
      if (parent && parent !== row && !isAncestor(row, parent)) parent.children.push(row);
      else roots.push(row);
    }
    const rollUp = (row: ThreadPanelRow, depth: number): void => {
      if (depth > 64) return;
      for (const child of row.children) {
        rollUp(child, depth + 1);
        row.rolledUpTokens += child.rolledUpTokens;
        if (child.rolledUpCostUsd !== null) row.rolledUpCostUsd = (row.rolledUpCostUsd ?? 0) + child.rolledUpCostUsd;
      }
    };
    for (const root of roots) rollUp(root, 0);
    if (limit === undefined || roots.length <= limit) return roots;
    return sortRows(roots, filter.threadSort ?? DEFAULT_THREAD_SORT).slice(0, limit);
  }

  /** Thread rows of a random forest: parents that exist or not, loops, a chain 100 deep, ties, costs missing. */
  function randomThreadRows(seed: number, n: number): ThreadRow[] {
    const rand = random(seed);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(rand() * items.length)]!;
    const rows: ThreadRow[] = [];
    for (let i = 0; i < n; i += 1) {
      const total = pick([0, 5, 5, 17, 100, 2500, Math.floor(rand() * 1e6)]);
      const parent = rand() < 0.4 ? `t${Math.floor(rand() * n)}` : rand() < 0.1 ? 'missing' : undefined;
      rows.push({
        buckets: { uncachedInput: total, cachedInput: pick([0, 3, 9]), cacheWriteInput: 0, output: pick([0, 1, 2]), reasoningOutput: 0 },
        totalTokens: total, costUsd: rand() < 0.2 ? undefined : total * 1.1e-7 + rand() * 1e-9, unpricedTokens: 0, estimatedTokens: 0, responses: 1,
        firstSeen: rand() < 0.1 ? undefined : `2026-11-0${pick([1, 2, 3])}T00:00:00.000Z`, lastSeen: rand() < 0.1 ? undefined : `2026-11-1${pick([1, 2, 3])}T00:00:00.000Z`,
        threadId: rand() < 0.5 ? `t${i}` : `T${i}`, parentThreadId: parent, agentId: 'a', agent: 'A', agentKind: parent ? 'subagent' : 'top-level', models: ['m'],
        project: undefined, cwd: undefined, estimated: false, archived: false,
      });
    }
    // Loops, a chain 100 deep under the first thread, and a second row of one thread's id.
    const loop = (name: string, length: number): void => {
      for (let i = 0; i < length; i += 1) rows.push({ ...rows[0]!, threadId: `${name}${i}`, parentThreadId: `${name}${(i + 1) % length}` });
    };
    loop('x', 3);
    // The longest loop found as one (each thread's ancestors are looked for 64 levels up), and one longer.
    loop('y', 64);
    loop('z', 65);
    for (let i = 0; i < 100; i += 1) rows.push({ ...rows[1]!, threadId: `deep${i}`, parentThreadId: i === 0 ? rows[0]!.threadId : `deep${i - 1}`, costUsd: 1e-3 * (i + 1) });
    rows.push({ ...rows[3]!, totalTokens: 123_456, parentThreadId: undefined });
    return rows;
  }

  it('holds the tree the rows of every thread make, cut after the first roots in any order', () => {
    const orders: (PanelFilter['threadSort'] | undefined)[] = [undefined, ...SORT_COLUMNS.flatMap((column) => [{ column, descending: true }, { column, descending: false }])];
    for (let seed = 1; seed <= 6; seed += 1) {
      const threads = randomThreadRows(seed, 40 + seed * 13);
      const report: UsageReport = { ...buildReport(new UsageLedger(), { timeZone: 'UTC', pricer }), threads };
      for (const threadSort of orders) {
        const filter: PanelFilter = { period: 'all', ...(threadSort ? { threadSort } : {}) };
        for (const limit of [undefined, 1, 7, 30, 1000]) {
          const snapshot = buildPanelSnapshot({
            report, filter, periodLabel: 'All time', counters: emptyCounters(), estimatedThreads: 0, unreadableFiles: 0, scanning: false,
            choices: { agents: [], models: [], projects: [] }, ...(limit === undefined ? {} : { threadLimit: limit }),
          });
          expect(snapshot.threads, `seed ${seed}, ${JSON.stringify(threadSort)}, limit ${limit}`).toEqual(referenceThreads(threads, filter, limit));
          expect(snapshot.threadCount).toBe(threads.length);
        }
      }
    }
  });

  it('accepts a thread order from the webview, and refuses one that is not a column', () => {
    expect(parseWebviewMessage({ type: 'setFilter', filter: { period: 'all', threadSort: { column: 'costUsd', descending: false } } }).ok).toBe(true);
    expect(parseWebviewMessage({ type: 'setFilter', filter: { period: 'all', threadSort: { column: 'constructor', descending: true } } }).ok).toBe(false);
    expect(parseWebviewMessage({ type: 'setFilter', filter: { period: 'all', threadSort: { column: 'label' } } }).ok).toBe(false);
  });

  it('accepts how many root threads the webview asks for ("Show more"), a positive whole number up to a million', () => {
    expect(parseWebviewMessage({ type: 'setFilter', filter: { period: 'all', threadRows: 2000 } }).ok).toBe(true);
    for (const threadRows of [0, -1000, 1.5, 1_000_001, '2000', Number.POSITIVE_INFINITY]) {
      expect(parseWebviewMessage({ type: 'setFilter', filter: { period: 'all', threadRows } }).ok, String(threadRows)).toBe(false);
    }
  });
});

describe('sorting and trees', () => {
  interface TreeRow extends FigureRow { children: TreeRow[] }
  const row = (key: string, total: number, children: TreeRow[] = []): TreeRow => ({
    key, label: key, buckets: buckets(total, 0), totalTokens: total, costUsd: null, unpricedTokens: 0, estimatedTokens: 0, responses: 1, firstSeen: null, lastSeen: null, children,
  });

  it('sorts by a column, descending or ascending, children too, stably', () => {
    const rows = [row('a', 5), row('b', 9, [row('b1', 1), row('b2', 3)]), row('c', 5)];
    const desc = sortRows(rows, { column: 'totalTokens', descending: true });
    expect(desc.map((r) => r.key)).toEqual(['b', 'a', 'c']);
    expect(desc[0]!.children!.map((r) => r.key)).toEqual(['b2', 'b1']);
    expect(sortRows(rows, { column: 'label', descending: false }).map((r) => r.key)).toEqual(['a', 'b', 'c']);
  });

  it('flattens only expanded branches', () => {
    const rows = [row('b', 9, [row('b1', 1)])];
    expect(flattenTree(rows, new Set()).map((r) => r.row.key)).toEqual(['b']);
    expect(flattenTree(rows, new Set(['b'])).map((r) => [r.row.key, r.depth])).toEqual([['b', 0], ['b1', 1]]);
  });
});

describe('messages from the webview', () => {
  it('accepts the protocol and refuses anything else', () => {
    expect(parseWebviewMessage({ type: 'setFilter', filter: { period: 'custom', since: '2026-11-01', until: '2026-11-24', model: 'gpt-5' } }).ok).toBe(true);
    expect(parseWebviewMessage({ type: 'export', format: 'csv' }).ok).toBe(true);
    expect(parseWebviewMessage({ type: 'export', format: 'exe' }).ok).toBe(false);
    expect(parseWebviewMessage({ type: 'runCommand', command: 'workbench.action.terminal.new' }).ok).toBe(false);
    expect(parseWebviewMessage({ type: 'setFilter', filter: { period: 'custom', since: '1 Jan' } }).ok).toBe(false);
    expect(parseWebviewMessage({ type: 'setFilter', filter: { period: 'all', extra: 1 } }).ok).toBe(false);
    expect(parseWebviewMessage('ready').ok).toBe(false);
  });
});

describe('small updates', () => {
  it('sends only the sections that changed, and applying them gives the new snapshot', async () => {
    const { diffSnapshot, applySnapshotUpdate } = await import('../../src/shared/snapshotDiff.js');
    const ledger = fixtureLedger();
    const before = snapshotOf(ledger);
    expect(diffSnapshot(before, { ...snapshotOf(ledger), generatedAt: 'later' })).toBeUndefined();
    ledger.add('/h/sessions/other.jsonl', inc('r:other:2', 'other', buckets(100, 1), 'mystery-model'));
    const after = snapshotOf(ledger);
    const changes = diffSnapshot(before, after)!;
    expect(Object.keys(changes).sort()).toEqual(['agents', 'days', 'diagnostics', 'generatedAt', 'header', 'models', 'projects', 'threads', 'totals']);
    expect(changes).not.toHaveProperty('choices');
    expect(changes).not.toHaveProperty('filter');
    expect(applySnapshotUpdate(before, changes)).toEqual(after);
  });
});
