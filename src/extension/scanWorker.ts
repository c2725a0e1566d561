/**
 * The scan worker: runs in a worker thread so that reading gigabytes of rollouts never blocks the
 * extension host. It owns the scanner, watches the roots with chokidar, reads appended bytes as they
 * arrive, persists its state (debounced, atomic) and answers the host's requests with small summaries.
 */
import { existsSync } from 'node:fs';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { type FSWatcher, watch } from 'chokidar';
import { periodWindow } from '../core/budget/index.js';
import { cellsOfDays } from '../core/dayCells.js';
import { isRolloutFileName } from '../core/discovery.js';
import { readerThreadOptions } from '../core/fileReadPool.js';
import { type Logger } from '../core/logger.js';
import { queryPanel } from '../core/panelQuery.js';
import { openPriceBook, type PriceBook } from '../core/pricing.js';
import { ProjectResolver } from '../core/projects.js';
import { LiveCellViews } from '../core/liveCells.js';
import { REPORT_CACHE_FILE, type ReportCacheKey, ReportCacheStore, type ScanFacts } from '../core/reportCache.js';
import { type CellsSummary, type ReportCells, summaryFromCells } from '../core/reports.js';
import { UsageScanner } from '../core/scanner.js';
import { ScanStateStore } from '../core/stateStore.js';
import { countTextTokens } from '../core/tokenizer.js';
import { WatchErrorReporter } from './watchErrors.js';
import { type MeterSummary, type WorkerConfig, type WorkerMessage, type WorkerRequest } from './workerProtocol.js';

/** The build's identity (esbuild.mjs), for the report cache; absent when this module runs unbundled. */
declare const CODEX_METER_BUILD: string | undefined;

const port = parentPort!;
const post = (message: WorkerMessage): void => port.postMessage(message);
const logger: Logger = {
  trace: (message) => post({ type: 'log', level: 'trace', message }),
  debug: (message) => post({ type: 'log', level: 'debug', message }),
  info: (message) => post({ type: 'log', level: 'info', message }),
  warn: (message) => post({ type: 'log', level: 'warn', message }),
  error: (message) => post({ type: 'log', level: 'error', message }),
};

let config = workerData as WorkerConfig;
/** Set before the first scan (the first piece of serial work), so every request that prices finds it. */
let pricer: PriceBook;
const projects = new ProjectResolver();
/** The meter's and the panel's cells, summed on from where they stopped after each change. */
const views = new LiveCellViews();
const store = new ScanStateStore(config.statePath, logger);
let scanner: UsageScanner | undefined;
let scanning = true;
let watcher: FSWatcher | undefined;
const pendingFiles = new Map<string, NodeJS.Timeout>();
let saveTimer: NodeJS.Timeout | undefined;
let catchUpTimer: NodeJS.Timeout | undefined;
let queue: Promise<unknown> = Promise.resolve();
/**
 * The figures of the last session, beside the state (reportCache.ts, as the CLI's): written when the
 * worker stops, so that a restart with nothing new shows them before the state is loaded.
 */
const reportCache = new ReportCacheStore(join(dirname(config.statePath), REPORT_CACHE_FILE), config.statePath, logger);
/** The report cache's cells and facts while the first scan runs, when nothing changed since they were written. */
let lastSession: { cells: ReportCells; facts: ScanFacts } | undefined;
/** Folders the last pass over the roots could not read (no report cache is written while there are any). */
let folderProblems = 0;
/**
 * Reader threads for a cold scan of many files, started from this same bundle (see scanWorkerEntry.ts);
 * two cores are kept free, this thread's and the editor's.
 */
const readerOptions = readerThreadOptions(__filename, 2);

/** Runs scanner work one piece at a time (reads and queries never interleave). */
function serial<T>(work: () => Promise<T>): Promise<T> {
  const next = queue.then(work, work);
  queue = next.catch(() => undefined);
  return next;
}

function scheduleSave(): void {
  if (saveTimer) clearTimeout(saveTimer);
  saveTimer = setTimeout(() => {
    saveTimer = undefined;
    void serial(saveNow);
  }, 500);
}

/** Saves what changed; true when the state on disk is now the scanner's. */
async function saveNow(): Promise<boolean> {
  const current = scanner;
  if (!current) return false;
  try {
    await store.saveChanges(current.takeChanges(), () => current.toState());
    return true;
  } catch (err) {
    logger.warn(`Could not save the scan state to ${config.statePath}: ${(err as Error).message}`);
    return false;
  }
}

