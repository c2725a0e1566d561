import { type CellThread, type ReportCells } from './reports.js';
import { isLocalMidnight, localDay } from './timeZones.js';

/**
 * The cells of a period [since, until) made of whole local days, taken from the cells of all time in
 * the same time zone (the report cache's): each cell holds one local day, so the period's cells are
 * the cells of its days, with the increments the period's own sum would give them. Undefined when
 * the period does not start and end at local midnights (an ISO time given to --since, say).
 *
 * Token figures are those of collectCells for the period, exactly; costs are summed over the threads
 * in another order, so they can differ from its sums in their last bits before reports round them.
 */
export function cellsOfDays(source: ReportCells, since: Date | undefined, until: Date | undefined): ReportCells | undefined {
  const timeZone = source.timeZone;
  if (source.since !== undefined || source.until !== undefined) return undefined;
  if (!isLocalMidnight(since, timeZone) || !isLocalMidnight(until, timeZone)) return undefined;
  if (since === undefined && until === undefined) return source;
  const first = since ? localDay(since, timeZone) : undefined;
  const end = until ? localDay(until, timeZone) : undefined;
  const threads: CellThread[] = [];
  for (const thread of source.threads) {
    const cells = thread.cells.filter((c) => (first === undefined || c.day >= first) && (end === undefined || c.day < end));
    if (cells.length > 0) threads.push({ ...thread, cells });
  }
  return { timeZone, since: since?.toISOString(), until: until?.toISOString(), threads, rateLimits: source.rateLimits };
}
