import { INCREMENT_FIGURES, INCREMENT_RAW_FIELDS, INCREMENT_SOURCES, type IncrementColumns, isRawShape, KEY_THREAD_MARK, rawShapeOf } from './incrementStore.js';
import { type LedgerChange, type LoadedColumns, snapshotEntries } from './ledger.js';
import { type IncrementSource, type RateLimitSnapshot, type ThreadInfo, type UsageIncrement } from './ledgerTypes.js';
import { type CodexTokenUsage } from './normalize.js';
import { type PersistedScanState, SCAN_STATE_VERSION, type ScanStateChanges } from './scanState.js';

/**
 * The scan state as stored on disk: the same content as PersistedScanState, with the ledger's
 * increments in columns over a table of strings (thread ids, models, folders and file paths repeat
 * thousands of times). A 1 GB home's state shrinks about fourfold, and loads that much faster; in
 * columns, JSON.parse makes a few long arrays where tuples made two arrays per increment, and they
 * go into the ledger's store as they are (IncrementStore.fromColumns), with no object per
 * increment: on a 1 GB home, parsing and decoding took ~50 ms where tuples took ~140.
 */
export interface StoredScanState {
  /** SCAN_STATE_VERSION, or WHOLE_TEXT_STATE_VERSION. */
  version: number;
  savedAt: string;
  files: PersistedScanState['files'];
  strings: string[];
  increments: StoredIncrements;
  threads: PersistedScanState['ledger']['threads'];
  rateLimits: PersistedScanState['ledger']['rateLimits'] | null;
}

/**
 * The increments in columns. `numbers` holds, in base64, WORDS_PER_INCREMENT little-endian 32-bit
 * words per increment, in this order: the thread, model + 1 and cwd + 1 (indexes into `strings`;
 * 0: none), the source (record, snapshot, estimate) with the raw figures' shape (rawShapeOf,
 * incrementStore.ts) shifted left by 8, the five buckets and the six raw figures (0 where absent or
 * null). A figure that is not a whole number below 2^32 (which a log may hold) is 0 there and kept
 * in `otherNumbers`. It comes first, written as the increments are read; the other columns, one
 * element per increment, after: a key is a string with "\u0001" where the thread id was, or a
 * one-element array holding the key as it is; files is one index into `strings` or several; and
 * raw figures of other fields are kept whole in `unusualRaw`, by increment.
 *
 * In binary, not as JSON numbers: JSON.parse made an array of 16 numbers per increment, which the
 * decoder then copied into the store's columns; a 10 GB home's 377k increments took ~230 ms to
 * parse so, and ~60 ms as one string decoded from base64.
 */
export interface StoredIncrements {
  /** Base64 (in a journal entry, and a state of WHOLE_TEXT_STATE_VERSION), or its bytes (a state file's lines, decoded line by line). */
  numbers: string | Buffer;
  otherNumbers: [increment: number, figure: number, value: number][];
  keys: (string | [string])[];
  timestamps: string[];
  files: (number | number[])[];
  unusualRaw: [increment: number, raw: CodexTokenUsage][];
}

/** 32-bit words per increment in StoredIncrements.numbers: thread, model, cwd, source and shape, then the 11 figures. */
const WORDS_PER_INCREMENT = 15;
/** Bytes per increment: a multiple of 3, so that the base64 of a run of whole increments can be joined to the next. */
const BYTES_PER_INCREMENT = WORDS_PER_INCREMENT * 4;
const FIRST_FIGURE_WORD = 4;
const LARGEST_WORD = 0xffffffff;

const SOURCES: readonly IncrementSource[] = INCREMENT_SOURCES;
const RAW_FIELDS = INCREMENT_RAW_FIELDS;
const THREAD_MARK = KEY_THREAD_MARK;

/** The stored form of a state, as loading its file gives it (with the numbers as base64, as a journal entry holds them): for tests, which damage it. */
export function encodeScanState(state: PersistedScanState): StoredScanState {
  return storedStateOfLines(encodeScanStatePieces(state));
}

/** The stored form that the lines of encodeScanStatePieces give (each with its newline), the numbers as base64. */
export function storedStateOfLines(lines: Iterable<string>): StoredScanState {
  const reader = new StoredStateReader();
  for (const line of lines) reader.add(line.slice(0, -1));
  const { stored } = reader.finish();
  // Lines of this version give the numbers' bytes (StoredStateReader.finish).
  return { ...stored, increments: { ...stored.increments, numbers: (stored.increments.numbers as Buffer).toString('base64') } };
}