/** What the report cache is valid for: this build, Node and ICU, the price overrides, the time zone and the roots. */
function reportCacheKey(): ReportCacheKey | undefined {
  if (typeof CODEX_METER_BUILD !== 'string') return undefined;
  const build = `${CODEX_METER_BUILD}; Node ${process.version}; tz ${process.versions.tz ?? 'unknown'}; price overrides ${JSON.stringify(config.priceOverrides)}`;
  return { build, timeZone: config.timeZone, roots: config.roots };
}

/**
 * Writes the report cache for the state as it is on disk now (call it right after a save that
 * succeeded): the all-time cells and the facts the meter shows. Not written while some file or
 * folder cannot be read, so the next start reads them again.
 */
function writeReportCache(): void {
  const key = reportCacheKey();
  const current = scanner;
  if (!key || !current || folderProblems > 0 || current.unreadableFiles.size > 0) return;
  const cells = views.cells(current.ledger, { timeZone: config.timeZone, pricer });
  const facts: ScanFacts = { warnings: [], counters: current.counters(), estimatedThreads: current.estimatedThreads.size, trackedFiles: current.trackedFiles };
  reportCache.save({ key, files: current.fileFingerprints(), cells, facts });
}

/**
 * On a start, before anything else (the price data, the watcher, the state): when the report cache
 * says no rollout changed since the last session wrote it, keeps its cells for the meter
 * (meterFromLastSession) and tells the host.
 */
async function useLastSession(): Promise<void> {
  const key = reportCacheKey();
  if (!key) return;
  const started = Date.now();
  const found = await reportCache.lookup(key);
  // Settings that changed meanwhile (the time zone, the prices, the roots) make it another cache.
  if (!found.hit || JSON.stringify(reportCacheKey()) !== JSON.stringify(key)) return;
  lastSession = { cells: found.cells, facts: found.facts };
  const millis = Date.now() - started;
  const sinceStart = config.startedAt === undefined ? '' : `, ${Date.now() - config.startedAt} ms after the worker was started`;
  logger.info(`Nothing new in the ${found.facts.trackedFiles} rollout files since the last session (checked in ${millis} ms${sinceStart}): the meter shows its figures while the scan state loads.`);
  post({ type: 'lastSession', files: found.facts.trackedFiles, millis });
}

async function initialScan(initial: boolean): Promise<void> {
  const started = Date.now();
  scanning = true;
  if (!scanner) {
    const state = await store.load();
    scanner = new UsageScanner({ roots: config.roots, logger, countTokens: countTextTokens, ...readerOptions }, state);
    logger.info(state ? `Loaded the scan state (${Object.keys(state.files).length} files${state.journal ? `, and ${state.journal.length} saves from its journal` : ''}) from ${config.statePath}.` : 'No usable scan state: reading every rollout from the start.');
  }
  let lastProgress = 0;
  const summary = await scanner.scanAll((done, total) => {
    const now = Date.now();
    if (now - lastProgress > 200 || done === total) {
      lastProgress = now;
      post({ type: 'progress', done, total });
    }
  });
  scanning = false;
  const cacheWasCurrent = lastSession !== undefined;
  lastSession = undefined;
  folderProblems = summary.problems.length;
  for (const p of summary.problems) logger.warn(`${p.path}: ${p.reason}`);
  const millis = Date.now() - started;
  logger.info(`Scanned ${summary.files} rollout files under ${config.roots.join(', ')}: read ${summary.bytesRead} new bytes, ${summary.newIncrements} new responses, in ${millis} ms.`);
  post({ type: 'scanned', files: summary.files, bytesRead: summary.bytesRead, newIncrements: summary.newIncrements, millis, initial });
  const changed = summary.bytesRead > 0 || summary.removedFiles > 0 || !existsSync(config.statePath);
  const saved = changed ? await saveNow() : true;
  // A cache that was current stays so while nothing changed; otherwise one is written for this state.
  if (initial && saved && (changed || !cacheWasCurrent)) writeReportCache();
}

