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
import { isRolloutFileName } from '../core/discovery.js';
import { readerThreadOptions } from '../core/fileReadPool.js';
import { type Logger } from '../core/logger.js';
import { queryPanel } from '../core/panelQuery.js';
import { openPriceBook, type PriceBook } from '../core/pricing.js';
import { ProjectResolver } from '../core/projects.js';
import { LiveCellViews } from '../core/liveCells.js';
import { MeterCacheStore, meterCacheOf, type MeterSummary, meterSummaryOf } from '../core/meterCache.js';
import { summaryFromCells } from '../core/reports.js';
import { UsageScanner } from '../core/scanner.js';
import { ScanStateStore } from '../core/stateStore.js';
import { countTextTokens } from '../core/tokenizer.js';
import { WatchErrorReporter } from './watchErrors.js';
import { workerLogger } from './workerLog.js';
import { meterCacheKey } from './meterCacheKey.js';
import { type WorkerConfig, type WorkerMessage, type WorkerRequest } from './workerProtocol.js';

const port = parentPort!;
const post = (message: WorkerMessage): void => port.postMessage(message);
const logger: Logger = workerLogger(post);

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
 * The meter's figures of all time, beside the state (meterCache.ts): written after every save of
 * the state, shown by the host at once on the next start, and checked by lastSessionCheck.ts before
 * this module is loaded.
 */
const meterCache = MeterCacheStore.beside(config.statePath, logger);
/** Whether the meter cache was current when this worker started (then a first scan that finds nothing new leaves it); set by begin(). */
let meterCacheWasCurrent = false;
/** Folders the last pass over the roots could not read (no meter cache is written while there are any). */
let folderProblems = 0;
/**
 * Reader threads for a cold scan of many files, started from dist/scanReader.js beside this bundle
 * (see readerEntry.ts); two cores are kept free, this thread's and the editor's.
 */
const readerOptions = readerThreadOptions(join(__dirname, 'scanReader.js'), 2);

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
    void serial(saveWithMeterCache);
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

/**
 * Saves what changed and, when that succeeded, writes the meter cache for it. After every save, not
 * only the last: the cache stays current even when the worker is never told to stop (VS Code killed,
 * or its server stopped); a few ms from the live cells of all time.
 */
async function saveWithMeterCache(): Promise<void> {
  if (await saveNow()) writeMeterCache();
}

/**
 * Writes the meter cache for the state as it is on disk now (call it right after a save that
 * succeeded). Not written while some file or folder cannot be read, so the next start reads them again.
 */
function writeMeterCache(): void {
  const key = meterCacheKey(config);
  const current = scanner;
  if (!key || !current || folderProblems > 0 || current.unreadableFiles.size > 0) return;
  const cells = views.cells(current.ledger, { timeZone: config.timeZone, pricer });
  meterCache.save(key, current.filesStamp(), meterCacheOf(cells, current.counters().badLines, current.trackedFiles));
}

async function initialScan(initial: boolean): Promise<void> {
  const started = Date.now();
  scanning = true;
  let loaded = false;
  if (!scanner) {
    const state = await store.load();
    loaded = state !== undefined;
    scanner = new UsageScanner({ roots: config.roots, logger, countTokens: countTextTokens, ...readerOptions }, state);
    logger.info(state ? `Loaded the scan state (${Object.keys(state.files).length} files${state.journal ? `, and ${state.journal.length} saves from its journal` : ''}) from ${config.statePath}.` : 'No usable scan state: reading every rollout from the start.');
  }
  // With the meter cache current at the start, every rollout was then as this state records it
  // (lastSessionCheck.ts listed and compared them all), so a pass now would read nothing: it is left
  // to the watcher's catch-up pass, once the watcher is ready, to read what changed since the check.
  const checked = initial && meterCacheWasCurrent && loaded;
  let lastProgress = 0;
  const summary = checked
    ? { files: scanner.trackedFiles, bytesRead: 0, newIncrements: 0, removedFiles: 0, problems: [] }
    : await scanner.scanAll((done, total) => {
      const now = Date.now();
      if (now - lastProgress > 200 || done === total) {
        lastProgress = now;
        post({ type: 'progress', done, total });
      }
    });
  scanning = false;
  const cacheWasCurrent = meterCacheWasCurrent;
  meterCacheWasCurrent = false;
  folderProblems = summary.problems.length;
  for (const p of summary.problems) logger.warn(`${p.path}: ${p.reason}`);
  const millis = Date.now() - started;
  logger.info(`Scanned ${summary.files} rollout files under ${config.roots.join(', ')}${checked ? ' (each checked at the start against the last session\'s meter cache)' : ''}: read ${summary.bytesRead} new bytes, ${summary.newIncrements} new responses, in ${millis} ms.`);
  post({ type: 'scanned', files: summary.files, bytesRead: summary.bytesRead, newIncrements: summary.newIncrements, millis, initial });
  const changed = summary.bytesRead > 0 || summary.removedFiles > 0 || !existsSync(config.statePath);
  const saved = changed ? await saveNow() : true;
  // A cache that was current stays so while nothing changed; otherwise one is written for this state.
  if (initial && saved && (changed || !cacheWasCurrent)) writeMeterCache();
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
  return meterSummaryOf(summaryFromCells(cells), scanner!.counters().badLines, scanner!.trackedFiles);
}

async function handle(request: WorkerRequest): Promise<unknown> {
  switch (request.type) {
    case 'meter':
      return serial(async () => (scanner ? meter(request.period, request.resetAt) : undefined));
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
      if (rootsChanged) {
        scanner = new UsageScanner({ roots, logger, countTokens: countTextTokens, ...readerOptions }, scanner?.toState());
        await startWatching();
        return serial(() => initialScan(false));
      }
      return undefined;
    }
    case 'flush':
      // The last save of a session, and the meter cache the next start shows at once.
      return serial(saveWithMeterCache);
  }
}

port.on('message', (request: WorkerRequest) => {
  handle(request).then(
    (value) => post({ type: 'reply', id: request.id, ok: true, value }),
    (err: unknown) => post({ type: 'reply', id: request.id, ok: false, error: err instanceof Error ? err.message : String(err) }),
  );
});

/**
 * Starts the worker's work: the price data, the watcher and the first scan. Called by
 * scanWorkerEntry.ts once it has checked the meter cache (`meterCacheWasCurrentAtStart`: it was).
 */
export function begin(meterCacheWasCurrentAtStart: boolean): void {
  meterCacheWasCurrent = meterCacheWasCurrentAtStart;
  void serial(async () => {
    pricer = await openPriceBook(config.priceOverrides);
    for (const p of pricer.problems) logger.warn(p.message);
    await startWatching();
    await initialScan(true);
  });
}
