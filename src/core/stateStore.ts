import { randomBytes } from 'node:crypto';
import { appendFile, mkdir, open, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { type FileIdentity, identityOf, sameIdentity } from './fileIdentity.js';
import { fileLines, type FileLinesEnd } from './fileLines.js';
import { type Logger } from './logger.js';
import { type PersistedScanState, SCAN_STATE_VERSION, type ScanStateChanges, stateJournalPath } from './scanState.js';
import { decodeJournalEntry, decodeScanState, encodeJournalEntry, encodeScanStatePieces, type StoredScanState, StoredStateProblem, StoredStateReader, WHOLE_TEXT_STATE_VERSION } from './stateCodec.js';

/** The least a watcher's journal may grow to before the next save writes the state whole (WATCHER_JOURNAL_LIMIT). */
export const JOURNAL_MIN_LIMIT_BYTES = 1 << 20;

/** How many bytes a journal may hold beside a state file of `stateBytes` before the next save writes the state whole. */
export type JournalLimit = (stateBytes: number) => number;

/**
 * The limit for a process that loads the state once and then saves after every change (the
 * extension's worker): a quarter of the state, at least JOURNAL_MIN_LIMIT_BYTES. Writing the state
 * whole is what costs there (~0.2 s and 9 MB on a 1 GB home, ~3 s and 94 MB on 10 GB).
 */
export const WATCHER_JOURNAL_LIMIT: JournalLimit = (stateBytes) => Math.max(JOURNAL_MIN_LIMIT_BYTES, stateBytes / 4);

/**
 * The limit for a process that loads the state, and replays its journal, at every run (the CLI,
 * from a status line while Codex works): a 64th of the state, at least 64 KiB. Each entry replayed
 * costs every run ~0.05–0.09 ms (a 1 GB home's state with 400 entries loaded 17 ms slower than with
 * 200), so a journal let grow to a quarter of the state (~1,700 entries at 1 GB, ~17,000 at 10 GB)
 * cost the runs between two whole saves ~50 ms each on average at 1 GB, and ~0.5 s at 10 GB; with
 * ~110 entries at most at 1 GB, the replays and the whole saves (~0.2 s each) come to a few ms a run.
 */
export const SHORT_RUN_JOURNAL_LIMIT: JournalLimit = (stateBytes) => Math.max(64 * 1024, stateBytes / 64);

/**
 * Where a parsed state file of this version is not of the stored shape (a path such as "files" or
 * "strings.3"), or undefined when it is: its savedAt, and the files, strings, increments and threads. Checked
 * by hand: each file record is checked by isFileRecord and each increment as it is decoded
 * (stateCodec.ts), and a schema over the whole (2,500 records and 38k increments, copied as they
 * are checked) cost a run that loads the state ~15 ms on a 1 GB home.
 */
function storedShapeProblem(json: unknown): string | undefined {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return '';
  const s = json as Record<string, unknown>;
  if (typeof s.savedAt !== 'string') return 'savedAt';
  if (typeof s.files !== 'object' || s.files === null || Array.isArray(s.files)) return 'files';
  if (!Array.isArray(s.strings)) return 'strings';
  const badString = s.strings.findIndex((v) => typeof v !== 'string');
  if (badString !== -1) return `strings.${badString}`;
  if (typeof s.increments !== 'object' || s.increments === null || Array.isArray(s.increments)) return 'increments';
  if (!Array.isArray(s.threads)) return 'threads';
  return undefined;
}

/** The fields of a FileRecord the scanner relies on, of the right types. */
function isFileRecord(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const r = value as Record<string, unknown>;
  const position = r.position as Record<string, unknown> | null | undefined;
  const account = r.account as Record<string, unknown> | null | undefined;
  return typeof position === 'object' && position !== null && typeof position.offset === 'number' && typeof position.lineCount === 'number'
    && typeof r.size === 'number' && typeof r.mtimeMs === 'number' && typeof r.ino === 'number' && typeof r.sampleDigest === 'string'
    && typeof account === 'object' && account !== null && typeof account.format === 'string' && Array.isArray(r.problems);
}

/**
 * Loads and saves the scanner's state: one file of JSON lines (in the compact form of stateCodec.ts,
 * read a line at a time: fileLines.ts), written whole and atomically (a temporary file in the same
 * folder, then a rename), so a crash mid-save leaves the previous state intact; and beside it a
 * journal (`<state>.journal`) of the changes saved since, one line each, so a save after a few new
 * lines writes a few KB instead of the whole state (9 MB for a 1 GB home, 94 MB for 10 GB; the
 * extension saves after every change it reads).
 *
 * Each state file has an id, and each journal entry names the state it follows: entries of another
 * state (left by a crash between writing a state and removing its old journal) are skipped, and
 * reading stops at the first entry that is not whole (a crash mid-append) or not valid, so what is
 * loaded is always a state as it was saved. A save appends only while the files are as this store
 * last left them (no other process wrote them, no torn entry at the end) and the journal is below
 * its limit (`journalLimit`, by the kind of process); otherwise it writes the state whole, with a
 * new id, and removes the journal.
 * A state file that is corrupt, half-written or of another version is discarded with a warning.
 */
export class ScanStateStore {
  readonly journalPath: string;
  /** The state file's id and the journal's length as this store last read or wrote them (undefined: the next save writes the state whole). */
  private base: StateOnDisk | undefined;

  constructor(
    readonly path: string,
    private readonly logger: Logger,
    private readonly journalLimit: JournalLimit = WATCHER_JOURNAL_LIMIT,
  ) {
    this.journalPath = stateJournalPath(path);
  }

  async load(): Promise<PersistedScanState | undefined> {
    this.base = undefined;
    const reader = new StoredStateReader();
    const known = (version: unknown): boolean => version === SCAN_STATE_VERSION || version === WHOLE_TEXT_STATE_VERSION;
    try {
      // Read no further than the first line when it is of another version. A state of version 5
      // is one line without a newline; a state cut short within a line ends in one that is not JSON.
      const read = await fileLines(this.path, (text) => {
        reader.add(text);
        return known(reader.version);
      }, { unterminatedLast: true });
      if (read.handedBytes === 0) return this.discard(new StoredStateProblem('corrupt', 'it is empty'));
    } catch (err) {
      if (err instanceof StoredStateProblem) return this.discard(err);
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.logger.warn(`Cannot read the state file ${this.path} (${(err as Error).message}); rebuilding from the logs.`);
      return undefined;
    }
    if (!known(reader.version)) {
      this.logger.warn(`The state file ${this.path} has version ${JSON.stringify(reader.version)}, not ${SCAN_STATE_VERSION}; discarding it and rebuilding from the logs.`);
      return undefined;
    }
    let stored: StoredScanState;
    let id: string | undefined;
    try {
      ({ stored, id } = reader.finish());
    } catch (err) {
      if (err instanceof StoredStateProblem) return this.discard(err);
      throw err;
    }
    const shapeProblem = storedShapeProblem(stored);
    const files = stored.files as Record<string, unknown>;
    const badRecord = shapeProblem === undefined ? Object.keys(files).find((path) => !isFileRecord(files[path])) : undefined;
    if (shapeProblem !== undefined || badRecord !== undefined) return this.discard(new StoredStateProblem('shape', shapeProblem ?? `files.${badRecord}`));
    let state: PersistedScanState;
    try {
      state = decodeScanState(stored);
    } catch (err) {
      return this.discard(new StoredStateProblem('shape', (err as Error).message));
    }
    // A state written before journals had no id: it is used as it is, and the next save writes it whole.
    if (id === undefined) return state;
    const journal = await this.readJournal(id);
    if (journal.entries.length > 0) state.journal = journal.entries;
    // A state of one JSON text is used with its journal, and the next save writes it whole, in lines:
    // loading it as one line costs a CLI run ~0.2 s more at 10 GB, and its journal might otherwise
    // grow for hundreds of runs before it is written whole.
    if (stored.version === WHOLE_TEXT_STATE_VERSION) return state;
    const identity = identityOf(this.path);
    if (identity) this.base = { id, state: identity, journalBytes: journal.bytes };
    return state;
  }

  private discard(problem: StoredStateProblem): undefined {
    const what = problem.kind === 'corrupt' ? 'is corrupt' : 'does not have the expected shape';
    this.logger.warn(`The state file ${this.path} ${what} (${problem.message}); discarding it and rebuilding from the logs.`);
    return undefined;
  }

  /** Writes the state whole (with a new id) and removes its journal. */
  async save(state: PersistedScanState): Promise<void> {
    this.base = undefined;
    await mkdir(dirname(this.path), { recursive: true });
    const id = randomBytes(8).toString('hex');
    const temporary = `${this.path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    try {
      const handle = await open(temporary, 'w');
      try {
        for (const piece of encodeScanStatePieces(state, undefined, id)) await handle.write(piece);
      } finally {
        await handle.close();
      }
      await rename(temporary, this.path);
    } catch (err) {
      await rm(temporary, { force: true });
      throw err;
    }
    // A journal that cannot be removed belongs to the old state (its entries are skipped on loading);
    // nothing is appended to it: every save writes the state whole.
    const removed = await rm(this.journalPath, { force: true }).then(() => true, () => false);
    const identity = identityOf(this.path);
    if (identity && removed) this.base = { id, state: identity, journalBytes: 0 };
  }

  /**
   * Saves what changed (the scanner's takeChanges) as one journal entry when it can, else the
   * whole state (`whole` is asked for only then). Returns which it wrote. A failed save throws, and
   * the next one writes the state whole.
   */
  async saveChanges(changes: ScanStateChanges | undefined, whole: () => PersistedScanState): Promise<'journal' | 'whole'> {
    const base = this.base;
    // Encoded at once, before anything can change what it refers to.
    const entry = changes && base ? encodeJournalEntry(base.id, changes) : undefined;
    if (entry !== undefined && base && base.journalBytes + Buffer.byteLength(entry) <= this.journalLimit(base.state.size) && (await this.unchangedSince(base))) {
      this.base = undefined;
      await appendFile(this.journalPath, entry);
      this.base = { ...base, journalBytes: base.journalBytes + Buffer.byteLength(entry) };
      return 'journal';
    }
    await this.save(whole());
    return 'whole';
  }

  /** Whether the state file and the journal are as this store last left them. */
  private async unchangedSince(base: StateOnDisk): Promise<boolean> {
    const now = identityOf(this.path);
    return now !== undefined && sameIdentity(now, base.state) && (identityOf(this.journalPath)?.size ?? 0) === base.journalBytes;
  }

  /** The journal's entries for the state `id`, up to the first that is not whole or not valid, and the bytes they take. */
  private async readJournal(id: string): Promise<{ entries: ScanStateChanges[]; bytes: number }> {
    const entries: ScanStateChanges[] = [];
    let line = 0;
    let bytes = 0;
    let read: FileLinesEnd;
    try {
      read = await fileLines(this.journalPath, (text, end) => {
        line += 1;
        try {
          const { baseId, changes } = decodeJournalEntry(JSON.parse(text));
          const badRecord = Object.keys(changes.files).find((path) => changes.files[path] !== null && !isFileRecord(changes.files[path]));
          if (badRecord !== undefined) throw new Error(`files.${badRecord}`);
          if (baseId === id) entries.push(changes);
        } catch (err) {
          this.logger.warn(`Line ${line} of the state journal ${this.journalPath} is not a valid entry (${(err as Error).message}); it and what follows are ignored, and the changes they held are read again from the logs.`);
          return false;
        }
        bytes = end;
        return true;
      });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.logger.warn(`Cannot read the state journal ${this.journalPath} (${(err as Error).message}); the changes saved in it are read again from the logs.`);
      return { entries: [], bytes: 0 };
    }
    if (read.handedBytes === bytes && read.trailingBytes > 0) this.logger.info(`The state journal ${this.journalPath} ends in an entry cut short (a save that was interrupted); it is ignored.`);
    return { entries, bytes };
  }
}

/** The state file as a store last read or wrote it: its id and identity, and the journal's length then. */
interface StateOnDisk {
  id: string;
  state: FileIdentity;
  journalBytes: number;
}