/** Reads whatever changed since the last pass, and tells the host when usage moved. */
async function catchUp(): Promise<void> {
  if (!scanner) return;
  const summary = await scanner.scanAll();
  folderProblems = summary.problems.length;
  if (summary.bytesRead > 0 || summary.removedFiles > 0) {
    logger.info(`Caught up with ${summary.bytesRead} bytes the watcher had not reported (${summary.newIncrements} new responses).`);
    post({ type: 'changed', newIncrements: summary.newIncrements, bytesRead: summary.bytesRead });
    scheduleSave();
  }
}

/** Reads one file that changed (debounced per file) and tells the host when usage moved. */
function fileChanged(path: string): void {
  if (!isRolloutFileName(basename(path))) return;
  const existing = pendingFiles.get(path);
  if (existing) clearTimeout(existing);
  pendingFiles.set(path, setTimeout(() => {
    pendingFiles.delete(path);
    void serial(async () => {
      if (!scanner) return;
      const refresh = await scanner.refreshFile(path);
      if (refresh.bytesRead > 0 || refresh.removed || refresh.reset) {
        logger.debug(`${path}: read ${refresh.bytesRead} new bytes, ${refresh.newIncrements} new responses${refresh.reset ? ' (re-read from the start)' : ''}${refresh.removed ? ' (removed)' : ''}.`);
        post({ type: 'changed', newIncrements: refresh.newIncrements, bytesRead: refresh.bytesRead });
        scheduleSave();
      }
    });
  }, 30));
}

/** Watches each root's sessions/ and archived_sessions/; a root that does not exist yet is awaited. */
async function startWatching(): Promise<void> {
  await watcher?.close();
  const targets = new Set<string>();
  const awaited = new Set<string>();
  for (const root of config.roots.map((r) => resolve(r))) {
    // A root is a Codex home, or (an extra root) a folder of rollouts such as a sessions/ folder.
    const subs = /^(archived_)?sessions$/.test(basename(root)) ? [root] : [join(root, 'sessions'), join(root, 'archived_sessions')];
    for (const sub of subs) {
      if (existsSync(sub)) targets.add(sub);
      else awaited.add(sub);
    }
  }
  // For folders that do not exist yet, watch the nearest existing ancestor (shallowly) until they appear.
  const ancestors = new Set<string>();
  for (const path of awaited) {
    let dir = dirname(path);
    while (!existsSync(dir) && dirname(dir) !== dir) dir = dirname(dir);
    ancestors.add(dir);
  }
  const watchStarted = Date.now();
  const watchErrors = new WatchErrorReporter(logger);
  const isAwaitedPrefix = (p: string): boolean => [...awaited].some((a) => a === p || a.startsWith(p + sep) || p.startsWith(a + sep));
  watcher = watch([...targets, ...ancestors], {
    ignoreInitial: true,
    persistent: true,
    ignored: (path, stats) => {
      // Files are not watched one by one (an inotify watch each, and the system's limit is often
      // 8192): the watcher of their folder reports their changes, as raw events (below).
      if (stats?.isFile()) return true;
      if (ancestors.has(path) || targets.has(path)) return false;
      const underTarget = [...targets].some((t) => path.startsWith(t + sep));
      return !underTarget && !isAwaitedPrefix(path);
    },
  });
  watcher.on('ready', () => {
    logger.info(`Watching ${targets.size + ancestors.size} folders for new usage (ready after ${Date.now() - watchStarted} ms).`);
    const overLimit = watchErrors.summary();
    if (overLimit) logger.warn(overLimit);
    // The watcher sets itself up after the first scan, file by file: what was appended to a file
    // after the scan read it and before the watcher saw it would wait for the file's next change.
    // One more pass (a stat per file; only what grew is read) closes that gap.
    void serial(catchUp);
  });
  // A folder's watcher names the entry that changed: a rollout appended to, written, renamed or deleted.
  watcher.on('raw', (_event: string, name: string | null, details: unknown) => {
    const folder = (details as { watchedPath?: unknown } | undefined)?.watchedPath;
    if (typeof name === 'string' && name !== '' && typeof folder === 'string') fileChanged(join(folder, name));
  });
  watcher.on('addDir', (path) => {
    if (awaited.has(path)) {
      logger.info(`${path} appeared; watching it.`);
      awaited.delete(path);
      targets.add(path);
      watcher?.add(path);
      void serial(() => initialScan(false));
      return;
    }
    // A new folder (the next day's, say): rollouts written into it before its watcher was set up
    // raised no event; a pass shortly after (one for a burst of folders) reads them.
    if (catchUpTimer) clearTimeout(catchUpTimer);
    catchUpTimer = setTimeout(() => {
      catchUpTimer = undefined;
      void serial(catchUp);
    }, 200);
  });
  watcher.on('error', (err) => watchErrors.report(err as Error));
}

