import { join } from 'node:path';
import { PricerOnDemand } from '../core/pricing.js';
import { ProjectResolver } from '../core/projects.js';
import { cellsOfDays } from '../core/dayCells.js';
import { type CacheKey, type RolloutFilesNow, sameStoredState, storedStateOf, type StoredStamp } from '../core/cacheStamp.js';
import { type UsageLedger } from '../core/ledger.js';
import { type Logger } from '../core/logger.js';
import { type ReportCacheStore } from '../core/reportCache.js';
import { LiveCells } from '../core/liveCells.js';
import { type CellOptions, collectCells, type ReportCells, reportFromCells } from '../core/reports.js';
import { UsageScanner } from '../core/scanner.js';
import { ScanStateStore, SHORT_RUN_JOURNAL_LIMIT } from '../core/stateStore.js';
import { countTextTokens } from '../core/tokenizer.js';
import { usableTimeZone } from '../core/timeZones.js';
import { budgetUsageOf, runBudgetCommand } from './budgetCommand.js';
import { diagnosticsOf, reportCacheOf, STATE_FILE } from './cachedRun.js';
import { type Invocation } from './invocation.js';
import { type CliIo, stderrLogger } from './io.js';
import { type ScanReaders } from './readerStart.js';
import { PrintedOutputCache } from './printedOutputCache.js';
import { type CliWarning, printReport } from './reportOutput.js';

/**
 * Runs a command in full: loads the scan state (with --state), reads what is new in the rollouts,
 * saves the state when something changed, and prints. A report over the whole history also writes
 * the report cache (reportCache.ts) that lets the next run with nothing new skip all of this.
 * `rollouts`: the rollout files as the report cache's check saw them, which the scan goes on from.
 */