/** The shape stored for raw figures kept whole (in unusualRaw): the bit that says there are raw figures, alone. */
const RAW_WHOLE = 1 << 15;

/** The key as stored: with THREAD_MARK where the thread id was, or as it is in a one-element array. */
function storedKey(key: string, threadId: string): string | [string] {
  return !key.includes(THREAD_MARK) && key.includes(threadId) ? key.replace(threadId, THREAD_MARK) : [key];
}

/**
 * The size the lines of encodeScanStatePieces reach, in characters: well below V8's largest regular
 * heap object (128 KiB), even for a line of two-byte characters (a path outside Latin-1), both as
 * they are written and as they are read back, one string a line. A longer
 * string is a large object, allocated outside the young generation and kept until V8's next full
 * collection, even when it is garbage at once. Pieces of 0.3–1.5 MB (a few hundred increments or
 * files each, and the threads and strings whole) left some 20 MiB of them behind in a thread with a
 * small young generation (threadResources.ts) on a 1 GB home, whose state was 12 MB; pieces of this
 * size leave about 6.
 */
export const STATE_PIECE_CHARS = 32 * 1024;

/**
 * The stored form as the lines of a state file, each one JSON value and a newline, of about
 * `pieceChars` characters (an item longer than that is a line of its own): first the header
 * (version, id, savedAt), then sections as `[name, part]` pairs (StoredStateReader.add), each name on as
 * many lines as its parts take, and last `["end", counts]`, which tells a whole file from one cut short.
 * So the state is never held as one text, neither here nor when it is read back (StoredStateReader):
 * a single JSON text stops loading past V8's longest string (~512 MiB: a state of ~57 GB of rollouts).
 *
 * The increments are read once: their numbers are written as they are read, and only their keys,
 * timestamps and files (the strings the increments hold, not copies) are kept until their columns
 * are written. Holding every column instead (in typed arrays) grew the extension host's peak after a
 * 10 GB home's first save by some 45 MiB.
 */
export function* encodeScanStatePieces(state: PersistedScanState, pieceChars = STATE_PIECE_CHARS, baseId?: string): Generator<string> {
  const id = baseId === undefined ? '' : `"id":${JSON.stringify(baseId)},`;
  yield `{"version":${JSON.stringify(state.version)},${id}"savedAt":${JSON.stringify(state.savedAt)}}\n`;
  yield* sectionLines('files', '{', '}', fileEntries(state.files), pieceChars);
  const table = new StringTable();
  const numbers = new NumbersWriter();
  const written = new IncrementsWriter(table, numbers);
  const perPiece = Math.max(1, Math.floor((pieceChars * 3) / (4 * BYTES_PER_INCREMENT)));
  for (const [inc, reporters] of snapshotEntries(state.ledger.increments)) {
    written.add(inc, reporters);
    if (numbers.held >= perPiece) yield `["numbers","${numbers.take()}"]\n`;
  }
  if (numbers.held > 0) yield `["numbers","${numbers.take()}"]\n`;
  // Rare (a log's figures are whole counts), yet in parts too, however many there are.
  yield* sectionLines('otherNumbers', '[', ']', eachStringified(numbers.other), pieceChars);
  // Each key stored as it is written (storedKey): none of them kept meanwhile.
  const { keys, threadIds } = written;
  const storedKeys: ColumnOfValues = { count: keys.length, at: (i) => storedKey(keys[i]!, threadIds[i]!), bound: (i) => keys[i]!.length + 10 };
  yield* columnLines('keys', storedKeys, pieceChars);
  yield* columnLines('timestamps', valuesOf(written.timestamps), pieceChars);
  yield* columnLines('incrementFiles', valuesOf(written.files), pieceChars);
  yield* columnLines('unusualRaw', valuesOf(written.unusualRaw), pieceChars);
  yield* sectionLines('threads', '[', ']', eachStringified(state.ledger.threads), pieceChars);
  yield `["rateLimits",${JSON.stringify(state.ledger.rateLimits ?? null)}]\n`;
  yield* sectionLines('strings', '[', ']', eachStringified(table.strings), pieceChars);
  const counts: StoredCounts = { files: Object.keys(state.files).length, increments: keys.length, threads: state.ledger.threads.length, strings: table.strings.length };
  yield `["end",${JSON.stringify(counts)}]\n`;
}