/** The budget period's instants now, in the configured time zone, from a reset the host sent as ISO text. */
function budgetWindow(period: Parameters<typeof periodWindow>[0], resetAt: string | undefined): ReturnType<typeof periodWindow> {
  return periodWindow(period, new Date(), config.timeZone, resetAt ? new Date(resetAt) : undefined);
}

function meter(period: Parameters<typeof periodWindow>[0], resetAt: string | undefined): MeterSummary {
  const window = budgetWindow(period, resetAt);
  const cells = views.cells(scanner!.ledger, { since: window.start, until: window.end, timeZone: config.timeZone, pricer });
  return meterSummary(summaryFromCells(cells), scanner!.counters().badLines, scanner!.trackedFiles);
}

/**
 * The meter from the last session's cells, while the first scan runs: undefined when there are
 * none, or the budget period does not start at a local midnight (reset at another time of day).
 */
function meterFromLastSession(period: Parameters<typeof periodWindow>[0], resetAt: string | undefined): MeterSummary | undefined {
  if (!lastSession) return undefined;
  const window = budgetWindow(period, resetAt);
  const cells = cellsOfDays(lastSession.cells, window.start, window.end);
  return cells ? meterSummary(summaryFromCells(cells), lastSession.facts.counters.badLines, lastSession.facts.trackedFiles) : undefined;
}

function meterSummary(summary: CellsSummary, badLines: number, files: number): MeterSummary {
  return {
    buckets: summary.totals.buckets,
    totalTokens: summary.totals.totalTokens,
    costUsd: summary.totals.costUsd,
    unpricedTokens: summary.totals.unpricedTokens,
    estimatedTokens: summary.totals.estimatedTokens,
    agents: summary.agents.map((a) => ({ agent: a.label, kind: a.kind, totalTokens: a.totalTokens })),
    rateLimits: summary.rateLimits,
    badLines,
    files,
  };
}

async function handle(request: WorkerRequest): Promise<unknown> {
  switch (request.type) {
    case 'meter':
      // Answered at once from the last session's figures while the first scan runs, when it can be.
      return meterFromLastSession(request.period, request.resetAt) ?? serial(async () => (scanner ? meter(request.period, request.resetAt) : undefined));
    case 'panel':
      return serial(async () => scanner ? queryPanel(request.filter, {
        scanner, pricer, timeZone: config.timeZone, now: new Date(), scanning, projectOf: projects.projectOf, views, ...(request.threadLimit === undefined ? {} : { threadLimit: request.threadLimit }),
        budget: request.budget ? { ...request.budget, resetAt: request.budget.resetAt ? new Date(request.budget.resetAt) : undefined } : undefined,
      }) : undefined);
    case 'rescan':
      return serial(() => initialScan(false));
    case 'configure': {
      const roots = [config.roots[0]!, ...request.extraRoots];
      const rootsChanged = roots.join('\n') !== config.roots.join('\n');
      config = { ...config, roots, priceOverrides: request.priceOverrides, timeZone: request.timeZone };
      pricer = await openPriceBook(config.priceOverrides);
      for (const p of pricer.problems) logger.warn(p.message);
      views.clear();
      lastSession = undefined;
      if (rootsChanged) {
        scanner = new UsageScanner({ roots, logger, countTokens: countTextTokens, ...readerOptions }, scanner?.toState());
        await startWatching();
        return serial(() => initialScan(false));
      }
      return undefined;
    }
    case 'flush':
      // The last save of a session, and the report cache the next start shows at once.
      return serial(async () => {
        if (await saveNow()) writeReportCache();
      });
  }
}

port.on('message', (request: WorkerRequest) => {
  handle(request).then(
    (value) => post({ type: 'reply', id: request.id, ok: true, value }),
    (err: unknown) => post({ type: 'reply', id: request.id, ok: false, error: err instanceof Error ? err.message : String(err) }),
  );
});

void serial(async () => {
  await useLastSession();
  pricer = await openPriceBook(config.priceOverrides);
  for (const p of pricer.problems) logger.warn(p.message);
  await startWatching();
  await initialScan(true);
});
