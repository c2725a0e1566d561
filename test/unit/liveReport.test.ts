import { describe, expect, it } from 'vitest';
import { UsageLedger } from '../../src/core/ledger.js';
import { LiveCells } from '../../src/core/liveCells.js';
import { LiveReport } from '../../src/core/liveReport.js';
import { type CellGrouping, type CellOptions, collectCells, reportFromCells } from '../../src/core/reports.js';
import { CountingPricer, fileOf, increment, info, random } from './helpers/randomLedger.js';

const projectOf = (cwd: string | undefined): string | undefined => (cwd === undefined ? undefined : cwd.replace(/\/t?\d+$/, '') || cwd);
const groupings: CellGrouping[] = [
  { projectOf },
  {},
  { projectOf, agentId: 'originator:exec' },
  { projectOf, model: 'm-b' },
  { projectOf, project: '/p' },
];

describe('LiveReport', () => {
  it('gives what reportFromCells gives, to the last bit, as the cells grow, thread by thread, in any place, and are summed again', () => {
    for (const seed of [11, 12, 13]) {
      const rand = random(seed);
      const ledger = new UsageLedger();
      for (let t = 0; t < 30; t += 1) ledger.setThread(info(t, t % 3 ? 'codex' : 'exec', `/p/t${t}`));
      const pricer = new CountingPricer();
      const windows: CellOptions[] = [{ timeZone: 'Europe/Berlin', pricer }, { timeZone: 'UTC', pricer, since: new Date('2026-11-05T00:00:00Z'), until: new Date('2026-11-25T00:00:00Z') }];
      const views = windows.map((o) => new LiveCells(ledger, o));
      // Checkpoints every 1, 4 and 7 threads; each report's own object for each view and grouping.
      const reports = views.map(() => groupings.map((g) => [1, 4, 7].map((every) => new LiveReport(g, every))));
      let n = 0;
      for (let step = 0; step < 50; step += 1) {
        const r = rand();
        if (r < 0.5) {
          // Mostly to late threads (and new ones: T30…T39 have no session_meta), sometimes to early ones.
          for (let k = 0, count = 1 + Math.floor(rand() * 4); k < count; k += 1) {
            const thread = rand() < 0.8 ? 20 + Math.floor(rand() * 20) : Math.floor(rand() * 20);
            ledger.add(fileOf(thread), increment(rand, n++, thread));
          }
        } else if (r < 0.6) {
          ledger.removeFile(fileOf(Math.floor(rand() * 40)));
        } else if (r < 0.67) {
          const t = Math.floor(rand() * 40);
          ledger.setThread(info(t, rand() < 0.5 ? 'codex' : 'exec', `/p/moved${step}`));
        } else if (r < 0.72) {
          ledger.noteRateLimits({ observedAt: `2026-11-30T00:00:${String(step).padStart(2, '0')}.000Z`, primary: { usedPercent: step, windowMinutes: 300 } });
        }
        // r ≥ 0.72: nothing changed.
        views.forEach((view, v) => {
          const cells = view.current();
          const fresh = collectCells(ledger, windows[v]!);
          groupings.forEach((grouping, g) => {
            const expected = reportFromCells(fresh, grouping);
            for (const live of reports[v]![g]!) expect(live.report(cells), `seed ${seed}, step ${step}, view ${v}, grouping ${g}`).toEqual(expected);
          });
        });
      }
    }
  });

  it('sums again only from the checkpoint before the first thread that changed', () => {
    const ledger = new UsageLedger();
    const rand = random(7);
    let n = 0;
    for (let t = 0; t < 40; t += 1) {
      ledger.setThread(info(t, 'codex', `/p/t${t}`));
      ledger.add(fileOf(t), increment(rand, n++, t));
    }
    const view = new LiveCells(ledger, { timeZone: 'UTC', pricer: new CountingPricer() });
    const live = new LiveReport({ projectOf }, 8);
    live.report(view.current());
    expect(live.lastSummed).toBe(40);
    // A response to the last thread but one: from the checkpoint at thread 32.
    ledger.add(fileOf(38), increment(rand, n++, 38));
    expect(live.report(view.current())).toEqual(reportFromCells(collectCells(ledger, view.options), { projectOf }));
    expect(live.lastSummed).toBe(8);
    // A new thread: from the last checkpoint (32); one is made before the new thread (40) on the way.
    ledger.setThread(info(40, 'codex', '/p/t40'));
    ledger.add(fileOf(40), increment(rand, n++, 40));
    live.report(view.current());
    expect(live.lastSummed).toBe(9);
    // Nothing new: the last checkpoint's threads again.
    expect(live.report(view.current())).toEqual(reportFromCells(collectCells(ledger, view.options), { projectOf }));
    expect(live.lastSummed).toBe(1);
    // A response to a thread's cell it has already (no new cell): from the checkpoint before it.
    const again = increment(random(7), 0, 0);
    ledger.add(fileOf(0), { ...again, key: 'again' });
    expect(view.current().threads[0]!.cells).toHaveLength(1);
    expect(live.report(view.current())).toEqual(reportFromCells(collectCells(ledger, view.options), { projectOf }));
    expect(live.lastSummed).toBe(41);
    // A response to the first thread: all of them.
    ledger.add(fileOf(0), increment(rand, n++, 0));
    expect(live.report(view.current())).toEqual(reportFromCells(collectCells(ledger, view.options), { projectOf }));
    expect(live.lastSummed).toBe(41);
  });

  it('is what the token panel sums on from, per view and grouping (LiveCells.report)', () => {
    const ledger = new UsageLedger();
    const rand = random(9);
    for (let t = 0; t < 5; t += 1) ledger.setThread(info(t, t % 2 ? 'exec' : 'codex', `/p/t${t}`));
    for (let n = 0; n < 40; n += 1) ledger.add(fileOf(n % 6), increment(rand, n, n % 6));
    const view = new LiveCells(ledger, { timeZone: 'UTC', pricer: new CountingPricer() });
    for (let n = 40; n < 60; n += 1) {
      for (const grouping of groupings) expect(view.report(grouping)).toEqual(reportFromCells(collectCells(ledger, view.options), grouping));
      ledger.add(fileOf(n % 6), increment(rand, n, n % 6));
    }
  });
});
