import { type LedgerChange, type LedgerSnapshot } from './ledger.js';
import { type IncrementSource, type RateLimitSnapshot, type ThreadInfo, type UsageIncrement } from './ledgerTypes.js';
import { type CodexTokenUsage } from './normalize.js';
import { type PersistedScanState, type ScanStateChanges } from './scanState.js';

/**
 * The scan state as stored on disk: the same content as PersistedScanState, with the ledger's
 * increments as short tuples over a table of strings (thread ids, models, folders and file paths
 * repeat thousands of times). A 1 GB home's state shrinks about fourfold, and loads that much faster.
 */
export interface StoredScanState {
  version: PersistedScanState['version'];
  savedAt: string;
  files: PersistedScanState['files'];
  strings: string[];
  increments: StoredIncrement[];
  threads: PersistedScanState['ledger']['threads'];
  rateLimits: PersistedScanState['ledger']['rateLimits'] | null;
}

/**
 * [key, thread, timestamp, model, cwd, source, uncachedInput, cachedInput, cacheWriteInput, output,
 * reasoningOutput, raw, files]: thread, model and cwd index `strings` (-1: none); the key is a string
 * with "\u0001" where the thread id was, or a one-element array holding the key as it is; raw is 0
 * (none), the six Codex figures (false: absent), or the object itself when it has other fields;
 * files is one index into `strings` or several.
 */
export type StoredIncrement = [
  key: string | [string], thread: number, timestamp: string, model: number, cwd: number, source: number,
  uncachedInput: number, cachedInput: number, cacheWriteInput: number, output: number, reasoningOutput: number,
  raw: 0 | (number | null | false)[] | CodexTokenUsage, files: number | number[],
];

const SOURCES: IncrementSource[] = ['record', 'snapshot', 'estimate'];
const RAW_FIELDS = ['input_tokens', 'cached_input_tokens', 'cache_write_input_tokens', 'output_tokens', 'reasoning_output_tokens', 'total_tokens'] as const;
const THREAD_MARK = '\u0001';

export function encodeScanState(state: PersistedScanState): StoredScanState {
  const table = new StringTable();
  const increments = Array.from(state.ledger.increments, ([inc, files]) => encodeIncrement(inc, files, table));
  return { version: state.version, savedAt: state.savedAt, files: state.files, strings: table.strings, increments, threads: state.ledger.threads, rateLimits: state.ledger.rateLimits ?? null };
}

/**
 * The size the pieces of encodeScanStatePieces reach, in characters: well below V8's largest regular
 * heap object (128 KiB), even for a piece of two-byte characters (a path outside Latin-1). A longer
 * string is a large object, allocated outside the young generation and kept until V8's next full
 * collection, even when it is garbage at once. Pieces of 0.3–1.5 MB (a few hundred increments or
 * files each, and the threads and strings whole) left some 20 MiB of them behind in a thread with a
 * small young generation (threadResources.ts) on a 1 GB home, whose state was 12 MB; pieces of this
 * size leave about 6.
 */
export const STATE_PIECE_CHARS = 32 * 1024;

/**
 * The JSON text of the stored form in pieces of about `pieceChars` characters (an item longer than
 * that is a piece of its own), so that a large state is written without ever holding its whole text
 * (or all its tuples) in memory. The pieces joined parse to the same value as
 * JSON.stringify(encodeScanState(state)).
 */
export function* encodeScanStatePieces(state: PersistedScanState, pieceChars = STATE_PIECE_CHARS, baseId?: string): Generator<string> {
  const id = baseId === undefined ? '' : `"id":${JSON.stringify(baseId)},`;
  yield `{"version":${JSON.stringify(state.version)},${id}"savedAt":${JSON.stringify(state.savedAt)},"files":{`;
  yield* commaSeparated(fileEntries(state.files), pieceChars);
  yield '},"increments":[';
  const table = new StringTable();
  yield* commaSeparated(incrementTuples(state.ledger.increments, table), pieceChars);
  yield '],"threads":[';
  yield* commaSeparated(eachStringified(state.ledger.threads), pieceChars);
  yield `],"rateLimits":${JSON.stringify(state.ledger.rateLimits ?? null)},"strings":[`;
  yield* commaSeparated(eachStringified(table.strings), pieceChars);
  yield ']}';
}

/** Joins the texts with commas into pieces of at least `pieceChars` characters (the last one may be shorter). */
function* commaSeparated(texts: Iterable<string>, pieceChars: number): Generator<string> {
  let parts: string[] = [];
  let length = 0;
  let first = true;
  for (const text of texts) {
    parts.push(text);
    length += text.length + 1;
    if (length >= pieceChars) {
      yield (first ? '' : ',') + parts.join(',');
      first = false;
      parts = [];
      length = 0;
    }
  }
  if (parts.length > 0) yield (first ? '' : ',') + parts.join(',');
}

function* fileEntries(files: PersistedScanState['files']): Generator<string> {
  for (const path of Object.keys(files)) yield `${JSON.stringify(path)}:${JSON.stringify(files[path])}`;
}

