import { type CellThread, type ReportCells } from './reports.js';
import { localDay, startOfLocalDay } from './timeZones.js';

/**
 * The cells of a period [since, until) made of whole local days, taken from the cells of a period
 * that covers it, in the same time zone (the report cache's, of all time): each cell holds one local
 * day, so the period's cells are the cells of its days, with the increments the period's own sum
 * would give them. Undefined when the period does not start and end at local midnights (a budget
 * period reset at some other time of day) or is not covered.
 *
 * Token figures are those of collectCells for the period, exactly; costs are summed over the threads
 * in another order, so they can differ from its sums in their last bits before reports round them.
 */
export function cellsOfDays(source: ReportCells, since: Date | undefined, until: Date | undefined): ReportCells | undefined {
  const timeZone = source.timeZone;
  if (!startsADay(since, timeZone) || !startsADay(until, timeZone)) return undefined;
  if (source.since !== undefined && (since === undefined || since.toISOString() < source.since)) return undefined;
  if (source.until !== undefined && (until === undefined || until.toISOString() > source.until)) return undefined;
  const first = since ? localDay(since, timeZone) : undefined;
  const end = until ? localDay(until, timeZone) : undefined;
  const threads: CellThread[] = [];
  for (const thread of source.threads) {
    const cells = thread.cells.filter((c) => (first === undefined || c.day >= first) && (end === undefined || c.day < end));
    if (cells.length > 0) threads.push({ ...thread, cells });
  }
  return { timeZone, since: since?.toISOString(), until: until?.toISOString(), threads, rateLimits: source.rateLimits };
}

/** Whether the instant is a local midnight (no bound at all counts as one). */
function startsADay(instant: Date | undefined, timeZone: string): boolean {
  return instant === undefined || startOfLocalDay(localDay(instant, timeZone), timeZone).getTime() === instant.getTime();
}
