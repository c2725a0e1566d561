import { describe, expect, it } from 'vitest';
import { UsageLedger } from '../../src/core/ledger.js';
import { type ThreadInfo, type UsageIncrement } from '../../src/core/ledgerTypes.js';

const inc = (key: string, threadId = 't', output = 10): UsageIncrement => ({
  key, threadId, timestamp: '2026-11-20T10:00:00.000Z', source: 'snapshot',
  buckets: { uncachedInput: 100, cachedInput: 0, cacheWriteInput: 0, output, reasoningOutput: 0 },
});
const thread = (threadId: string, file: string, name = 'Codex CLI'): ThreadInfo => ({ threadId, file, agent: { id: `originator:${name}`, name, kind: 'top-level' } });

describe('UsageLedger', () => {
  it('counts an increment once however many files or reads report it', () => {
    const ledger = new UsageLedger();
    expect(ledger.add('/a', inc('k1'))).toBe(true);
    expect(ledger.add('/a', inc('k1'))).toBe(false);
    expect(ledger.add('/b', inc('k1'))).toBe(false);
    expect(ledger.add('/b', inc('k2'))).toBe(true);
    expect(ledger.incrementCount).toBe(2);
    expect([...ledger.filesReporting('k1')!].sort()).toEqual(['/a', '/b']);
  });

  it('removing a file takes back only what no other file reports', () => {
    const ledger = new UsageLedger();
    ledger.add('/live', inc('shared'));
    ledger.add('/live', inc('only-live'));
    ledger.add('/archived', inc('shared'));
    ledger.removeFile('/live');
    expect([...ledger.allIncrements()].map((i) => i.key)).toEqual(['shared']);
    expect([...ledger.filesReporting('shared')!]).toEqual(['/archived']);
    ledger.removeFile('/archived');
    expect(ledger.incrementCount).toBe(0);
    expect(ledger.filesReporting('shared')).toBeUndefined();
  });

  it('keeps an increment reported by three files until the last of them goes, in any order', () => {
    for (const order of [['/a', '/b', '/c'], ['/c', '/a', '/b'], ['/b', '/c', '/a']]) {
      const ledger = new UsageLedger();
      for (const f of ['/a', '/b', '/c']) ledger.add(f, inc('k'));
      ledger.add('/a', inc('k')); // the same file again changes nothing
      ledger.removeFile(order[0]!);
      ledger.removeFile(order[0]!); // twice: no effect
      expect([...ledger.filesReporting('k')!].sort()).toEqual(order.slice(1).sort());
      ledger.removeFile(order[1]!);
      expect([...ledger.filesReporting('k')!]).toEqual([order[2]]);
      expect([...ledger.toJSON().increments][0]![1]).toEqual([order[2]]);
      ledger.removeFile(order[2]!);
      expect(ledger.incrementCount).toBe(0);
      expect(ledger.filesReporting('k')).toBeUndefined();
    }
  });

  it('shows a thread from its live file before an archived copy, whatever the order, and forgets it with its last file', () => {
    const ledger = new UsageLedger();
    ledger.setThread(thread('t', '/h/archived_sessions/rollout-t.jsonl', 'archived'));
    ledger.setThread(thread('t', '/h/sessions/2026/11/20/rollout-t.jsonl', 'live'));
    expect(ledger.thread('t')!.agent.name).toBe('live');
    ledger.setThread(thread('t', '/h/sessions/2026/11/20/rollout-t.jsonl', 'live again'));
    expect([...ledger.allThreads()].map((t) => t.agent.name)).toEqual(['live again']);
    ledger.removeFile('/h/sessions/2026/11/20/rollout-t.jsonl');
    expect(ledger.thread('t')!.agent.name).toBe('archived');
    ledger.removeFile('/h/archived_sessions/rollout-t.jsonl');
    expect(ledger.thread('t')).toBeUndefined();
  });

  it('keeps the newest rate-limit snapshot', () => {
    const ledger = new UsageLedger();
    ledger.noteRateLimits({ observedAt: '2026-11-20T10:00:00.000Z', primary: { usedPercent: 10 } });
    ledger.noteRateLimits({ observedAt: '2026-11-20T09:00:00.000Z', primary: { usedPercent: 99 } });
    expect(ledger.latestRateLimits!.primary!.usedPercent).toBe(10);
    ledger.noteRateLimits({ observedAt: '2026-11-20T11:00:00.000Z', primary: { usedPercent: 30 } });
    expect(ledger.latestRateLimits!.primary!.usedPercent).toBe(30);
  });

  it('bumps its change count on changes only', () => {
    const ledger = new UsageLedger();
    const c0 = ledger.changeCount;
    ledger.add('/a', inc('k'));
    const c1 = ledger.changeCount;
    expect(c1).toBeGreaterThan(c0);
    ledger.add('/a', inc('k'));
    expect(ledger.changeCount).toBe(c1);
  });

  it('survives a JSON round trip with its reporters, threads and rate limits', () => {
    const ledger = new UsageLedger();
    ledger.add('/a', inc('k1'));
    ledger.add('/b', inc('k1'));
    ledger.add('/b', inc('k2', 'u', 7));
    ledger.setThread(thread('t', '/a'));
    ledger.setThread(thread('u', '/b'));
    ledger.noteRateLimits({ observedAt: '2026-11-20T10:00:00.000Z', secondary: { usedPercent: 5, resetsAt: 1 } });
    const copy = UsageLedger.fromJSON(JSON.parse(JSON.stringify(ledger.toJSON())));
    // A live ledger's snapshot reads its increments lazily; compared as plain arrays.
    const plain = (l: UsageLedger) => ({ ...l.toJSON(), increments: [...l.toJSON().increments] });
    expect(plain(copy)).toEqual(plain(ledger));
    copy.removeFile('/a');
    expect(copy.incrementCount).toBe(2); // k1 is still reported by /b
    copy.removeFile('/b');
    expect(copy.incrementCount).toBe(0);
  });

  it('loaded from a snapshot, reports its increments at once and counts a key it holds once when a file reports it again', () => {
    const ledger = new UsageLedger();
    ledger.add('/a', inc('k1'));
    ledger.add('/b', inc('k2', 'u', 7));
    const snapshot = JSON.parse(JSON.stringify(ledger.toJSON()));
    const copy = UsageLedger.fromJSON(snapshot);
    expect([...copy.allIncrements()].map((i) => i.key)).toEqual(['k1', 'k2']);
    expect(copy.incrementCount).toBe(2);
    const before = copy.changeCount;
    expect(copy.add('/a', inc('k1'))).toBe(false);
    expect(copy.changeCount).toBe(before);
    expect(copy.add('/c', inc('k3'))).toBe(true);
    expect([...copy.allIncrements()].map((i) => i.key)).toEqual(['k1', 'k2', 'k3']);
    expect([...copy.filesReporting('k2')!]).toEqual(['/b']);
    const other = UsageLedger.fromJSON(snapshot);
    other.removeFile('/b');
    expect([...other.allIncrements()].map((i) => i.key)).toEqual(['k1']);
  });
  it('a snapshot kept for adds (a CLI run) ends as the indexed ledger would: same increments, order, reporters, answers and recorded changes', () => {
    const base = new UsageLedger();
    for (let n = 0; n < 6; n += 1) base.add(n % 2 ? '/a' : '/b', inc(`k${n}`, n % 3 ? 't' : 'u', n));
    base.add('/c', inc('k1'));
    const snapshot = JSON.parse(JSON.stringify(base.toJSON()));
    const indexed = UsageLedger.fromJSON(snapshot);
    const kept = UsageLedger.fromJSON(JSON.parse(JSON.stringify(snapshot)), { keepSnapshot: true });
    indexed.recordChanges();
    kept.recordChanges();
    const adds: [string, UsageIncrement][] = [['/a', inc('k1')], ['/d', inc('k1')], ['/a', inc('k9', 'v', 3)], ['/a', inc('k9', 'v', 3)], ['/b', inc('k10')], ['/d', inc('k10')], ['/a', inc('k0')]];
    for (const [file, increment] of adds) expect(kept.add(file, increment), `${file} ${increment.key}`).toBe(indexed.add(file, increment));
    const views = (l: UsageLedger): unknown[] => {
      const out: unknown[] = [];
      l.forEachIncrement((v) => out.push({ ...v, buckets: { ...v.buckets } }));
      return out;
    };
    const same = (): void => {
      expect(kept.incrementCount).toBe(indexed.incrementCount);
      expect(JSON.parse(JSON.stringify(kept.toJSON()))).toEqual(JSON.parse(JSON.stringify(indexed.toJSON())));
      expect(views(kept)).toEqual(views(indexed));
      expect(kept.recordedChanges).toEqual(indexed.recordedChanges);
    };
    same();
    // The kept snapshot was never indexed (positions in it stay valid); the other was, at its first add.
    expect(kept.incrementsEnd.layout).toBe(0);
    expect(indexed.incrementsEnd.layout).toBeGreaterThan(0);
    expect(kept.recordedChanges!.map((c) => (c.kind === 'add' ? `${c.file} ${c.increment.key}` : c.kind))).toEqual(['/d k1', '/a k9', '/b k10', '/d k10', '/a k0']);
    // A removal builds the key maps; both go on alike.
    kept.removeFile('/d');
    indexed.removeFile('/d');
    kept.add('/e', inc('k11'));
    indexed.add('/e', inc('k11'));
    same();
    expect([...kept.filesReporting('k10')!]).toEqual(['/b']);
  });
});
