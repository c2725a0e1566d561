import { type UsageLedger } from './ledger.js';
import { type IncrementView, type RateLimitSnapshot, type ThreadInfo } from './ledgerTypes.js';
import { isoToEpochMs, localDayOf } from './timeZones.js';
import { addBuckets, cacheHitRate, emptyBuckets, type TokenBuckets, totalTokens } from './usage.js';
import { compareText } from './textOrder.js';

/** Prices one increment; `usd` is undefined for a model it does not know (never 0 for unknown). */
export interface Pricer {
  price(model: string | undefined, buckets: TokenBuckets, at: Date): { usd: number | undefined; known: boolean };
}

export interface ReportFilter {
  since?: Date;
  until?: Date;
  agentId?: string;
  model?: string;
  project?: string;
}

export interface ReportOptions extends ReportFilter {
  timeZone: string;
  pricer: Pricer;
  /** Maps a working directory to its project (e.g. the git root); defaults to the cwd itself. */
  projectOf?: (cwd: string | undefined) => string | undefined;
}

/** Usage summed over a group of increments. */
export interface UsageTotals {
  buckets: TokenBuckets;
  totalTokens: number;
  /** Sum over priced increments; undefined when nothing in the group could be priced. */
  costUsd: number | undefined;
  /** Tokens on models without a price (not included in costUsd). */
  unpricedTokens: number;
  /** Tokens that are estimates (files without usage). */
  estimatedTokens: number;
  responses: number;
  firstSeen: string | undefined;
  lastSeen: string | undefined;
}

export interface GroupRow extends UsageTotals {
  key: string;
  label: string;
}

export interface ThreadRow extends UsageTotals {
  threadId: string;
  parentThreadId: string | undefined;
  agentId: string;
  agent: string;
  agentKind: string;
  models: string[];
  project: string | undefined;
  cwd: string | undefined;
  estimated: boolean;
  archived: boolean;
}

export interface AgentRow extends GroupRow {
  kind: string;
  threads: number;
}

export interface UsageReport {
  timeZone: string;
  since: string | undefined;
  until: string | undefined;
  totals: UsageTotals;
  cacheHitRate: number | undefined;
  reasoningShare: number | undefined;
  threads: ThreadRow[];
  agents: AgentRow[];
  models: GroupRow[];
  projects: GroupRow[];
  days: GroupRow[];
  rateLimits: RateLimitSnapshot | undefined;
}

// Rows are written out as literals rather than spread from emptyTotals(): a spread into an object
// literal takes V8's slow generic path, and it ran for every thread and cell.
function emptyTotals(): UsageTotals {
  return { buckets: emptyBuckets(), totalTokens: 0, costUsd: undefined, unpricedTokens: 0, estimatedTokens: 0, responses: 0, firstSeen: undefined, lastSeen: undefined };
}

function emptyGroupRow(key: string, label: string): GroupRow {
  return { buckets: emptyBuckets(), totalTokens: 0, costUsd: undefined, unpricedTokens: 0, estimatedTokens: 0, responses: 0, firstSeen: undefined, lastSeen: undefined, key, label };
}

function accumulate(target: UsageTotals, inc: IncrementView, usd: number | undefined): void {
  addBuckets(target.buckets, inc.buckets);
  const tokens = totalTokens(inc.buckets);
  target.totalTokens += tokens;
  if (usd === undefined) target.unpricedTokens += tokens;
  else target.costUsd = (target.costUsd ?? 0) + usd;
  if (inc.source === 'estimate') target.estimatedTokens += tokens;
  target.responses += 1;
  if (target.firstSeen === undefined || inc.timestamp < target.firstSeen) target.firstSeen = inc.timestamp;
  if (target.lastSeen === undefined || inc.timestamp > target.lastSeen) target.lastSeen = inc.timestamp;
}

/**
 * A thread's usage on one model, local day and working directory: what every grouping of a report
 * is summed from. Projects are resolved from the cwd when the cells are grouped, so a set of cells
 * stays valid when a folder becomes a git repository (see reportCache.ts).
 */
