import { describe, expect, it } from 'vitest';
import { snapshotEntries, UsageLedger } from '../../src/core/ledger.js';
import { type ThreadInfo, type UsageIncrement } from '../../src/core/ledgerTypes.js';
import { SCAN_STATE_VERSION } from '../../src/core/scanState.js';
import { decodeScanState, encodeScanState } from '../../src/core/stateCodec.js';
import { plainState } from './helpers/plainState.js';
import { random } from './helpers/randomLedger.js';

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
      expect([...snapshotEntries(ledger.toJSON().increments)][0]![1]).toEqual([order[2]]);
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
    const plain = (l: UsageLedger) => ({ ...l.toJSON(), increments: [...snapshotEntries(l.toJSON().increments)] });
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
  it('a loaded snapshot, never indexed, ends as the indexed ledger would: same increments, order, reporters, answers and recorded changes', () => {
    const base = new UsageLedger();
    for (let n = 0; n < 6; n += 1) base.add(n % 2 ? '/a' : '/b', inc(`k${n}`, n % 3 ? 't' : 'u', n));
    base.add('/c', inc('k1'));
    const snapshot = JSON.parse(JSON.stringify(base.toJSON()));
    const indexed = UsageLedger.fromJSON(snapshot);
    indexed.filesReporting('k0'); // builds its key maps
    const kept = UsageLedger.fromJSON(JSON.parse(JSON.stringify(snapshot)));
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
    // Neither renumbered a slot (positions in them stay valid).
    expect(kept.incrementsEnd.layout).toBe(0);
    expect(indexed.incrementsEnd.layout).toBe(0);
    expect(kept.recordedChanges!.map((c) => (c.kind === 'add' ? `${c.file} ${c.increment.key}` : c.kind))).toEqual(['/d k1', '/a k9', '/b k10', '/d k10', '/a k0']);
    // A removal takes slots out of both, indexed or not; both go on alike.
    kept.removeFile('/d');
    indexed.removeFile('/d');
    kept.add('/e', inc('k11'));
    indexed.add('/e', inc('k11'));
    same();
    expect([...kept.filesReporting('k10')!]).toEqual(['/b']);
  });
});

describe('a ledger loaded from a state file (its increments in columns, not yet indexed)', () => {
  /** Everything a ledger answers: its increments in order with their reporters, each view, counts, and (asked last: it indexes) what files report. */
  const answers = (l: UsageLedger, keys: string[]): unknown => {
    const views: unknown[] = [];
    l.forEachIncrement((v) => views.push({ ...v, buckets: { ...v.buckets } }));
    return {
      snapshot: plainState({ version: SCAN_STATE_VERSION, savedAt: '', files: {}, ledger: l.toJSON() }),
      views,
      count: l.incrementCount,
      reporting: keys.map((k) => [...(l.filesReporting(k) ?? [])].sort()),
    };
  };

  for (const indexFirst of [false, true]) {
    it(`answers, after random adds, reports again and removals (more than enough to compact), as the ledger it was saved from${indexFirst ? ', its key maps built first' : ''}`, () => {
      let compacted = 0;
      for (let seed = 1; seed <= 6; seed += 1) {
        const rand = random(100 + seed);
        const live = new UsageLedger();
        const files = Array.from({ length: 12 }, (_, i) => `/h/f${i}.jsonl`);
        const key = (): string => `${rand() < 0.9 ? 's' : 'odd'}:${rand() < 0.9 ? `T${Math.floor(rand() * 5)}` : 'x'}:${Math.floor(rand() * 3000)}`;
        const incOf = (k: string): UsageIncrement => {
          const thread = /^s:(T\d)/.exec(k)?.[1] ?? 'unknown:/h/$&.jsonl';
          return { key: k, threadId: thread, timestamp: '2026-11-20T10:00:00.000Z', buckets: { uncachedInput: k.length, cachedInput: 1, cacheWriteInput: 0, output: 2, reasoningOutput: 1 }, source: 'snapshot', ...(rand() < 0.5 ? { raw: { input_tokens: k.length + 1, output_tokens: 2 } } : {}) };
        };
        for (let n = 0; n < 2500; n += 1) live.add(files[Math.floor(rand() * files.length)]!, incOf(key()));
        const stored = JSON.parse(JSON.stringify(encodeScanState({ version: SCAN_STATE_VERSION, savedAt: 'now', files: {}, ledger: live.toJSON() })));
        const loaded = UsageLedger.fromJSON(decodeScanState(stored).ledger);
        if (indexFirst) loaded.filesReporting('none');
        const keys = [...live.allIncrements()].map((i) => i.key).slice(0, 50);
        expect(answers(loaded, []), `seed ${seed}, loaded`).toEqual(answers(live, []));
        live.recordChanges();
        loaded.recordChanges();
        for (let step = 0; step < 60; step += 1) {
          const file = files[Math.floor(rand() * files.length)]!;
          if (rand() < 0.15) {
            const before = loaded.incrementsEnd.next;
            live.removeFile(file);
            loaded.removeFile(file);
            if (loaded.incrementsEnd.next < before) compacted += 1;
          } else {
            for (let n = 0; n < 20; n += 1) {
              const k = rand() < 0.5 && keys.length > 0 ? keys[Math.floor(rand() * keys.length)]! : key();
              const inc = incOf(k);
              expect(loaded.add(file, inc), `seed ${seed} step ${step} ${k}`).toBe(live.add(file, inc));
            }
          }
          expect(loaded.recordedChanges, `seed ${seed} step ${step}`).toEqual(live.recordedChanges);
        }
        expect(answers(loaded, keys), `seed ${seed}, after the changes`).toEqual(answers(live, keys));
      }
      // The store was compacted (its dead slots dropped) at least once, indexed or not.
      expect(compacted).toBeGreaterThan(0);
    });
  }
});