/** Each increment's tuple as JSON, its strings entered in `table` on the way (so `table` is complete only at the end). */
function* incrementTuples(increments: LedgerSnapshot['increments'], table: StringTable): Generator<string> {
  for (const [inc, paths] of increments) yield JSON.stringify(encodeIncrement(inc, paths, table));
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

function encodeIncrement(inc: UsageIncrement, files: string[], table: StringTable): StoredIncrement {
  const b = inc.buckets;
  const key = !inc.key.includes(THREAD_MARK) && inc.key.includes(inc.threadId) ? inc.key.replace(inc.threadId, THREAD_MARK) : [inc.key] as [string];
  const fileRefs = files.map((f) => table.ref(f));
  return [
    key, table.ref(inc.threadId), inc.timestamp, table.ref(inc.model), table.ref(inc.cwd), SOURCES.indexOf(inc.source),
    b.uncachedInput, b.cachedInput, b.cacheWriteInput, b.output, b.reasoningOutput,
    encodeRaw(inc.raw), fileRefs.length === 1 ? fileRefs[0]! : fileRefs,
  ];
}

/** The inverse of encodeScanState; throws on a tuple that is not one it writes. */
export function decodeScanState(stored: StoredScanState): PersistedScanState {
  const str = stringReader(stored.strings);
  const increments: [UsageIncrement, string[]][] = stored.increments.map((t, n) => decodeIncrement(t, n, str));
  return { version: stored.version, savedAt: stored.savedAt, files: stored.files, ledger: { increments, threads: stored.threads, rateLimits: stored.rateLimits ?? undefined } };
}

/** An increment tuple (encodeIncrement's) with the files that reported it; throws on one it does not write. */
function decodeIncrement(t: StoredIncrement, n: number, str: (i: number) => string | undefined): [UsageIncrement, string[]] {
  if (!Array.isArray(t) || t.length !== 13) throw new Error(`increment ${n} is not a 13-part tuple`);
  const threadId = str(t[1]);
  const source = SOURCES[t[5]];
  if (threadId === undefined || source === undefined) throw new Error(`increment ${n} has no thread or source`);
  if (typeof t[2] !== 'string' || !isCount(t[6]) || !isCount(t[7]) || !isCount(t[8]) || !isCount(t[9]) || !isCount(t[10])) throw new Error(`increment ${n} has no timestamp or figures`);
  if (!(Array.isArray(t[0]) ? typeof t[0][0] === 'string' : typeof t[0] === 'string')) throw new Error(`increment ${n} has no key`);
  const key = Array.isArray(t[0]) ? t[0][0] : t[0].replace(THREAD_MARK, threadId);
  const inc: UsageIncrement = {
    key, threadId, timestamp: t[2],
    buckets: { uncachedInput: t[6], cachedInput: t[7], cacheWriteInput: t[8], output: t[9], reasoningOutput: t[10] },
    source,
  };
  const model = str(t[3]);
  const cwd = str(t[4]);
  if (model !== undefined) inc.model = model;
  if (cwd !== undefined) inc.cwd = cwd;
  const raw = decodeRaw(t[11]);
  if (raw) inc.raw = raw;
  const files = (Array.isArray(t[12]) ? t[12] : [t[12]]).map((i) => str(i));
  if (files.length === 0 || files.some((f) => f === undefined)) throw new Error(`increment ${n} has no file`);
  return [inc, files as string[]];
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
 * for the state written with `baseId`. The ledger's changes are [0, increment tuple] (an add, the
 * tuple's file being the reporting one), [1, file] (a file taken out), [2, thread], [3, rate limits].
 */
export function encodeJournalEntry(baseId: string, changes: ScanStateChanges): string {
  const table = new StringTable();
  const ledger = changes.ledger.map((change): StoredChange => {
    switch (change.kind) {
      case 'add':
        return [0, encodeIncrement(change.increment, [change.file], table)];
      case 'remove':
        return [1, table.ref(change.file)];
      case 'thread':
        return [2, change.info];
      case 'rateLimits':
        return [3, change.snapshot];
    }
  });
  return `${JSON.stringify({ base: baseId, files: changes.files, changes: ledger, strings: table.strings })}\n`;
}

type StoredChange = [0, StoredIncrement] | [1, number] | [2, ThreadInfo] | [3, RateLimitSnapshot];

/** The changes of a parsed journal entry, with its base id; throws on an entry it does not write (file records are checked by the caller). */
export function decodeJournalEntry(json: unknown): { baseId: string; changes: ScanStateChanges } {
  const e = json as { base?: unknown; files?: unknown; changes?: unknown; strings?: unknown } | null;
  if (typeof e !== 'object' || e === null || typeof e.base !== 'string') throw new Error('no base id');
  if (typeof e.files !== 'object' || e.files === null || Array.isArray(e.files)) throw new Error('no file records');
  if (!Array.isArray(e.changes) || !Array.isArray(e.strings)) throw new Error('no changes');
  const str = stringReader(e.strings);
  const ledger = e.changes.map((c: unknown, n: number): LedgerChange => {
    if (!Array.isArray(c) || c.length !== 2) throw new Error(`change ${n} is not a pair`);
    const [kind, value] = c as [unknown, unknown];
    switch (kind) {
      case 0: {
        const [increment, files] = decodeIncrement(value as StoredIncrement, n, str);
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

function isCount(value: unknown): boolean {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0;
}

function encodeRaw(raw: CodexTokenUsage | undefined): StoredIncrement[11] {
  if (!raw) return 0;
  const known = new Set<string>(RAW_FIELDS);
  if (Object.keys(raw).some((k) => !known.has(k))) return raw;
  return RAW_FIELDS.map((f) => (raw[f] === undefined ? false : raw[f]));
}

function decodeRaw(stored: StoredIncrement[11]): CodexTokenUsage | undefined {
  if (stored === 0) return undefined;
  if (!Array.isArray(stored)) return stored;
  const raw: Record<string, number | null> = {};
  RAW_FIELDS.forEach((f, i) => {
    const v = stored[i];
    if (v !== false && v !== undefined) raw[f] = v;
  });
  return raw as CodexTokenUsage;
}
