import { readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { discoverRolloutFiles, type DiscoveryResult } from './discovery.js';
import { type FileIdentity, FilesDigest, type FilesStamp, identityOf } from './fileIdentity.js';
import { type Logger } from './logger.js';
import { type SeenRollouts } from './scanner.js';
import { stateJournalPath } from './scanState.js';

/**
 * The stamp of a cache of figures summed from the scan state (the CLI's report cache, the
 * extension's meter cache): what the figures were made by and from, so that a reader can tell
 * whether they are still the figures a full run would give. They are when
 * - the cache was written by this build (its code and price data) for the same time zone and roots;
 * - the scan state file and its journal are the ones it was written beside (size, mtime and inode);
 * - the rollout files found now are the ones the state had read, each with the size, mtime and inode
 *   recorded — the scanner's own test for "nothing new in this file" (scanner.ts).
 */

/** What a cache is valid for. */
export interface CacheKey {
  /** The build of the code that made it, with the version of its price data. */
  build: string;
  timeZone: string;
  /** The roots read, resolved, in order. */
  roots: string[];
}

type StoredFingerprint = [size: number, mtimeMs: number, ino: number];

/**
 * The stamp as stored in a cache's JSON: the key; the state file's fingerprint, then the journal's
 * ([-1, -1, -1]: none), fingerprints as [size, mtimeMs, ino]; the rollout files as their count and
 * the digest of their paths and fingerprints (FilesDigest, fileIdentity.ts).
 */
export interface StoredStamp {
  build: string;
  timeZone: string;
  roots: string[];
  state: [...StoredFingerprint, ...StoredFingerprint];
  files: [count: number, digest: string];
}

/** The stamp for a cache written now beside the state at `statePath`, of the state's files; undefined without a state file. */
export function stampOf(key: CacheKey, statePath: string, files: FilesStamp): StoredStamp | undefined {
  const state = storedStateOf(statePath);
  if (!state) return undefined;
  return {
    build: key.build,
    timeZone: key.timeZone,
    roots: key.roots.map((r) => resolve(r)),
    state,
    files: [files.count, files.digest],
  };
}

/** Why a stored stamp is not for `key` (another build, time zone or roots); undefined when it is. Reads nothing. */
export function keyMismatch(stored: Partial<StoredStamp>, key: CacheKey): string | undefined {
  if (stored.build !== key.build) return 'it was written by another build';
  if (stored.timeZone !== key.timeZone) return `it is for the time zone ${String(stored.timeZone)}`;
  if (!Array.isArray(stored.roots) || stored.roots.length !== key.roots.length || stored.roots.some((r, i) => r !== resolve(key.roots[i]!))) return 'it is for other roots';
  return undefined;
}

/**
 * The rollout files under `roots` as they are now, each answer found once however often asked (for
 * a run that checks more than one cache); a string says why they cannot all be seen. `count` lists
 * the roots (~8 ms on a 1 GB home of 2,538 files); `stamp` also stats every rollout file, their
 * count and digest (~25 ms in all), which a cache for another number of files needs not wait for.
 * `seen` hands what was found to a full run that follows (SeenRollouts), so that it need not list
 * the roots and stat every file again.
 */
export interface RolloutFilesNow {
  count(): Promise<number | string>;
  stamp(): Promise<FilesStamp | string>;
  /** What count and stamp found, when either was asked; undefined when neither was. */
  seen(): Promise<SeenRollouts | undefined>;
}

export function rolloutFilesNow(roots: readonly string[], logger: Logger): RolloutFilesNow {
  let listed: Promise<DiscoveryResult> | undefined;
  let stamped: Promise<FilesStamp | string> | undefined;
  const identities = new Map<string, FileIdentity>();
  let complete = false;
  const list = (): Promise<DiscoveryResult> => (listed ??= discoverRolloutFiles(roots, logger));
  return {
    count: async () => {
      const found = await list();
      return found.problems.length > 0 ? 'a folder cannot be read' : found.files.length;
    },
    stamp: () => (stamped ??= list().then((found) => {
      const stamp = stampOfRollouts(found, identities);
      complete = typeof stamp !== 'string';
      return stamp;
    })),
    seen: async () => {
      if (!listed) return undefined;
      const found = await listed;
      if (stamped) await stamped;
      return complete ? { found, identities } : { found };
    },
  };
}

/** The stamp of the files found, each one's identity kept in `identities`; a string says why there is none. */
function stampOfRollouts(found: DiscoveryResult, identities: Map<string, FileIdentity>): FilesStamp | string {
  if (found.problems.length > 0) return 'a folder cannot be read';
  const now = new FilesDigest();
  for (const file of found.files) {
    const info = identityOf(file.path);
    if (!info) return `${file.path} cannot be read`;
    identities.set(file.path, info);
    now.add(file.path, info);
  }
  return now.stamp;
}

/**
 * Why the figures under a stored stamp are not current for `key`; undefined when they are. Asks
 * `filesNow` for the rollouts as they are (by default lists the roots and stats every rollout file).
 * `cachePath` names the cache in the reasons.
 */
export async function staleReason(
  stored: Partial<StoredStamp>, key: CacheKey, statePath: string, cachePath: string, logger: Logger,
  filesNow: RolloutFilesNow = rolloutFilesNow(key.roots, logger),
): Promise<string | undefined> {
  const mismatch = keyMismatch(stored, key);
  if (mismatch) return mismatch;
  if (!sameStoredState(storedStateOf(statePath), stored.state)) return 'the scan state changed since';
  const files = stored.files;
  if (!Array.isArray(files) || files.length !== 2) return `${cachePath} has no file list`;
  // The count first: a rollout come or gone (a new thread) is told without a stat of every file.
  const count = await filesNow.count();
  if (typeof count === 'string') return count;
  if (count !== files[0]) return `${Math.abs(count - Number(files[0]))} rollout file(s) came or went`;
  const now = await filesNow.stamp();
  if (typeof now === 'string') return now;
  if (now.digest !== files[1]) return 'a rollout file changed';
  return undefined;
}

/** The state file and its journal (stateStore.ts) as they are now, in the stored form; undefined without a state file. */
export function storedStateOf(statePath: string): StoredStamp['state'] | undefined {
  const state = identityOf(statePath);
  if (!state) return undefined;
  const journal = identityOf(stateJournalPath(statePath));
  return [...fingerprint(state), ...(journal ? fingerprint(journal) : [-1, -1, -1] as StoredFingerprint)];
}

const fingerprint = (f: FileIdentity): StoredFingerprint => [f.size, f.mtimeMs, f.ino];

/** Whether two stored fingerprints of the state and its journal (storedStateOf) are the same. */
export function sameStoredState(a: readonly unknown[] | undefined, b: readonly unknown[] | undefined): boolean {
  return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((v, i) => v === b[i]);
}

/**
 * A cache file's stored object, when it is JSON of `version`; else why there is none to use, and
 * of what kind: 'missing' (no such file: 'there is none yet'), 'unreadable' (it cannot be read, or
 * is larger than `maxBytes`: it cannot be one this code wrote), 'invalid' (not JSON, another version).
 */
export function readStoredCache<T extends StoredStamp>(path: string, version: number, maxBytes?: number): { stored: Partial<T> } | { reason: string; kind: 'missing' | 'unreadable' | 'invalid' } {
  let text: string;
  try {
    if (maxBytes !== undefined) {
      const size = statSync(path).size;
      if (size > maxBytes) return { reason: `${path} holds ${size} bytes, more than such a cache ever does (${maxBytes})`, kind: 'unreadable' };
    }
    text = readFileSync(path, 'utf8');
  } catch (err) {
    return readFailure(path, err);
  }
  let stored: unknown;
  try {
    stored = JSON.parse(text);
  } catch {
    return { reason: `${path} is not valid JSON`, kind: 'invalid' };
  }
  const s = stored as (Partial<T> & { version?: unknown }) | null;
  if (typeof s !== 'object' || s === null || s.version !== version) return { reason: `${path} is of another version`, kind: 'invalid' };
  return { stored: s };
}

/** Why a cache file could not be read: there is none, or it cannot be read. */
function readFailure(path: string, err: unknown): { reason: string; kind: 'missing' | 'unreadable' } {
  return (err as NodeJS.ErrnoException).code === 'ENOENT'
    ? { reason: 'there is none yet', kind: 'missing' }
    : { reason: `cannot read ${path} (${(err as Error).message})`, kind: 'unreadable' };
}

/**
 * A cache stored in two lines of JSON: its version and stamp, then the rest of it. A reader whose
 * stamp is stale parses the first line only: a run after a change, which finds the report cache of
 * a 10 GB home stale, parsed all of its 6.7 MB for that (~120 ms). `whole` parses the rest and
 * gives the cache's stored object, the stamp's fields included. Missing, unreadable and invalid as
 * readStoredCache.
 */
export function readStampedCache<T extends StoredStamp>(path: string, version: number):
  { stamp: Partial<T>; whole: () => { stored: Partial<T>; restText: string } | { reason: string } } | { reason: string; kind: 'missing' | 'unreadable' | 'invalid' } {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    return readFailure(path, err);
  }
  const end = bytes.indexOf(0x0a);
  const invalid = { reason: `${path} is not valid JSON`, kind: 'invalid' as const };
  if (end < 0) return oneLineCache(bytes, version, path);
  let stamp: unknown;
  try {
    stamp = JSON.parse(bytes.toString('utf8', 0, end));
  } catch {
    return invalid;
  }
  const s = stamp as (Partial<T> & { version?: unknown }) | null;
  if (typeof s !== 'object' || s === null || Array.isArray(s) || s.version !== version) return { reason: `${path} is of another version`, kind: 'invalid' };
  const whole = (): { stored: Partial<T>; restText: string } | { reason: string } => {
    const restText = bytes.toString('utf8', end + 1);
    let rest: unknown;
    try {
      rest = JSON.parse(restText);
    } catch {
      return invalid;
    }
    if (typeof rest !== 'object' || rest === null || Array.isArray(rest)) return invalid;
    return { stored: { ...(rest as Partial<T>), ...s }, restText };
  };
  return { stamp: s, whole };
}