/** What a state file's last line says it holds: how many file records, increments, threads and strings. */
interface StoredCounts {
  files: number;
  increments: number;
  threads: number;
  strings: number;
}

/**
 * The numbers of increments as StoredIncrements.numbers holds them, written increment by increment
 * and taken as base64 a run of whole increments at a time; the figures that do not fit a word kept
 * in `other`, by increment.
 */
class NumbersWriter {
  private bytes = new Uint8Array(BYTES_PER_INCREMENT * 256);
  private view = new DataView(this.bytes.buffer);
  /** Increments written since the last take. */
  held = 0;
  readonly other: [number, number, number][] = [];

  /** Writes increment `index`'s numbers; refs as StringTable gives them (-1: none). */
  write(index: number, thread: number, model: number, cwd: number, source: number, shape: number, figures: readonly number[]): void {
    if ((this.held + 1) * BYTES_PER_INCREMENT > this.bytes.length) {
      const bigger = new Uint8Array(this.bytes.length * 2);
      bigger.set(this.bytes);
      this.bytes = bigger;
      this.view = new DataView(bigger.buffer);
    }
    const at = this.held * BYTES_PER_INCREMENT;
    const v = this.view;
    v.setUint32(at, thread, true);
    v.setUint32(at + 4, model + 1, true);
    v.setUint32(at + 8, cwd + 1, true);
    v.setUint32(at + 12, source | (shape << 8), true);
    for (let f = 0; f < INCREMENT_FIGURES; f += 1) {
      const value = figures[f]!;
      const whole = Number.isInteger(value) && value >= 0 && value <= LARGEST_WORD;
      v.setUint32(at + (FIRST_FIGURE_WORD + f) * 4, whole ? value : 0, true);
      if (!whole) this.other.push([index, f, value]);
    }
    this.held += 1;
  }

  /** The base64 of the increments written since the last take. */
  take(): string {
    const text = Buffer.from(this.bytes.buffer, 0, this.held * BYTES_PER_INCREMENT).toString('base64');
    this.held = 0;
    return text;
  }
}

/**
 * Increments going into StoredIncrements, their strings entered in `table`: each one's numbers go
 * to `numbers` (written as they come, or kept), its key, thread id, timestamp and files are kept
 * here (the strings the increment holds, not copies).
 */
class IncrementsWriter {
  readonly keys: string[] = [];
  readonly threadIds: string[] = [];
  readonly timestamps: string[] = [];
  readonly files: (number | number[])[] = [];
  readonly unusualRaw: [number, CodexTokenUsage][] = [];
  private readonly figures = new Array<number>(INCREMENT_FIGURES).fill(0);

  constructor(private readonly table: StringTable, private readonly numbers: NumbersWriter) {}

  add(inc: UsageIncrement, reporters: readonly string[]): void {
    const { table, figures } = this;
    const index = this.keys.length;
    const b = inc.buckets;
    figures[0] = b.uncachedInput;
    figures[1] = b.cachedInput;
    figures[2] = b.cacheWriteInput;
    figures[3] = b.output;
    figures[4] = b.reasoningOutput;
    const raw = inc.raw;
    let shape = rawShapeOf(raw);
    if (shape === undefined) {
      this.unusualRaw.push([index, raw!]);
      shape = RAW_WHOLE;
      figures.fill(0, 5);
    } else {
      RAW_FIELDS.forEach((field, f) => {
        const value = raw?.[field];
        // Finite, as JSON writes numbers (a log's JSON has no other).
        figures[5 + f] = typeof value === 'number' && Number.isFinite(value) ? value : 0;
      });
    }
    this.numbers.write(index, table.ref(inc.threadId), table.ref(inc.model), table.ref(inc.cwd), SOURCES.indexOf(inc.source), shape, figures);
    this.keys.push(inc.key);
    this.threadIds.push(inc.threadId);
    this.timestamps.push(inc.timestamp);
    const fileRefs = reporters.map((f) => table.ref(f));
    this.files.push(fileRefs.length === 1 ? fileRefs[0]! : fileRefs);
  }

