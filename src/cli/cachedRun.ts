import { join } from 'node:path';
import { type CacheKey, type RolloutFilesNow } from '../core/cacheStamp.js';
import { cellsOfDays } from '../core/dayCells.js';
import { type Logger } from '../core/logger.js';
import { ProjectResolver } from '../core/projects.js';
import { REPORT_CACHE_FILE, ReportCacheStore, type ScanFacts } from '../core/reportCache.js';
import { reportFromCells } from '../core/reports.js';
import { isLocalMidnight, usableTimeZone } from '../core/timeZones.js';
import { type BudgetCommandInput } from './budgetCommand.js';
import { type Invocation } from './invocation.js';
import { type CliIo, stderrLogger } from './io.js';
import { type OutputInputs, PrintedOutputCache } from './printedOutputCache.js';
import { type CliDiagnostics, printReport } from './reportOutput.js';
import { readIfPresent } from '../core/textFiles.js';

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
 * scanner and price data are loaded. When the same command line was answered so before and all it
 * was made from is as it was, what it printed is printed again (printedOutputCache.ts) and the
 * report cache is not read either. `filesNow` is how the rollouts are seen: a full run that follows
 * goes on from what it found (SeenRollouts).
 */
export async function runFromReportCache(inv: Invocation, io: CliIo, filesNow: RolloutFilesNow): Promise<number | undefined> {
  const logger = stderrLogger(io, inv.args.verbose);
  const cache = reportCacheOf(inv, io, logger);
  if (!cache) return undefined;
  // A period that is not whole local days is summed from the state (checked before the cache is read).
  if (!isLocalMidnight(inv.since, inv.timeZone) || !isLocalMidnight(inv.until, inv.timeZone)) return undefined;
  const { command, json } = inv.args;
  const what = command === 'budget' ? 'the budget\'s figures come' : 'the report comes';
  const outputs = new PrintedOutputCache(inv.args.stateDir!, cache.store.statePath, io.env, logger);
  const commandLine = commandLineOf(inv);
  const printed = await outputs.lookup(commandLine, cache.key, filesNow, Date.now());
  if (printed && 'stale' in printed) {
    // The report cache is of the same stamp: not read (~7 ms on a 1 GB home, ~60 ms on 10 GB) to be found stale too.
    logger.debug(`Report cache not used: ${printed.stale}.`);
    return undefined;
  }
  if (printed) {
    logger.info(`Nothing new in the rollout files since the last run; ${what} from ${outputs.pathOf(commandLine)}, as printed then.`);
    if (printed.stderr) io.err(printed.stderr);
    if (io.outBytes) io.outBytes(printed.stdout);
    else io.out(printed.stdout.toString('utf8'));
    return printed.exitCode;
  }
  const found = await cache.store.lookup(cache.key, filesNow);
  if (!found.hit) return undefined;
  const { facts } = found;
  const inputs: OutputInputs = { projects: [], readFiles: [], env: [], from: null, until: null };
  const capture = capturingIo(io, inputs);
  let code: number | undefined;
  if (command === 'budget') {
    logger.info(`Nothing new in the ${facts.trackedFiles} rollout file(s) since the last run; ${what} from ${cache.store.path}.`);
    // Loaded here: the budget's configuration code (its TOML parser and schemas) costs a report
    // command ~15 ms to set up, were it imported at the top.
    const { budgetUsageOf, runBudgetCommand } = await import('./budgetCommand.js');
    // The budget's period is whole local days (periodWindow, without a reset), which the cells of
    // all time hold day by day; were it not, the full run would answer.
    const usageFor: BudgetCommandInput['usageFor'] = (period) => {
      inputs.from = period.start?.getTime() ?? null;
      inputs.until = period.end?.getTime() ?? null;
      const cells = cellsOfDays(found.cells, period.start, period.end);
      return cells && budgetUsageOf(cells);
    };
    const readText = async (path: string): Promise<string | undefined> => {
      const text = await readIfPresent(path);
      inputs.readFiles.push([path, text ?? null]);
      return text;
    };
    code = await runBudgetCommand({
      args: inv.args, io: capture.io, codexHomes: inv.codexHomes, usageFor, timeZone: usableTimeZone(inv.timeZone),
      warnings: facts.warnings, badLines: facts.counters.badLines, now: new Date(), readText,
    });
  } else {
    const cells = cellsOfDays(found.cells, inv.since, inv.until);
    if (!cells) return undefined;
    logger.info(`Nothing new in the ${facts.trackedFiles} rollout file(s) since the last run; ${what} from ${cache.store.path}.`);
    const resolver = new ProjectResolver();
    const projectOf = (cwd: string | undefined): string | undefined => {
      const project = resolver.projectOf(cwd);
      if (cwd) inputs.projects.push([cwd, project ?? null]);
      return project;
    };
    const report = reportFromCells(cells, { projectOf });
    code = printReport(command, json, report, facts.warnings, diagnosticsOf(facts, 0, 0), facts.counters.badLines, capture.io);
  }
  if (code !== undefined && !capture.listed()) outputs.save(commandLine, found.stamp, { ...inputs, projects: distinct(inputs.projects) }, { ...capture.printed(), exitCode: code });
  return code;
}

/** What tells one command line's output from another's, beyond the report cache's key (build, time zone, roots). */
function commandLineOf(inv: Invocation): string {
  const { command, json, workspace } = inv.args;
  return JSON.stringify([command, json, inv.since?.toISOString() ?? null, inv.until?.toISOString() ?? null, workspace ?? null, inv.codexHomes]);
}

/**
 * An io that prints through `io` and keeps what was printed; the environment variables read are
 * noted in `inputs`. An output made after the variables were listed (which no command does now)
 * could depend on any of them: it is not to be kept (`listed`).
 */
export function capturingIo(io: CliIo, inputs: OutputInputs): { io: CliIo; printed: () => { stdout: string; stderr: string }; listed: () => boolean } {
  let stdout = '';
  let stderr = '';
  let listed = false;
  const read = new Set<string>();
  const note = (name: string | symbol): void => {
    if (typeof name !== 'string' || read.has(name)) return;
    read.add(name);
    const value = io.env[name];
    inputs.env.push([name, typeof value === 'string' ? value : null]);
  };
  const env = new Proxy(io.env, {
    get(target, name) {
      note(name);
      return Reflect.get(target, name) as unknown;
    },
    has(target, name) {
      note(name);
      return Reflect.has(target, name);
    },
    ownKeys(target) {
      listed = true;
      return Reflect.ownKeys(target);
    },
  });
  return {
    // No outBytes: all that is printed goes through out and err, and is kept.
    io: { ...io, outBytes: undefined, env, out: (text) => { stdout += text; io.out(text); }, err: (text) => { stderr += text; io.err(text); } },
    printed: () => ({ stdout, stderr }),
    listed: () => listed,
  };
}

/** The pairs once each, in the order first seen. */
function distinct(pairs: [string, string | null][]): [string, string | null][] {
  return [...new Map(pairs)];
}