export interface ReportCell extends UsageTotals {
  model: string;
  day: string;
  cwd: string | undefined;
  /** Some increment in the cell is an estimate (files without usage), even one of 0 tokens. */
  estimated: boolean;
}

/** The agent of a thread without session_meta. */
const UNKNOWN_AGENT = { id: 'unknown', name: 'Unknown', kind: 'unknown' };

/** One thread's cells, in the order their first increments came (the first gives the thread's cwd). */
export interface CellThread {
  threadId: string;
  parentThreadId: string | undefined;
  agent: { id: string; name: string; kind: string };
  archived: boolean;
  cells: ReportCell[];
}

/** A ledger summed into cells for one time zone and period, priced: the first half of buildReport. */
export interface ReportCells {
  timeZone: string;
  since: string | undefined;
  until: string | undefined;
  threads: CellThread[];
  rateLimits: RateLimitSnapshot | undefined;
}

/** The options of the cells' grouping: a project resolver and the agent, model and project filters. */
export interface CellGrouping {
  projectOf?: (cwd: string | undefined) => string | undefined;
  agentId?: string;
  model?: string;
  project?: string;
}

/**
 * Groups the ledger's increments by thread, agent, model, project and day, priced at each increment's date.
 * Each increment is added to one cell (its thread, model, day and cwd); the rows are sums of cells.
 */
export function buildReport(ledger: UsageLedger, options: ReportOptions): UsageReport {
  return reportFromCells(collectCells(ledger, options), options);
}

/** What cells are summed for: a period [since, until), the time zone of their days, and prices. */
export interface CellOptions {
  since?: Date;
  until?: Date;
  timeZone: string;
  pricer: Pricer;
}

/** Sums the ledger's increments in [since, until) into cells, priced at each increment's date. */
export function collectCells(ledger: UsageLedger, options: CellOptions): ReportCells {
  const collector = new CellCollector(ledger, options);
  ledger.forEachIncrement(collector.add);
  return collector.cells();
}

/** A thread's cells as they are being summed, with what summing the next increment needs. */
interface ThreadCells {
  thread: CellThread;
  /** The cell the thread's last increment went to. */
  last: ReportCell | undefined;
  /** The thread metadata the row was made from (ledger.thread when its first increment came). */
  info: ThreadInfo | undefined;
}

/**
 * Sums increments into cells one at a time, in the order they are given: collectCells gives it the
 * whole ledger, a LiveCells (liveCells.ts) what was added since it last looked.
 */
export class CellCollector {
  private readonly sinceIso: string | undefined;
  private readonly untilIso: string | undefined;
  private readonly rows = new Map<string, ThreadCells>();

  constructor(private readonly ledger: UsageLedger, private readonly options: CellOptions) {
    this.sinceIso = options.since?.toISOString();
    this.untilIso = options.until?.toISOString();
  }

  /**
   * A collector that goes on from `cells`: they must be collectCells(ledger, options) of the ledger
   * as it is now, for all time (the report cache's cells, written beside the state it was loaded
   * from). Given the increments added to the ledger since, in order, it gives the cells collectCells
   * would give then, to the last bit: each cell goes on from its stored sums in the same order of
   * additions, and new threads and cells come after the ones there. Each thread's row takes the
   * ledger's metadata as it is now (threadsUnchanged tells when that changed since). Undefined for
   * cells of a period or another time zone.
   */
  static continuing(ledger: UsageLedger, options: CellOptions, cells: ReportCells): CellCollector | undefined {
    if (options.since || options.until || cells.since !== undefined || cells.until !== undefined || cells.timeZone !== options.timeZone) return undefined;
    const collector = new CellCollector(ledger, options);
    for (const thread of cells.threads) collector.rows.set(thread.threadId, { thread, last: undefined, info: ledger.thread(thread.threadId) });
    return collector;
  }