  /** The increments added, in the stored form, their numbers all those `numbers` holds. */
  stored(): StoredIncrements {
    return {
      numbers: this.numbers.take(), otherNumbers: this.numbers.other,
      keys: this.keys.map((key, i) => storedKey(key, this.threadIds[i]!)), timestamps: this.timestamps, files: this.files, unusualRaw: this.unusualRaw,
    };
  }
}

/** Lines `["name",<open>…<close>]` of the texts joined with commas, each of at least `pieceChars` characters (the last one may be shorter); none when there are no texts. */
function* sectionLines(name: string, open: string, close: string, texts: Iterable<string>, pieceChars: number): Generator<string> {
  let parts: string[] = [];
  let length = 0;
  for (const text of texts) {
    parts.push(text);
    length += text.length + 1;
    if (length >= pieceChars) {
      yield `["${name}",${open}${parts.join(',')}${close}]\n`;
      parts = [];
      length = 0;
    }
  }
  if (parts.length > 0) yield `["${name}",${open}${parts.join(',')}${close}]\n`;
}

/**
 * A column's elements as lines `["name",[…]]` of about `pieceChars` characters, each line's
 * elements stringified at once: a call of JSON.stringify per element of every column (~750k on a
 * 1 GB home) took a whole save from 185 to 448 ms.
 */
function* columnLines(name: string, values: ColumnOfValues, pieceChars: number): Generator<string> {
  let from = 0;
  let length = 0;
  for (let i = 0; i < values.count; i += 1) {
    length += values.bound(i);
    if (length < pieceChars && i < values.count - 1) continue;
    const piece: unknown[] = [];
    for (let j = from; j <= i; j += 1) piece.push(values.at(j));
    yield `["${name}",${JSON.stringify(piece)}]\n`;
    from = i + 1;
    length = 0;
  }
}

/** A column's elements, the i-th as `at(i)`, whose JSON is about `bound(i)` characters long or shorter. */
interface ColumnOfValues {
  count: number;
  at(i: number): unknown;
  bound(i: number): number;
}

function valuesOf(values: readonly unknown[]): ColumnOfValues {
  return { count: values.length, at: (i) => values[i], bound: (i) => jsonLengthBound(values[i]) };
}

/** About as long as the element's JSON with its comma (a key's mark is written as six characters; a count has up to ten digits, most far fewer). */
function jsonLengthBound(value: unknown): number {
  if (typeof value === 'number') return 8;
  if (typeof value === 'string') return value.length + 8;
  if (Array.isArray(value) && value.length === 1 && typeof value[0] === 'string') return value[0].length + 10;
  return JSON.stringify(value).length + 1;
}

function* fileEntries(files: PersistedScanState['files']): Generator<string> {
  for (const path of Object.keys(files)) yield `${JSON.stringify(path)}:${JSON.stringify(files[path])}`;
}

/** Each value as JSON.stringify writes it as an array's element. */
function* eachStringified(values: readonly unknown[]): Generator<string> {
  for (const value of values) yield (JSON.stringify(value) as string | undefined) ?? 'null';
}

/** Strings each stored once, referred to by index. */
class StringTable {
  readonly strings: string[] = [];
  private readonly index = new Map<string, number>();

  ref(value: string | undefined): number {
    if (value === undefined) return -1;
    let i = this.index.get(value);
    if (i === undefined) {
      i = this.strings.push(value) - 1;
      this.index.set(value, i);
    }
    return i;
  }
}

/** The version whose state file is one JSON text (the stored form whole), which StoredStateReader still reads. */
export const WHOLE_TEXT_STATE_VERSION = 5;

/** Why a state file's lines are not a stored state: not JSON at all ('corrupt'), or not of the stored shape ('shape'). */
export class StoredStateProblem extends Error {
  constructor(readonly kind: 'corrupt' | 'shape', message: string) {
    super(message);
  }
}

/** The sections of a state file's lines (encodeScanStatePieces) that hold a list, each line a part of it. */
const LIST_SECTIONS = ['otherNumbers', 'keys', 'timestamps', 'incrementFiles', 'unusualRaw', 'threads', 'strings'] as const;
type ListSection = typeof LIST_SECTIONS[number];