export async function runScan(inv: Invocation, io: CliIo, readers: ScanReaders, rollouts?: RolloutFilesNow): Promise<number> {
  const { args, since, until } = inv;
  // The cache's key keeps the invocation's zone: a cached run of the same invocation answers as this run does.
  const timeZone = usableTimeZone(inv.timeZone);
  const logger = stderrLogger(io, args.verbose);
  // Loaded at every run: a short journal (SHORT_RUN_JOURNAL_LIMIT), replayed by each.
  const store = args.stateDir ? new ScanStateStore(join(args.stateDir, STATE_FILE), logger, SHORT_RUN_JOURNAL_LIMIT) : undefined;
  const cache = reportCacheOf(inv, io, logger);
  // The state files as they are before and after loading them: the same, the ledger is the one they hold.
  const stateBefore = store && cache ? storedStateOf(store.path) : undefined;
  // Opened first without a state to load (on a cold run the reader threads are still starting:
  // readerStart.ts); with one, only once the scan found something to price (below).
  const pricer = new PricerOnDemand();
  if (!stateBefore) await pricer.load();
  const state = store ? await store.load() : undefined;
  const { started, ...readerOptions } = readers;
  const scanner = new UsageScanner({ roots: inv.roots, logger, countTokens: countTextTokens, ...readerOptions }, state);
  const cellOptions = { timeZone, pricer };
  const continued = state && stateBefore && sameStoredState(stateBefore, storedStateOf(store!.path)) ? continuingCells(scanner.ledger, cellOptions, cache!.store, cache!.key, stateBefore, logger) : undefined;
  const summary = await scanner.scanAll(undefined, await rollouts?.seen()).finally(() => started?.close());
  // Saved only when something changed: a warm run with nothing new reads and writes no state.
  const changed = !state || summary.bytesRead > 0 || summary.removedFiles > 0 || summary.newIncrements > 0;
  let stateSaved = store !== undefined;
  if (store && changed) {
    try {
      await store.saveChanges(scanner.takeChanges(), () => scanner.toState());
    } catch (err) {
      stateSaved = false;
      io.err(`codex-meter: could not save the state to ${store.path}: ${(err as Error).message}\n`);
    }
  }
  const projectOf = new ProjectResolver().projectOf;
  const warnings: CliWarning[] = [
    ...scanner.problems().map((p) => ({ file: p.file, line: p.line, reason: p.reason })),
    ...summary.problems.map((p) => ({ file: p.path, line: 0, reason: p.reason })),
  ];
  const counters = scanner.counters();
  const facts = { warnings, counters, estimatedThreads: scanner.estimatedThreads.size, trackedFiles: scanner.trackedFiles };
  // The cached cells as they are when the scan added nothing to sum (new lines without usage: a
  // message, a tool's output): nothing to price. Else the price book is opened first.
  const cellsAsLoaded = continued?.view.upToDate === true;
  if (cache && !cellsAsLoaded) await pricer.load();
  const allTime = cache ? (continued?.current() ?? collectCells(scanner.ledger, cellOptions)) : undefined;
  // The report cache holds the cells of all time: what any report of whole local days, or the budget
  // command, needs on the next run with nothing new (reportCacheOf). Written only when everything
  // could be read: the next run tries again, and says why.
  if (cache && allTime && stateSaved && summary.problems.length === 0 && scanner.unreadableFiles.size === 0) {
    cache.store.save({ key: cache.key, files: scanner.filesStamp(), cells: allTime, facts }, cellsAsLoaded);
    // What was printed from the cache before is of the state before.
    new PrintedOutputCache(args.stateDir!, cache.store.statePath, io.env, logger).clear();
  }
  // A period's cells: taken from those of all time when they were summed, as the next run answers it
  // from the cache; summed from the ledger (and priced) for a period that is not whole local days, or without them.
  const summed = (from: Date | undefined, to: Date | undefined): ReportCells => collectCells(scanner.ledger, { since: from, until: to, timeZone, pricer });
  if (args.command === 'budget') {
    // The budget's period is its command's to find.
    await pricer.load();
    const cellsOf = (from: Date | undefined, to: Date | undefined): ReportCells => (allTime && cellsOfDays(allTime, from, to)) || summed(from, to);
    const code = await runBudgetCommand({ args, io, codexHomes: inv.codexHomes, usageFor: (period) => budgetUsageOf(cellsOf(period.start, period.end)), timeZone, warnings, badLines: counters.badLines, now: new Date() });
    // Any period's cells can be summed from the ledger.
    return code!;
  }
  const periodCells = (allTime && cellsOfDays(allTime, since, until)) || undefined;
  if (!periodCells) await pricer.load();
  if (!pricer.loaded) logger.debug('The price book was not opened: the scan found nothing new to price.');
  const report = reportFromCells(periodCells ?? summed(since, until), { projectOf });
  return printReport(args.command, args.json, report, warnings, diagnosticsOf(facts, scanner.unreadableFiles.size, summary.bytesRead), counters.badLines, io);
}

/**
 * The cells of all time, summed on from the report cache's (written beside the state the ledger was
 * just loaded from) with only what the scan adds: after a few new lines, summing the ~38k increments
 * of a 1 GB home again was ~50 ms of the run. Made before the scan, called after it (its view tells
 * whether it would sum anything, and so price anything); undefined when there are no such cells. The view sums them all again itself (LiveCells) when the scan took
 * increments out or changed the metadata of a thread already summed.
 */
function continuingCells(
  ledger: UsageLedger, options: CellOptions, cache: ReportCacheStore, key: CacheKey, state: StoredStamp['state'], logger: Logger,
): { view: LiveCells; current: () => ReportCells } | undefined {
  const cells = cache.cellsOfState(key, state);
  const live = cells && LiveCells.continuing(ledger, options, cells);
  if (!live) return undefined;
  const from = ledger.incrementsEnd.next;
  const current = (): ReportCells => {
    const now = live.current();
    if (live.fullSums > 0) logger.debug('The cells of all time are summed again: the scan took increments out or changed the metadata of a thread.');
    else logger.debug(`The cells of all time are the report cache's, with the ${ledger.incrementsEnd.next - from} increment(s) added since.`);
    return now;
  };
  return { view: live, current };
}