  readonly add = (inc: IncrementView): void => {
    if (this.sinceIso !== undefined && inc.timestamp < this.sinceIso) return;
    if (this.untilIso !== undefined && inc.timestamp >= this.untilIso) return;
    let row = this.rows.get(inc.threadId);
    if (!row) {
      const info: ThreadInfo | undefined = this.ledger.thread(inc.threadId);
      row = {
        thread: {
          threadId: inc.threadId,
          parentThreadId: info?.parentThreadId,
          agent: info?.agent ?? UNKNOWN_AGENT,
          archived: info ? /[\\/]archived_sessions[\\/]/.test(info.file) : false,
          cells: [],
        },
        last: undefined,
        info,
      };
      this.rows.set(inc.threadId, row);
    }
    const cwd = inc.cwd ?? row.info?.cwd;
    const model = inc.model ?? 'unknown';
    const ms = isoToEpochMs(inc.timestamp);
    const usd = this.options.pricer.price(inc.model, inc.buckets, new Date(ms)).usd;
    const day = localDayOf(inc.timestamp, this.options.timeZone, ms);
    // A thread's increments mostly come in order, so the cell is nearly always the last one used.
    let cell = row.last;
    if (!cell || cell.model !== model || cell.day !== day || cell.cwd !== cwd) {
      const cells = row.thread.cells;
      cell = cells.find((c) => c.model === model && c.day === day && c.cwd === cwd);
      if (!cell) {
        cell = { buckets: emptyBuckets(), totalTokens: 0, costUsd: undefined, unpricedTokens: 0, estimatedTokens: 0, responses: 0, firstSeen: undefined, lastSeen: undefined, model, day, cwd, estimated: false };
        cells.push(cell);
      }
      row.last = cell;
    }
    accumulate(cell, inc, usd);
    if (inc.source === 'estimate') cell.estimated = true;
  };

  /** Whether every thread summed so far still has the metadata its row was made from. */
  threadsUnchanged(): boolean {
    for (const row of this.rows.values()) if (this.ledger.thread(row.thread.threadId) !== row.info) return false;
    return true;
  }

  /** The cells summed so far. They are the collector's own: read them before giving it more. */
  cells(): ReportCells {
    const threads: CellThread[] = [];
    for (const row of this.rows.values()) threads.push(row.thread);
    return { timeZone: this.options.timeZone, since: this.sinceIso, until: this.untilIso, threads, rateLimits: this.ledger.latestRateLimits };
  }
}

/** The report of a set of cells: rows per thread, agent, model, project and day, filtered by agent, model and project. */
export function reportFromCells(source: ReportCells, options: CellGrouping): UsageReport {
  const sums = emptyReportSums();
  const projectOf = projectResolverOf(options);
  for (const thread of source.threads) addThreadToSums(sums, thread, options, projectOf);
  return reportOfSums(source, sums, sums.threadRows, 0);
}

/** What reportFromCells has summed after some of the threads, in the order it sums them. */
export interface ReportSums {
  totals: UsageTotals;
  /** A row for each thread summed so far that has cells the filters keep, in the order of the threads. */
  threadRows: ThreadRow[];
  agents: Map<string, AgentRow>;
  models: Map<string, GroupRow>;
  projects: Map<string, GroupRow>;
  days: Map<string, GroupRow>;
}

export function emptyReportSums(): ReportSums {
  return { totals: emptyTotals(), threadRows: [], agents: new Map(), models: new Map(), projects: new Map(), days: new Map() };
}

/** The grouping's project resolver: the cwd itself without one. */
export function projectResolverOf(options: CellGrouping): (cwd: string | undefined) => string | undefined {
  return options.projectOf ?? ((cwd: string | undefined) => cwd);
}