/**
 * How many parts of a list StoredStateReader joins in one concat. The parts are joined once all
 * lines are read: pushed element by element as each line came, a 1 GB home's state loaded ~6–14 ms
 * slower than as one JSON text (11 alternated one-shot loads: median 70 against 56 ms; joined at the
 * end, 57 ms).
 */
const LIST_PARTS_PER_CONCAT = 4096;

/**
 * Puts a state file's lines (encodeScanStatePieces) together again into the stored form, line by
 * line (`add`), then `finish`. A file of WHOLE_TEXT_STATE_VERSION is one line, the stored form whole.
 * Throws a StoredStateProblem at the first line that is not JSON or not of the shape written, and at
 * `finish` when the last line is missing (a file cut short at a line's end) or its counts are not what
 * the lines held. What each part holds is checked as the stored form is decoded (decodeScanState).
 */
export class StoredStateReader {
  private lineCount = 0;
  private header: Record<string, unknown> | undefined;
  private whole: StoredScanState | undefined;
  private counts: StoredCounts | undefined;
  private rateLimits: unknown = null;
  private rateLimitsSeen = false;
  private readonly files: Record<string, unknown> = {};
  private fileCount = 0;
  private readonly numbers: Buffer[] = [];
  /** Each list's parts, one per line, joined by finish. */
  private readonly lists: Record<ListSection, unknown[][]> = { otherNumbers: [], keys: [], timestamps: [], incrementFiles: [], unusualRaw: [], threads: [], strings: [] };

  /** The version the first line gives (undefined before it, or when it gives none). */
  get version(): unknown {
    return this.header?.version;
  }

  add(text: string): void {
    const n = (this.lineCount += 1);
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new StoredStateProblem('corrupt', n === 1 ? 'not valid JSON' : `line ${n} is not valid JSON`);
    }
    if (n === 1) {
      this.header = typeof json === 'object' && json !== null && !Array.isArray(json) ? json as Record<string, unknown> : {};
      if (this.header.version === WHOLE_TEXT_STATE_VERSION) this.whole = json as StoredScanState;
      return;
    }
    if (this.whole || this.counts) throw new StoredStateProblem('shape', `line ${n} follows the last line`);
    if (!Array.isArray(json) || json.length !== 2 || typeof json[0] !== 'string') throw new StoredStateProblem('shape', `line ${n} is not a section's part`);
    const [section, part] = json as [string, unknown];
    const problem = (what: string): StoredStateProblem => new StoredStateProblem('shape', `line ${n}: ${what}`);
    if (section === 'files') {
      if (typeof part !== 'object' || part === null || Array.isArray(part)) throw problem('the file records are not an object');
      for (const path of Object.keys(part)) {
        if (Object.hasOwn(this.files, path)) throw problem(`the file ${path} is given twice`);
        this.files[path] = (part as Record<string, unknown>)[path];
        this.fileCount += 1;
      }
    } else if (section === 'numbers') {
      const bytes = typeof part === 'string' ? Buffer.from(part, 'base64') : undefined;
      if (!bytes || bytes.length % BYTES_PER_INCREMENT !== 0 || (part as string).length !== (bytes.length / 3) * 4) throw problem('the increments\' numbers are not whole increments');
      this.numbers.push(bytes);
    } else if (section === 'rateLimits') {
      if (this.rateLimitsSeen) throw problem('the rate limits are given twice');
      this.rateLimitsSeen = true;
      this.rateLimits = part;
    } else if (section === 'end') {
      const c = part as Partial<Record<keyof StoredCounts, unknown>> | null;
      if (typeof c !== 'object' || c === null || ![c.files, c.increments, c.threads, c.strings].every((v) => Number.isInteger(v))) throw problem('the last line has no counts');
      this.counts = c as StoredCounts;
    } else if ((LIST_SECTIONS as readonly string[]).includes(section)) {
      if (!Array.isArray(part)) throw problem(`the ${section} are not a list`);
      this.lists[section as ListSection].push(part);
    } else {
      throw problem(`no section is named ${JSON.stringify(section)}`);
    }
  }

  /** The stored form the lines held, and the state's id (undefined for a state saved without one). */
  finish(): { stored: StoredScanState; id: string | undefined } {
    if (this.lineCount === 0) throw new StoredStateProblem('corrupt', 'it is empty');
    const id = typeof this.header?.id === 'string' ? this.header.id : undefined;
    if (this.whole) return { stored: this.whole, id };
    const counts = this.counts;
    if (!counts) throw new StoredStateProblem('corrupt', `it ends at line ${this.lineCount}, before its last line`);
    const joined = (parts: unknown[][]): unknown[] => {
      if (parts.length === 1) return parts[0]!;
      // Concatenated a few thousand parts at a time: a call takes only so many arguments.
      let list: unknown[] = [];
      for (let i = 0; i < parts.length; i += LIST_PARTS_PER_CONCAT) list = list.concat(...parts.slice(i, i + LIST_PARTS_PER_CONCAT));
      return list;
    };
    const l = this.lists;
    const keys = joined(l.keys), timestamps = joined(l.timestamps), incrementFiles = joined(l.incrementFiles), otherNumbers = joined(l.otherNumbers);
    const unusualRaw = joined(l.unusualRaw), threads = joined(l.threads), strings = joined(l.strings);
    const held: StoredCounts = { files: this.fileCount, increments: keys.length, threads: threads.length, strings: strings.length };
    for (const what of ['files', 'increments', 'threads', 'strings'] as const) {
      if (held[what] !== counts[what]) throw new StoredStateProblem('shape', `the last line counts ${counts[what]} ${what}, the lines hold ${held[what]}`);
    }
    const stored: StoredScanState = {
      version: this.header!.version as StoredScanState['version'],
      savedAt: this.header!.savedAt as string,
      files: this.files as StoredScanState['files'],
      strings: strings as string[],
      increments: {
        numbers: this.numbers.length === 1 ? this.numbers[0]! : Buffer.concat(this.numbers),
        otherNumbers: otherNumbers as StoredIncrements['otherNumbers'], keys: keys as StoredIncrements['keys'], timestamps: timestamps as string[],
        files: incrementFiles as StoredIncrements['files'], unusualRaw: unusualRaw as StoredIncrements['unusualRaw'],
      },
      threads: threads as StoredScanState['threads'],
      rateLimits: this.rateLimits as StoredScanState['rateLimits'],
    };
    return { stored, id };
  }
}

