import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { type CacheKey, type RolloutFilesNow, staleReason, type StoredStamp, writeCacheText } from '../core/cacheStamp.js';
import { identityOf } from '../core/fileIdentity.js';
import { type Logger } from '../core/logger.js';
import { ProjectResolver } from '../core/projects.js';
import { readIfPresent } from '../core/textFiles.js';

/**
 * The printed-output cache: what a command answered from the report cache printed (its stdout,
 * stderr and exit code), kept per command line, so the same command with nothing new prints it
 * again without reading the report cache (677 KiB on a 1 GB home), summing its cells into a report
 * or formatting it: a status line or a shell prompt runs the same command over and over.
 *
 * An output is printed again only when all it was made from is as it was:
 * - the report cache's stamp (cacheStamp.ts): the build, the time zone, the roots, the scan state and
 *   every rollout file; with it the cells, warnings and counters the output was made from;
 * - the project each working directory resolved to (ProjectResolver: a folder may have become a git
 *   repository since);
 * - the files it read (the budget's configuration) and the environment variables it read, each
 *   with the same text or value, or absent again;
 * - the time: inside the budget's period it was printed in.
 * Like the report cache it is a pure cache: whatever is wrong with one (missing, corrupt, another
 * version) only means the command runs from the report cache, which writes it again.
 */
export const PRINTED_OUTPUT_VERSION = 2;
const FILE_PREFIX = 'printed-output-';
const FILE_SUFFIX = '.txt';

/** What an output was made from, beyond the report cache's stamp. */
export interface OutputInputs {
  /** Each working directory the report named, with the project it resolved to. */
  projects: [cwd: string, project: string | null][];
  /** Each file read (the budget's configuration), with its text (null: it did not exist). */
  readFiles: [path: string, text: string | null][];
  /** Each environment variable read, with its value (null: unset). */
  env: [name: string, value: string | null][];
  /** The times (epoch ms) between which the output holds, from and not including until; null: unbounded. */
  from: number | null;
  until: number | null;
}

export interface PrintedOutput {
  stdout: string;
  stderr: string;
  exitCode: number;
}

/** A printed output as read again: its stdout as the UTF-8 bytes kept (written as they are, not decoded). */
export interface KeptOutput {
  stdout: Buffer;
  stderr: string;
  exitCode: number;
}

/**
 * The stored form: one line of JSON (this header), then the stdout as it was printed, in UTF-8, of
 * `stdoutBytes` bytes (a shorter file was cut off).
 */
interface StoredHeader extends StoredStamp, OutputInputs {
  version: typeof PRINTED_OUTPUT_VERSION;
  commandLine: string;
  stderr: string;
  exitCode: number;
  stdoutBytes: number;
}

/** The printed outputs in a --state folder, one file per command line; the scan state file is at `statePath`. */
export class PrintedOutputCache {
  constructor(
    private readonly dir: string,
    private readonly statePath: string,
    private readonly env: NodeJS.ProcessEnv,
    private readonly logger: Logger,
  ) {}

  /** Where the output of `commandLine` is kept. */
  pathOf(commandLine: string): string {
    return join(this.dir, `${FILE_PREFIX}${hash32(commandLine)}${FILE_SUFFIX}`);
  }

  /**
   * What `commandLine` printed when it still holds for `key` (the rollouts as `filesNow` sees them)
   * at `now`; else undefined (why is logged at debug level), or `{ stale }` when it is the report
   * cache's stamp it was made from that no longer holds, and why. That stamp is the report cache's
   * own: a full run that writes the report cache removes the printed outputs, so a printed output
   * is of the report cache there is now (were the removal to fail, only a full run would follow).
   */
  async lookup(commandLine: string, key: CacheKey, filesNow: RolloutFilesNow, now: number): Promise<KeptOutput | { stale: string } | undefined> {
    const path = this.pathOf(commandLine);
    const miss = (reason: string): undefined => {
      this.logger.debug(`Printed output not used: ${reason}.`);
      return undefined;
    };
    let bytes: Buffer;
    try {
      // Bytes, not text: the output is written as it was kept (decoding and encoding 16 MB again
      // cost ~50 ms of a 10 GB home's 415 ms).
      bytes = readFileSync(path);
    } catch (err) {
      return miss((err as NodeJS.ErrnoException).code === 'ENOENT' ? 'there is none yet for this command line' : `cannot read ${path} (${(err as Error).message})`);
    }
    const end = bytes.indexOf(0x0a);
    let header: Partial<StoredHeader>;
    try {
      header = JSON.parse(bytes.toString('utf8', 0, end < 0 ? bytes.length : end)) as Partial<StoredHeader>;
    } catch {
      return miss(`${path} does not start with a JSON line`);
    }
    if (typeof header !== 'object' || header === null || header.version !== PRINTED_OUTPUT_VERSION) return miss(`${path} is of another version`);
    if (header.commandLine !== commandLine) return miss(`${path} is of another command line`);
    const stdout = bytes.subarray(end + 1);
    if (end < 0 || header.stdoutBytes !== stdout.length || typeof header.stderr !== 'string' || typeof header.exitCode !== 'number') return miss(`${path} was cut off`);
    const changed = await changedInput(header, this.env, now);
    if (changed) return miss(changed);
    const stale = await staleReason(header, key, this.statePath, path, this.logger, filesNow);
    if (stale) {
      miss(stale);
      return { stale };
    }
    return { stdout, stderr: header.stderr, exitCode: header.exitCode };
  }

