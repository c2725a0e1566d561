import { readdirSync, realpathSync, statSync } from 'node:fs';
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
  const w: Walk = { result, seen: new Set(), walked: new Set(), links: [], logger };
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
    const walkRoot = (dir: string, isArchived: boolean): Promise<number> => walk(dir, realFolder(dir), isArchived, w);
    const hasHomeLayout = (await walkRoot(sessions, false)) | (await walkRoot(archived, true));
    if (!hasHomeLayout) await walkRoot(absolute, /archived_sessions/.test(absolute));
  }
  // Links to folders last, in the order of their paths: a folder of a root is listed under its own path.
  while (w.links.length > 0) {
    w.links.sort((a, b) => compareText(b.path, a.path));
    const link = w.links.pop()!;
    const target = linkedFolder(link.path);
    if (target === undefined) continue;
    if (isInside(target, w.walked)) logger.debug(`${link.path} links to ${target}, already listed; its rollouts are counted there.`);
    else await walk(link.path, target, link.archived, w);
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

/** The folder's path with every symbolic link resolved; the path itself when it cannot be resolved (walk says why). */
function realFolder(dir: string): string {
  try {
    return realpathSync(dir);
  } catch {
    return dir;
  }
}

/** A link found in a folder, to follow once the folders themselves are listed (when it leads to a folder). */
interface FolderLink {
  path: string;
  archived: boolean;
}

/** What one discovery keeps as it walks: the files found, the paths and resolved folders seen, the links to follow. */
interface Walk {
  result: DiscoveryResult;
  seen: Set<string>;
  walked: Set<string>;
  links: FolderLink[];
  logger: Logger;
}

/**
 * Lists `dir` (whose path with links resolved is `real`) and the folders in it, adding the rollout
 * files found; the links in them that are not rollout files are kept in `links`. A link to a folder
 * is followed (a year of sessions moved to another disk and linked back), after the folders, unless
 * the folder it leads to is one listed already or inside one (its files are found there, under
 * another path: a file read under two paths could count twice), which also ends any loop of links.
 * Returns 1 when the folder existed.
 */
async function walk(dir: string, real: string, archived: boolean, w: Walk): Promise<number> {
  const { result, seen, walked, logger } = w;
  if (walked.has(real)) {
    logger.debug(`${dir} is ${real}, already listed; its rollouts are counted there.`);
    return 1;
  }
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
  walked.add(real);
  // `dir` is resolved (normalized), so joining is concatenation: path.join, which normalizes again,
  // was half the time of listing a 1 GB home (251 folders, 2,538 files).
  const prefix = dir.endsWith(sep) ? dir : dir + sep;
  const realPrefix = real.endsWith(sep) ? real : real + sep;
  for (const entry of entries) {
    const path = prefix + entry.name;
    if (entry.isDirectory()) {
      await walk(path, realPrefix + entry.name, archived, w);
    } else if ((entry.isFile() || entry.isSymbolicLink()) && isRolloutFileName(entry.name)) {
      if (!seen.has(path)) {
        seen.add(path);
        result.files.push({ path, archived, compressed: entry.name.endsWith('.zst') });
      }
    } else if (entry.isSymbolicLink()) {
      w.links.push({ path, archived });
    }
  }
  return 1;
}

/** The folder a link leads to, resolved; undefined when it leads to no folder (a file, a dangling link, a loop). */
function linkedFolder(path: string): string | undefined {
  try {
    return statSync(path).isDirectory() ? realpathSync(path) : undefined;
  } catch {
    return undefined;
  }
}

/** Whether `folder` is one of `folders` or inside one of them (all resolved). */
function isInside(folder: string, folders: ReadonlySet<string>): boolean {
  for (let at = folder.length; at > 0; at = folder.lastIndexOf(sep, at - 1)) {
    if (folders.has(folder.slice(0, at))) return true;
  }
  return folders.has(sep);
}
