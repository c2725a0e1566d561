import { join } from 'node:path';
import { type CacheKey } from '../core/cacheStamp.js';
import { cellsOfDays } from '../core/dayCells.js';
import { type Logger } from '../core/logger.js';
import { ProjectResolver } from '../core/projects.js';
import { REPORT_CACHE_FILE, ReportCacheStore, type ScanFacts } from '../core/reportCache.js';
import { reportFromCells } from '../core/reports.js';
import { isLocalMidnight, usableTimeZone } from '../core/timeZones.js';
import { type BudgetCommandInput } from './budgetCommand.js';
import { type Invocation } from './invocation.js';
import { type CliIo, stderrLogger } from './io.js';
import { type CliDiagnostics, printReport } from './reportOutput.js';

/** The scan state's file in a --state folder. */
export const STATE_FILE = 'scan-state.json';

/**
 * The report cache of a run that may use one: any command with a --state folder, from a build that
 * has an identity. It holds the cells of all time: a report for a period of whole local days (--since
 * and --until as days) or the budget's period is taken from them; a period that starts or ends at
 * another time of day is read in full.
 */
export function reportCacheOf(inv: Invocation, io: CliIo, logger: Logger): { store: ReportCacheStore; key: CacheKey } | undefined {
  const { args } = inv;
  if (!args.stateDir || !io.reportCacheBuild) return undefined;
  const store = new ReportCacheStore(join(args.stateDir, REPORT_CACHE_FILE), join(args.stateDir, STATE_FILE), logger);
  return { store, key: { build: io.reportCacheBuild, timeZone: inv.timeZone, roots: inv.roots } };
}

/** What `threads --json` says it read: what a full run that finds nothing new says. */
export function diagnosticsOf(facts: Pick<ScanFacts, 'counters' | 'estimatedThreads' | 'trackedFiles'>, unreadableFiles: number, bytesRead: number): CliDiagnostics {
  return { ...facts.counters, estimatedThreads: facts.estimatedThreads, unreadableFiles, files: facts.trackedFiles, bytesRead };
}

/**
 * Prints the report from the report cache when it is current (nothing new in any rollout since the
 * last full run) and returns the exit code; undefined when the full run is needed. Only the report
 * cache, the rollout folders and their files' metadata are read: neither the scan state nor the
 * scanner and price data are loaded.
 */
export async function runFromReportCache(inv: Invocation, io: CliIo): Promise<number | undefined> {
  const logger = stderrLogger(io, inv.args.verbose);
  const cache = reportCacheOf(inv, io, logger);
  if (!cache) return undefined;
  // A period that is not whole local days is summed from the state (checked before the cache is read).
  if (!isLocalMidnight(inv.since, inv.timeZone) || !isLocalMidnight(inv.until, inv.timeZone)) return undefined;
  const found = await cache.store.lookup(cache.key);
  if (!found.hit) return undefined;
  const { facts } = found;
  const { command, json } = inv.args;
  if (command === 'budget') {
    logger.info(`Nothing new in the ${facts.trackedFiles} rollout file(s) since the last run; the budget's figures come from ${cache.store.path}.`);
    // Loaded here: the budget's configuration code (its TOML parser and schemas) costs a report
    // command ~15 ms to set up, were it imported at the top.
    const { budgetUsageOf, runBudgetCommand } = await import('./budgetCommand.js');
    // The budget's period is whole local days (periodWindow, without a reset), which the cells of
    // all time hold day by day; were it not, the full run would answer.
    const usageFor: BudgetCommandInput['usageFor'] = (period) => {
      const cells = cellsOfDays(found.cells, period.start, period.end);
      return cells && budgetUsageOf(cells);
    };
    return runBudgetCommand({ args: inv.args, io, codexHomes: inv.codexHomes, usageFor, timeZone: usableTimeZone(inv.timeZone), warnings: facts.warnings, badLines: facts.counters.badLines, now: new Date() });
  }
  const cells = cellsOfDays(found.cells, inv.since, inv.until);
  if (!cells) return undefined;
  logger.info(`Nothing new in the ${facts.trackedFiles} rollout file(s) since the last run; the report comes from ${cache.store.path}.`);
  const report = reportFromCells(cells, { projectOf: new ProjectResolver().projectOf });
  return printReport(command, json, report, facts.warnings, diagnosticsOf(facts, 0, 0), facts.counters.badLines, io);
}