/** Adds one thread's cells to `sums`, as reportFromCells does (what the filters leave out is skipped). */
export function addThreadToSums(sums: ReportSums, thread: CellThread, options: CellGrouping, projectOf: (cwd: string | undefined) => string | undefined): void {
  if (options.agentId !== undefined && thread.agent.id !== options.agentId) return;
  let row: ThreadRow | undefined;
  let agentRow: AgentRow | undefined;
  for (const cell of thread.cells) {
    if (options.model !== undefined && cell.model !== options.model) continue;
    const project = projectOf(cell.cwd);
    if (options.project !== undefined && project !== options.project) continue;
    if (!row) {
      row = {
        buckets: emptyBuckets(), totalTokens: 0, costUsd: undefined, unpricedTokens: 0, estimatedTokens: 0, responses: 0, firstSeen: undefined, lastSeen: undefined,
        threadId: thread.threadId,
        parentThreadId: thread.parentThreadId,
        agentId: thread.agent.id,
        agent: thread.agent.name,
        agentKind: thread.agent.kind,
        models: [],
        project,
        cwd: cell.cwd,
        estimated: false,
        archived: thread.archived,
      };
      sums.threadRows.push(row);
      agentRow = agentRowOf(sums.agents, thread);
      agentRow.threads += 1;
    }
    addTotals(row, cell);
    if (cell.estimated) row.estimated = true;
    if (!row.models.includes(cell.model)) row.models.push(cell.model);
    addTotals(agentRow!, cell);
    addTotals(sums.totals, cell);
    group(sums.models, cell.model, cell.model, cell);
    group(sums.projects, project ?? '(unknown)', project ?? '(unknown project)', cell);
    group(sums.days, cell.day, cell.day, cell);
  }
}

/**
 * The report of `sums` once every thread is summed: costs rounded, rows sorted. `threads` (the sums'
 * thread rows, or a copy) is sorted in place and becomes the report's; the thread rows before
 * `finishedRows` are taken as they are, their costs already rounded and their models sorted (a
 * LiveReport's, from an earlier report). The rows are the sums' own: the sums are not to be added to after.
 */
export function reportOfSums(source: ReportCells, sums: ReportSums, threads: ThreadRow[], finishedRows: number): UsageReport {
  const { totals, agents, models, projects, days } = sums;
  roundCosts([totals, ...agents.values(), ...models.values(), ...projects.values(), ...days.values()]);
  const rows = sums.threadRows;
  for (let i = finishedRows; i < rows.length; i += 1) {
    const row = rows[i]!;
    if (row.costUsd !== undefined) row.costUsd = roundCost(row.costUsd);
    row.models.sort();
  }
  return {
    timeZone: source.timeZone,
    since: source.since,
    until: source.until,
    totals,
    cacheHitRate: cacheHitRate(totals.buckets),
    reasoningShare: totals.buckets.output > 0 ? totals.buckets.reasoningOutput / totals.buckets.output : undefined,
    threads: threads.sort((a, b) => compareText(b.lastSeen ?? '', a.lastSeen ?? '') || compareText(a.threadId, b.threadId)),
    agents: [...agents.values()].sort(byTotal),
    models: [...models.values()].sort(byTotal),
    projects: [...projects.values()].sort(byTotal),
    days: [...days.values()].sort((a, b) => compareText(a.key, b.key)),
    rateLimits: source.rateLimits,
  };
}

/** A copy of `sums` to go on adding to, whose group rows are copies; its first `rowCount` thread rows are `rows`' (finished rows, shared). */
export function copyReportSums(sums: ReportSums, rows: ThreadRow[], rowCount: number): ReportSums {
  const copyMap = <T extends GroupRow>(map: Map<string, T>, copy: (row: T) => T): Map<string, T> => {
    const out = new Map<string, T>();
    for (const [key, row] of map) out.set(key, copy(row));
    return out;
  };
  return {
    totals: copyTotals(sums.totals),
    threadRows: rows.slice(0, rowCount),
    agents: copyMap(sums.agents, (a) => {
      const row = copyGroupRow(a) as AgentRow;
      row.kind = a.kind;
      row.threads = a.threads;
      return row;
    }),
    models: copyMap(sums.models, copyGroupRow),
    projects: copyMap(sums.projects, copyGroupRow),
    days: copyMap(sums.days, copyGroupRow),
  };
}

function copyTotals(t: UsageTotals): UsageTotals {
  return { buckets: { ...t.buckets }, totalTokens: t.totalTokens, costUsd: t.costUsd, unpricedTokens: t.unpricedTokens, estimatedTokens: t.estimatedTokens, responses: t.responses, firstSeen: t.firstSeen, lastSeen: t.lastSeen };
}

function copyGroupRow(g: GroupRow): GroupRow {
  return { buckets: { ...g.buckets }, totalTokens: g.totalTokens, costUsd: g.costUsd, unpricedTokens: g.unpricedTokens, estimatedTokens: g.estimatedTokens, responses: g.responses, firstSeen: g.firstSeen, lastSeen: g.lastSeen, key: g.key, label: g.label };
}

