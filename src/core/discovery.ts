import { readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve, sep } from 'node:path';
import { type Logger } from './logger.js';
import { compareText } from './textOrder.js';

/** A rollout file found under one of the roots. */
export interface DiscoveredFile {
  path: string;
  archived: boolean;
  /** `.jsonl.zst`, written by Codex's optional compression of idle threads. */
  compressed: boolean;
}

export interface DiscoveryResult {
  files: DiscoveredFile[];
  /** Folders that could not be read (permission denied and the like), with the reason. */
  problems: { path: string; reason: string }[];
}

const ROLLOUT_NAME = /^rollout-.*\.jsonl(\.zst)?$/;

/** `$CODEX_HOME`, else `~/.codex`. */
export function defaultCodexHome(env: NodeJS.ProcessEnv = process.env, home: string = homedir()): string {
  const fromEnv = env.CODEX_HOME?.trim();
  return fromEnv ? resolve(fromEnv) : join(home, '.codex');
}

export function isRolloutFileName(name: string): boolean {
  return ROLLOUT_NAME.test(name);
}

/**
 * Finds rollout files under each root. A root is a Codex home (with `sessions/` and
 * `archived_sessions/`) or a folder that holds rollout files itself. Missing folders are not errors.
 */
export async function discoverRolloutFiles(roots: readonly string[], logger: Logger): Promise<DiscoveryResult> {
  const result: DiscoveryResult = { files: [], problems: [] };
  const seen = new Set<string>();
  for (const root of roots) {
    const absolute = resolve(root);
    // A root that cannot be read at all is one problem, named as such (not one per folder in it).
    const rootProblem = unreadableFolder(absolute);
    if (rootProblem === 'missing') {
      logger.debug(`No folder ${absolute}`);
      continue;
    }
    if (rootProblem) {
      result.problems.push({ path: absolute, reason: rootProblem });
      logger.warn(`Cannot read the folder ${absolute} (${rootProblem}); none of its rollouts are counted.`);
      continue;
    }
    const sessions = join(absolute, 'sessions');
    const archived = join(absolute, 'archived_sessions');
    const hasHomeLayout = (await walk(sessions, false, result, seen, logger)) | (await walk(archived, true, result, seen, logger));
    if (!hasHomeLayout) await walk(absolute, /archived_sessions/.test(absolute), result, seen, logger);
  }
  result.files.sort((a, b) => compareText(a.path, b.path));
  return result;
}

/** Why a folder cannot be listed ('missing' when it does not exist), or undefined when it can. */
function unreadableFolder(dir: string): string | undefined {
  try {
    readdirSync(dir);
    return undefined;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return 'missing';
    return `${code ?? 'error'}: ${(err as Error).message}`;
  }
}

/** Returns 1 when the folder existed. */
async function walk(dir: string, archived: boolean, result: DiscoveryResult, seen: Set<string>, logger: Logger): Promise<number> {
  let entries;
  try {
    // Synchronous, like the reads: queued behind a watcher's crawl on the thread pool, each folder
    // would otherwise wait its turn (seconds on a large home in the extension's scan worker).
    entries = readdirSync(dir, { withFileTypes: true });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      logger.debug(`No folder ${dir}`);
      return 0;
    }
    const reason = `${code ?? 'error'}: ${(err as Error).message}`;
    result.problems.push({ path: dir, reason });
    logger.warn(`Cannot read folder ${dir} (${reason}); its rollouts are not counted.`);
    return 1;
  }
  // `dir` is resolved (normalized), so joining is concatenation: path.join, which normalizes again,
  // was half the time of listing a 1 GB home (251 folders, 2,538 files).
  const prefix = dir.endsWith(sep) ? dir : dir + sep;
  for (const entry of entries) {
    const path = prefix + entry.name;
    if (entry.isDirectory()) {
      await walk(path, archived, result, seen, logger);
    } else if ((entry.isFile() || entry.isSymbolicLink()) && isRolloutFileName(entry.name) && !seen.has(path)) {
      seen.add(path);
      result.files.push({ path, archived, compressed: entry.name.endsWith('.zst') });
    }
  }
  return 1;
}