  /** Keeps what `commandLine` printed, made from the report cache of `stamp` and from `inputs`; a failure is logged, never thrown. */
  save(commandLine: string, stamp: StoredStamp, inputs: OutputInputs, printed: PrintedOutput): void {
    const header: StoredHeader = {
      version: PRINTED_OUTPUT_VERSION,
      commandLine,
      ...stamp,
      ...inputs,
      stderr: printed.stderr,
      exitCode: printed.exitCode,
      stdoutBytes: Buffer.byteLength(printed.stdout),
    };
    const path = this.pathOf(commandLine);
    writeCacheText(path, `${JSON.stringify(header)}\n${printed.stdout}`, this.logger, 'the next run answers from the report cache');
    // A script that asks for many periods between two changes of the rollouts keeps only the newest.
    const kept = this.keptFiles().filter((f) => f !== path);
    if (kept.length < MAX_KEPT) return;
    const byAge = kept.map((f) => ({ f, mtime: identityOf(f)?.mtimeMs ?? 0 })).sort((a, b) => a.mtime - b.mtime);
    for (const { f } of byAge.slice(0, kept.length - (MAX_KEPT - 1))) this.remove(f, 'one of the oldest of more than ' + MAX_KEPT);
  }

  /** Removes every printed output: none holds once the report cache is written again. */
  clear(): void {
    for (const f of this.keptFiles()) this.remove(f, 'out of date');
  }

  /** The printed outputs' files in the folder. */
  private keptFiles(): string[] {
    try {
      return readdirSync(this.dir).filter((n) => n.startsWith(FILE_PREFIX) && n.endsWith(FILE_SUFFIX)).map((n) => join(this.dir, n));
    } catch {
      return [];
    }
  }

  private remove(path: string, why: string): void {
    try {
      rmSync(path, { force: true });
    } catch (err) {
      this.logger.warn(`Could not remove the printed output ${path} (${(err as Error).message}), ${why}.`);
    }
  }
}

/** How many command lines' outputs a folder keeps at most. */
export const MAX_KEPT = 32;

/** Why an output's inputs are not as they were (or its period is over); undefined when they are. */
async function changedInput(header: Partial<StoredHeader>, environment: NodeJS.ProcessEnv, now: number): Promise<string | undefined> {
  const { projects, readFiles, env, from, until } = header;
  if (!Array.isArray(projects) || !Array.isArray(readFiles) || !Array.isArray(env)) return 'its inputs are not listed';
  if ((typeof from === 'number' && now < from) || (typeof until === 'number' && now >= until)) return 'its period is over';
  for (const [name, value] of env) {
    if ((environment[name] ?? null) !== value) return `the environment variable ${name} changed`;
  }
  for (const [path, text] of readFiles) {
    // Read as the budget reads it; a file that cannot be read equals no stored text.
    const current = await readIfPresent(path).then((t) => t ?? null, () => undefined);
    if (current !== text) return `${path} changed`;
  }
  const resolver = new ProjectResolver();
  for (const [cwd, project] of projects) {
    if ((resolver.projectOf(cwd) ?? null) !== project) return `the project of ${cwd} changed`;
  }
  return undefined;
}

/** FNV-1a of the text, as 8 hex digits: a file name per command line (the header names the line itself). */
function hash32(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i += 1) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return (h >>> 0).toString(16).padStart(8, '0');
}