/** The inverse of encodeScanState; throws on columns that are not ones it writes. */
export function decodeScanState(stored: StoredScanState): PersistedScanState {
  const increments = decodeIncrementColumns(stored.increments, stored.strings);
  // A state of WHOLE_TEXT_STATE_VERSION holds what this version does.
  return { version: SCAN_STATE_VERSION, savedAt: stored.savedAt, files: stored.files, ledger: { increments, threads: stored.threads, rateLimits: stored.rateLimits ?? undefined } };
}

/** The stored columns as the ledger's store takes them (IncrementColumns), with each increment's reporting files; throws on ones encodeScanState does not write. */
function decodeIncrementColumns(stored: StoredIncrements, strings: unknown[]): LoadedColumns {
  if (typeof stored !== 'object' || stored === null || Array.isArray(stored)) throw new Error('the increments are not in columns');
  const { numbers, otherNumbers, keys, timestamps, files, unusualRaw } = stored;
  if (!Array.isArray(keys)) throw new Error('the increments have no keys');
  const n = keys.length;
  const sized = (column: unknown, name: string): void => {
    if (!Array.isArray(column) || column.length !== n) throw new Error(`the increments' ${name} are not one per increment`);
  };
  const words = numbers32(numbers, n);
  sized(timestamps, 'timestamps');
  sized(files, 'files');
  if (!Array.isArray(otherNumbers)) throw new Error('the increments have no list of other figures');
  if (!Array.isArray(unusualRaw)) throw new Error('the increments have no list of other raw figures');
  const stringCount = strings.length;
  const str = stringReader(strings);
  const isRef = (i: unknown): boolean => Number.isInteger(i) && (i as number) >= 0 && (i as number) < stringCount;
  // Room for the next adds (IncrementColumns): a run after a change adds a few.
  const room = n + Math.max(64, n >> 5);
  const columns: IncrementColumns = {
    count: n,
    keys: new Array<string>(n),
    markedKeys: new Uint8Array(room),
    timestamps: timestamps,
    threadRefs: new Int32Array(room),
    modelRefs: new Int32Array(room),
    cwdRefs: new Int32Array(room),
    sources: new Uint8Array(room),
    rawShapes: new Uint16Array(room),
    figures: new Float64Array(room * INCREMENT_FIGURES),
    unusualRaw: new Map(),
    strings: strings as string[],
  };
  const reporters: (string | string[])[] = new Array<string | string[]>(n);
  const figures = columns.figures;
  for (let i = 0; i < n; i += 1) {
    const at = i * WORDS_PER_INCREMENT;
    const thread = words(at);
    const sourceAndShape = words(at + 3);
    const source = sourceAndShape & 0xff;
    if (thread >= stringCount || INCREMENT_SOURCES[source] === undefined) throw new Error(`increment ${i} has no thread or source`);
    const key = keys[i];
    // Made whole when first read (IncrementStore.key): a run that reads a few threads' keys makes only theirs.
    if (typeof key === 'string') {
      columns.keys[i] = key;
      if (key.includes(THREAD_MARK)) columns.markedKeys[i] = 1;
    } else if (Array.isArray(key) && typeof key[0] === 'string') columns.keys[i] = key[0];
    else throw new Error(`increment ${i} has no key`);
    if (typeof timestamps[i] !== 'string') throw new Error(`increment ${i} has no timestamp or figures`);
    const model = words(at + 1) - 1;
    const cwd = words(at + 2) - 1;
    if (model >= stringCount || cwd >= stringCount) throw new Error(`increment ${i} has no model or folder`);
    columns.threadRefs[i] = thread;
    columns.modelRefs[i] = model;
    columns.cwdRefs[i] = cwd;
    columns.sources[i] = source;
    const shape = sourceAndShape >>> 8;
    if (shape > 0xffff || !isRawShape(shape)) throw new Error(`increment ${i} has raw figures of no known shape`);
    columns.rawShapes[i] = shape;
    const first = i * INCREMENT_FIGURES;
    for (let f = 0; f < INCREMENT_FIGURES; f += 1) figures[first + f] = words(at + FIRST_FIGURE_WORD + f);
    const reported = files[i];
    if (typeof reported === 'number' && isRef(reported)) reporters[i] = str(reported)!;
    else if (Array.isArray(reported) && reported.length > 0 && reported.every(isRef)) reporters[i] = reported.length === 1 ? str(reported[0]!)! : reported.map((f) => str(f)!);
    else throw new Error(`increment ${i} has no file`);
  }
  for (const entry of otherNumbers) {
    const [i, f, value] = Array.isArray(entry) && entry.length === 3 ? entry as unknown[] : [];
    const known = Number.isInteger(i) && (i as number) >= 0 && (i as number) < n && Number.isInteger(f) && (f as number) >= 0 && (f as number) < INCREMENT_FIGURES;
    // A bucket is a count; a raw figure any finite number (a log's JSON has no other).
    if (!known || typeof value !== 'number' || !Number.isFinite(value) || ((f as number) < 5 && value < 0)) throw new Error('the other figures are not of the increments\' own');
    figures[(i as number) * INCREMENT_FIGURES + (f as number)] = value;
  }
  for (const entry of unusualRaw) {
    const [i, value] = Array.isArray(entry) ? entry as unknown[] : [];
    if (!Number.isInteger(i) || (i as number) < 0 || (i as number) >= n || columns.rawShapes[i as number] !== RAW_WHOLE || typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new Error('the other raw figures are not of the increments\' own');
    }
    columns.unusualRaw.set(i as number, value as CodexTokenUsage);
  }
  return { columns, reporters };
}

