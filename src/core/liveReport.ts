import { addThreadToSums, copyReportSums, emptyReportSums, projectResolverOf, reportOfSums, type CellGrouping, type CellThread, type ReportCells, type ReportSums, type UsageReport } from './reports.js';

/** Threads between two copies of the sums a LiveReport keeps to go on from. */
const THREADS_PER_CHECKPOINT = 512;

/**
 * reportFromCells(cells, grouping) for cells that grow between calls (a LiveCells view's, which
 * keeps its threads and their cells and adds to them), summed again only from the first thread
 * whose cells changed: the threads before it keep their rows, and their sums are taken from a copy
 * made on the way (every THREADS_PER_CHECKPOINT threads). The sums are made in the same order as
 * reportFromCells makes them, so the report is the one it gives, to the last bit. After a change to
 * a thread summed late (a new session: a view adds its threads in the order their first increments
 * come), the token panel's All time view of a 10 GB home (25,199 threads, 43,709 cells) no longer
 * sums every cell again, nor makes a row for every thread.
 *
 * A thread's cells count as unchanged when they are the same array with as many cells and
 * responses as before: cells only grow (CellCollector adds a response to one each time), and a view
 * summed again from the start makes new threads. The report's rows are this object's: read them,
 * never change them.
 */
export class LiveReport {
  /** The threads summed, in order, with how many cells and responses each had then. */
  private readonly threads: CellThread[] = [];
  private readonly cellCounts: number[] = [];
  private readonly responseCounts: number[] = [];
  /** checkpoints[j]: the sums before thread j × threadsPerCheckpoint (without their thread rows), and how many thread rows there were then. */
  private readonly checkpoints: { sums: ReportSums; rowCount: number }[] = [];
  private sums = emptyReportSums();
  /** The thread rows before this one are finished: their costs rounded and their models sorted. */
  private finishedRows = 0;
  private period: string | undefined;
  private readonly grouping: CellGrouping;
  private readonly projectOf: (cwd: string | undefined) => string | undefined;
  /** Threads summed again by the last report (what the tests check). */
  lastSummed = 0;

  /** `grouping`: its project resolver and filters alone are kept. */
  constructor(grouping: CellGrouping, private readonly threadsPerCheckpoint = THREADS_PER_CHECKPOINT) {
    this.grouping = { projectOf: grouping.projectOf, agentId: grouping.agentId, model: grouping.model, project: grouping.project };
    this.projectOf = projectResolverOf(grouping);
  }

  /** Whether this is the report of `grouping`: the same project resolver and filters. */
  isFor(grouping: CellGrouping): boolean {
    const own = this.grouping;
    return own.projectOf === grouping.projectOf && own.agentId === grouping.agentId && own.model === grouping.model && own.project === grouping.project;
  }

  report(source: ReportCells): UsageReport {
    const period = `${source.timeZone}\u0000${source.since ?? ''}\u0000${source.until ?? ''}`;
    const same = period === this.period ? this.unchangedThreads(source.threads) : 0;
    this.period = period;
    const from = Math.min(Math.floor(same / this.threadsPerCheckpoint), this.checkpoints.length - 1);
    this.goOnFrom(Math.max(from, 0));
    const start = this.threads.length;
    for (let i = start; i < source.threads.length; i += 1) {
      // The thread rows stay in this.sums: those before a checkpoint are finished when it is gone on from.
      if (i % this.threadsPerCheckpoint === 0) this.checkpoints.push({ sums: copyReportSums(this.sums, [], 0), rowCount: this.sums.threadRows.length });
      const thread = source.threads[i]!;
      this.threads.push(thread);
      this.cellCounts.push(thread.cells.length);
      this.responseCounts.push(responsesOf(thread));
      addThreadToSums(this.sums, thread, this.grouping, this.projectOf);
    }
    this.lastSummed = source.threads.length - start;
    // The sums go on from a copy next time; these are the report's.
    const report = reportOfSums(source, this.sums, [...this.sums.threadRows], this.finishedRows);
    this.finishedRows = this.sums.threadRows.length;
    return report;
  }

  /** How many of `threads`, from the first, are the ones summed, with the cells they had then. */
  private unchangedThreads(threads: readonly CellThread[]): number {
    const n = Math.min(threads.length, this.threads.length);
    let i = 0;
    while (i < n && threads[i] === this.threads[i] && threads[i]!.cells.length === this.cellCounts[i] && responsesOf(threads[i]!) === this.responseCounts[i]) i += 1;
    return i;
  }

  /** Drops what was summed from the checkpoint `j` on, and goes on from a copy of its sums. */
  private goOnFrom(j: number): void {
    const checkpoint = this.checkpoints[j];
    const threads = j * this.threadsPerCheckpoint;
    this.threads.length = Math.min(this.threads.length, threads);
    this.cellCounts.length = this.threads.length;
    this.responseCounts.length = this.threads.length;
    if (!checkpoint) {
      this.sums = emptyReportSums();
      this.checkpoints.length = 0;
      this.finishedRows = 0;
      return;
    }
    this.sums = copyReportSums(checkpoint.sums, this.sums.threadRows, checkpoint.rowCount);
    this.checkpoints.length = j;
    this.finishedRows = Math.min(this.finishedRows, checkpoint.rowCount);
  }
}

function responsesOf(thread: CellThread): number {
  let n = 0;
  for (const cell of thread.cells) n += cell.responses;
  return n;
}
