import { type IncrementPosition, type UsageLedger } from './ledger.js';
import { LiveReport } from './liveReport.js';
import { CellCollector, type CellGrouping, type CellOptions, type ReportCells, type UsageReport } from './reports.js';

/** Reports kept at most per view: the token panel's, unfiltered and filtered, and one more. */
const REPORT_LIMIT = 3;

/**
 * A ledger's cells for one period, time zone and price book, kept up to date as the ledger grows:
 * each `current()` sums only the increments added since the one before, so the watching process's
 * meter and panel cost work in proportion to what Codex wrote, not to the home (a 10 GB home holds
 * ~380,000 increments). The cells are summed again from the start only when the ledger changed in
 * another way: increments taken out (a file deleted, replaced or truncated), slots renumbered, the
 * loaded state indexed, or the metadata of a thread already summed replaced. Increments are summed
 * in the ledger's order either way, so the figures are the ones collectCells gives, to the last bit.
 */
export class LiveCells {
  private collector!: CellCollector;
  private position!: IncrementPosition;
  private threadRevision = -1;
  /** How many times the cells were summed from the start (the first time included; none for a view made by `continuing` until it has to). */
  fullSums = 0;
  /** The reports of these cells last asked for, most recent first (report). */
  private reports: LiveReport[] = [];

  /** A view of the cells summed from the start, or going on from `from`: a collector of the ledger as it is now. */
  constructor(readonly ledger: UsageLedger, readonly options: CellOptions, from?: CellCollector) {
    if (!from) {
      this.sumAll();
      return;
    }
    this.collector = from;
    this.threadRevision = ledger.threadRevision;
    this.position = ledger.incrementsEnd;
  }

  /**
   * A view that goes on from `cells`, collectCells(ledger, options) of the ledger as it is now, for
   * all time (the CLI's report cache, written beside the state the ledger was loaded from; see
   * CellCollector.continuing); undefined for cells it cannot go on from.
   */
  static continuing(ledger: UsageLedger, options: CellOptions, cells: ReportCells): LiveCells | undefined {
    const collector = CellCollector.continuing(ledger, options, cells);
    return collector && new LiveCells(ledger, options, collector);
  }

  /**
   * Whether current() would give the cells it gave last (or was made with) without summing
   * anything: no increment added since, none taken out, no thread's metadata replaced. It then
   * prices nothing either.
   */
  get upToDate(): boolean {
    const ledger = this.ledger;
    if (ledger.threadRevision !== this.threadRevision && !this.collector.threadsUnchanged()) return false;
    const end = ledger.incrementsEnd;
    return end.layout === this.position.layout && end.next === this.position.next;
  }

  /** The cells as the ledger is now. They are this view's own: read them before the next call. */
  current(): ReportCells {
    const ledger = this.ledger;
    if (ledger.threadRevision !== this.threadRevision) {
      if (!this.collector.threadsUnchanged()) this.sumAll();
      this.threadRevision = ledger.threadRevision;
    }
    const end = ledger.forEachIncrementFrom(this.position, this.collector.add);
    if (end) this.position = end;
    else this.sumAll();
    return this.collector.cells();
  }

  /**
   * reportFromCells(current(), grouping), summed on from the last report of this view for the same
   * grouping (LiveReport): its rows are the view's, to read before the next call.
   */
  report(grouping: CellGrouping): UsageReport {
    const cells = this.current();
    const at = this.reports.findIndex((r) => r.isFor(grouping));
    const live = at === -1 ? new LiveReport(grouping) : this.reports.splice(at, 1)[0]!;
    this.reports.unshift(live);
    if (this.reports.length > REPORT_LIMIT) this.reports.length = REPORT_LIMIT;
    return live.report(cells);
  }

  private sumAll(): void {
    this.collector = new CellCollector(this.ledger, this.options);
    this.threadRevision = this.ledger.threadRevision;
    this.ledger.forEachIncrement(this.collector.add);
    this.position = this.ledger.incrementsEnd;
    this.fullSums += 1;
  }
}

/** Views kept at most: the meter's period, the panel's, the budget's, and one more. */
const VIEW_LIMIT = 4;

/**
 * The LiveCells of the periods last asked for, most recent first: a request for a period, time zone,
 * price book and ledger seen before reads on from where its view stopped; any other makes a view.
 */
export class LiveCellViews {
  private views: LiveCells[] = [];

  constructor(private readonly limit = VIEW_LIMIT) {}

  cells(ledger: UsageLedger, options: CellOptions): ReportCells {
    return this.view(ledger, options).current();
  }

  /** reportFromCells of the cells for `options`, summed on from the last report for the same grouping (LiveCells.report). */
  report(ledger: UsageLedger, options: CellOptions & CellGrouping): UsageReport {
    return this.view(ledger, options).report(options);
  }

  private view(ledger: UsageLedger, options: CellOptions): LiveCells {
    const since = options.since?.getTime();
    const until = options.until?.getTime();
    const at = this.views.findIndex((v) =>
      v.ledger === ledger && v.options.pricer === options.pricer && v.options.timeZone === options.timeZone
      && v.options.since?.getTime() === since && v.options.until?.getTime() === until);
    const view = at === -1 ? new LiveCells(ledger, options) : this.views[at]!;
    if (at !== -1) this.views.splice(at, 1);
    this.views.unshift(view);
    if (this.views.length > this.limit) this.views.length = this.limit;
    return view;
  }

  /** Drops every view (the ledger or the prices were replaced: the views would only hold them). */
  clear(): void {
    this.views = [];
  }
}