/** What the status bar's meter shows of a set of cells: their totals and agents, as reportFromCells gives them. */
export interface CellsSummary {
  totals: UsageTotals;
  agents: AgentRow[];
  rateLimits: RateLimitSnapshot | undefined;
}

/**
 * reportFromCells' totals and agents (unfiltered), without its rows per thread, model, project and
 * day: the same sums in the same order, so the same figures, for a fraction of the work.
 */
export function summaryFromCells(source: ReportCells): CellsSummary {
  const totals = emptyTotals();
  const agents = new Map<string, AgentRow>();
  for (const thread of source.threads) {
    if (thread.cells.length === 0) continue;
    const agentRow = agentRowOf(agents, thread);
    agentRow.threads += 1;
    for (const cell of thread.cells) {
      addTotals(agentRow, cell);
      addTotals(totals, cell);
    }
  }
  roundCosts([totals, ...agents.values()]);
  return { totals, agents: [...agents.values()].sort(byTotal), rateLimits: source.rateLimits };
}

function agentRowOf(agents: Map<string, AgentRow>, thread: CellThread): AgentRow {
  let row = agents.get(thread.agent.id);
  if (!row) agents.set(thread.agent.id, (row = { ...emptyGroupRow(thread.agent.id, thread.agent.name), kind: thread.agent.kind, threads: 0 }));
  return row;
}

/**
 * Sums of floating-point costs differ in their last bits with the order files were read in;
 * rounded to a billionth of a dollar, the same ledger always reports the same figures.
 */
export function roundCost(usd: number): number {
  return Math.round(usd * 1e9) / 1e9;
}

function roundCosts(rows: Iterable<UsageTotals>): void {
  for (const row of rows) if (row.costUsd !== undefined) row.costUsd = roundCost(row.costUsd);
}

function byTotal<T extends GroupRow>(a: T, b: T): number {
  return b.totalTokens - a.totalTokens || compareText(a.key, b.key);
}

/** The token and cost figures of a group (what the meter cache keeps per day and agent too). */
export type UsageFigures = Pick<UsageTotals, 'buckets' | 'totalTokens' | 'costUsd' | 'unpricedTokens' | 'estimatedTokens'>;

/** Adds one group's token and cost figures into another's (a cost stays undefined while nothing in either was priced). */
export function addFigures(target: UsageFigures, source: UsageFigures): void {
  addBuckets(target.buckets, source.buckets);
  target.totalTokens += source.totalTokens;
  if (source.costUsd !== undefined) target.costUsd = (target.costUsd ?? 0) + source.costUsd;
  target.unpricedTokens += source.unpricedTokens;
  target.estimatedTokens += source.estimatedTokens;
}

/** Adds one group's totals into another (costs stay undefined while nothing in either was priced). */
function addTotals(target: UsageTotals, source: UsageTotals): void {
  addFigures(target, source);
  target.responses += source.responses;
  if (source.firstSeen !== undefined && (target.firstSeen === undefined || source.firstSeen < target.firstSeen)) target.firstSeen = source.firstSeen;
  if (source.lastSeen !== undefined && (target.lastSeen === undefined || source.lastSeen > target.lastSeen)) target.lastSeen = source.lastSeen;
}

function group(map: Map<string, GroupRow>, key: string, label: string, cell: ReportCell): void {
  let row = map.get(key);
  if (!row) map.set(key, (row = emptyGroupRow(key, label)));
  addTotals(row, cell);
}

/** Total tokens of the increments in [since, until): the budget's figure, without grouping or pricing. */
export function totalTokensBetween(ledger: UsageLedger, since: Date | undefined, until?: Date): number {
  const from = since?.toISOString();
  const to = until?.toISOString();
  let sum = 0;
  ledger.forEachIncrement((inc) => {
    if (from !== undefined && inc.timestamp < from) return;
    if (to !== undefined && inc.timestamp >= to) return;
    sum += totalTokens(inc.buckets);
  });
  return sum;
}