/** Whether this machine stores numbers little-endian, as StoredIncrements.numbers does (then a Uint32Array reads them as they are). */
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** The `count` increments' words of StoredIncrements.numbers, as a reader by word index; throws when there are not as many. */
function numbers32(numbers: unknown, count: number): (word: number) => number {
  let bytes: Buffer;
  if (typeof numbers === 'string') {
    bytes = Buffer.from(numbers, 'base64');
    if (numbers.length !== Math.ceil(bytes.length / 3) * 4) throw new Error('the increments\' numbers are not one per increment');
  } else if (Buffer.isBuffer(numbers)) bytes = numbers;
  else throw new Error('the increments\' numbers are not one per increment');
  if (bytes.length !== count * BYTES_PER_INCREMENT) throw new Error('the increments\' numbers are not one per increment');
  if (!LITTLE_ENDIAN) {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
    return (word) => view.getUint32(word * 4, true);
  }
  // A small decoded Buffer sits at any offset of Node's pool: copied to where 32-bit words can be read.
  const aligned = bytes.byteOffset % 4 === 0 ? bytes : Uint8Array.prototype.slice.call(bytes);
  const words = new Uint32Array(aligned.buffer, aligned.byteOffset, count * WORDS_PER_INCREMENT);
  return (word) => words[word]!;
}