/** Why a cache of one line is not used: it is of an earlier version (written as one JSON object), or it was cut off. */
function oneLineCache(bytes: Buffer, version: number, path: string): { reason: string; kind: 'invalid' } {
  try {
    const stored = JSON.parse(bytes.toString('utf8')) as { version?: unknown } | null;
    if (typeof stored === 'object' && stored !== null && stored.version !== version) return { reason: `${path} is of another version`, kind: 'invalid' };
  } catch {
    // Cut off.
  }
  return { reason: `${path} is not valid JSON`, kind: 'invalid' };
}

/**
 * Writes a cache in the two lines readStampedCache reads: `{ version, ...stamp }`, then `rest` (or
 * the text of a rest as it was read, written again as it is); atomically, a failure logged as a warning.
 */
export function writeStampedCache(path: string, version: number, stamp: StoredStamp, rest: { json: object } | { text: string }, logger: Logger, consequence: string): void {
  const restText = 'text' in rest ? rest.text : JSON.stringify(rest.json);
  writeCacheText(path, `${JSON.stringify({ version, ...stamp })}\n${restText}`, logger, consequence);
}

/** Writes a cache's JSON atomically (a temporary file, then a rename); a failure is logged as a warning, never thrown. */
export function writeCacheFile(path: string, content: unknown, logger: Logger, consequence: string): void {
  writeCacheText(path, JSON.stringify(content), logger, consequence);
}

/** Writes a cache's text atomically (a temporary file, then a rename); a failure is logged as a warning, never thrown. */
export function writeCacheText(path: string, text: string, logger: Logger, consequence: string): void {
  // Unique enough with the process id; Math.random, not node:crypto, whose loading (~3–4 ms) a run
  // answered from a cache would pay.
  const temporary = `${path}.${process.pid}.${Math.random().toString(36).slice(2, 10)}.tmp`;
  try {
    writeFileSync(temporary, text);
    renameSync(temporary, path);
  } catch (err) {
    rmSync(temporary, { force: true });
    logger.warn(`Could not write the cache ${path} (${(err as Error).message}); ${consequence}.`);
  }
}