/** A reader of indexes into a string table; throws on one that is not there (-1 is "none"). */
function stringReader(strings: readonly unknown[]): (i: number) => string | undefined {
  return (i: number): string | undefined => {
    if (i === -1) return undefined;
    const value = strings[i];
    if (typeof value !== 'string') throw new Error(`string ${i} is missing`);
    return value;
  };
}

/**
 * One entry of a state's journal (ScanStateStore), as one line of JSON: the changes of one save,
 * for the state written with `baseId`. The increments added are stored as the state stores its own
 * (StoredIncrements), each with the file that reported it; the ledger's changes are [0, n] (an add:
 * the entry's n-th increment), [1, file] (a file taken out), [2, thread], [3, rate limits].
 */
export function encodeJournalEntry(baseId: string, changes: ScanStateChanges): string {
  const table = new StringTable();
  const added = new IncrementsWriter(table, new NumbersWriter());
  const ledger = changes.ledger.map((change): StoredChange => {
    switch (change.kind) {
      case 'add':
        added.add(change.increment, [change.file]);
        return [0, added.keys.length - 1];
      case 'remove':
        return [1, table.ref(change.file)];
      case 'thread':
        return [2, change.info];
      case 'rateLimits':
        return [3, change.snapshot];
    }
  });
  return `${JSON.stringify({ base: baseId, files: changes.files, increments: added.stored(), changes: ledger, strings: table.strings })}\n`;
}

type StoredChange = [0, number] | [1, number] | [2, ThreadInfo] | [3, RateLimitSnapshot];

/** The changes of a parsed journal entry, with its base id; throws on an entry it does not write (file records are checked by the caller). */
export function decodeJournalEntry(json: unknown): { baseId: string; changes: ScanStateChanges } {
  const e = json as { base?: unknown; files?: unknown; increments?: unknown; changes?: unknown; strings?: unknown } | null;
  if (typeof e !== 'object' || e === null || typeof e.base !== 'string') throw new Error('no base id');
  if (typeof e.files !== 'object' || e.files === null || Array.isArray(e.files)) throw new Error('no file records');
  if (!Array.isArray(e.changes) || !Array.isArray(e.strings)) throw new Error('no changes');
  const str = stringReader(e.strings);
  const added = [...snapshotEntries(decodeIncrementColumns(e.increments as StoredIncrements, e.strings))];
  const ledger = e.changes.map((c: unknown, n: number): LedgerChange => {
    if (!Array.isArray(c) || c.length !== 2) throw new Error(`change ${n} is not a pair`);
    const [kind, value] = c as [unknown, unknown];
    switch (kind) {
      case 0: {
        const entry = Number.isInteger(value) ? added[value as number] : undefined;
        if (!entry) throw new Error(`change ${n} adds no increment of the entry`);
        const [increment, files] = entry;
        if (files.length !== 1) throw new Error(`change ${n} has ${files.length} files`);
        return { kind: 'add', file: files[0]!, increment };
      }
      case 1: {
        const file = str(value as number);
        if (file === undefined) throw new Error(`change ${n} has no file`);
        return { kind: 'remove', file };
      }
      case 2:
        if (typeof value !== 'object' || value === null || typeof (value as ThreadInfo).threadId !== 'string' || typeof (value as ThreadInfo).file !== 'string') throw new Error(`change ${n} is not a thread`);
        return { kind: 'thread', info: value as ThreadInfo };
      case 3:
        if (typeof value !== 'object' || value === null || typeof (value as RateLimitSnapshot).observedAt !== 'string') throw new Error(`change ${n} is not a rate-limit snapshot`);
        return { kind: 'rateLimits', snapshot: value as RateLimitSnapshot };
      default:
        throw new Error(`change ${n} is of an unknown kind`);
    }
  });
  return { baseId: e.base, changes: { ledger, files: e.files as ScanStateChanges['files'] } };
}
