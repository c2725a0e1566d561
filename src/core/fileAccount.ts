import { deriveAgent, describeSource } from './agents.js';
import { type LineDisposition, lineText, PREFIX_BYTES, type ReadLine } from './lineReader.js';
import {
  emptyCounters,
  type LedgerCounters,
  type LineProblem,
  type RateLimitSnapshot,
  type RateLimitWindow,
  type ThreadInfo,
  type UsageIncrement,
} from './ledgerTypes.js';
import { type CodexTokenUsage, fromCodexUsage } from './normalize.js';
import {
  envelopeSchema,
  legacyHeaderSchema,
  type RateLimitsLine,
  type SessionMetaLine,
  sessionMetaPayloadSchema,
} from './rolloutSchemas.js';
import { decodeUsageLine, type UsageLine, usageLineFromEnvelope } from './usageLines.js';
import { BUCKET_KEYS, bucketsEqual, isZero, subtractBuckets, type TokenBuckets } from './usage.js';

/** Counts the tokens of a text (a real tokenizer in production, anything deterministic in tests). */
export type TokenCounter = (text: string) => number;

/** Everything a file's account must remember between reads; plain JSON so it can be persisted. */
export interface FileAccountState {
  format: 'unknown' | 'envelope' | 'legacy';
  threadId?: string;
  model?: string;
  cwd?: string;
  /** Inside history copied from another thread (a fork or sub-agent replaying its parent). */
  inReplay: boolean;
  /** The last cumulative snapshot (buckets) seen in this file. */
  previousTotal?: TokenBuckets;
  /** Counts restarts of the cumulative totals (codex exec resume in 0.44/0.58). */
  segment: number;
  /** Set once a token_usage_record line was seen: from then on records are the source. */
  hasRecords: boolean;
  /** Snapshot increments seen after records started, summed for the cross-check. */
  shadowSnapshotTotal: number;
  recordTotal: number;
  /** The last usage record not yet confirmed by a snapshot (the cross-check of the two sources). */
  unconfirmedRecord?: TokenBuckets;
  legacy?: { contextTokens: number; lastWasOutput: boolean; startedAt?: string };
  counters: LedgerCounters;
}

export function newFileAccountState(): FileAccountState {
  return { format: 'unknown', inReplay: false, segment: 0, hasRecords: false, shadowSnapshotTotal: 0, recordTotal: 0, counters: emptyCounters() };
}

/** What one line produced (read only: a line that produced nothing may share one empty outcome). */
export interface LineOutcome {
  increments: UsageIncrement[];
  thread?: ThreadInfo;
  rateLimits?: RateLimitSnapshot;
  problem?: LineProblem;
  /** A thread whose usage was estimated from text (reported once by the caller). */
  estimatedThread?: string;
}

/** The outcome of every line that produces nothing (frozen: it is shared). */
const NOTHING: LineOutcome = Object.freeze({ increments: Object.freeze([]) as unknown as UsageIncrement[] });
const ENVELOPE_TYPE = /^\{\s*"timestamp"\s*:\s*"[^"]*"\s*,\s*(?:"ordinal"\s*:\s*\d+\s*,\s*)?"type"\s*:\s*"([a-z_]+)"/;
const PAYLOAD_TYPE = /"payload"\s*:\s*\{\s*"type"\s*:\s*"([a-z_]+)"/;
const KNOWN_CONTENT_TYPES = new Set(['response_item', 'world_state', 'event_msg', 'compacted']);
const RELEVANT_EVENTS = new Set(['token_count', 'thread_settings_applied']);
const QUOTE = 0x22;
const TIMESTAMP_KEY = Buffer.from('{"timestamp":"');
const ORDINAL_KEY = Buffer.from(',"ordinal":');
const TYPE_KEY = Buffer.from(',"type":"');
const RESPONSE_ITEM = Buffer.from('response_item"');
const WORLD_STATE = Buffer.from('world_state"');
const EVENT_MSG_PAYLOAD = Buffer.from('event_msg","payload":{"type":"');
/** Envelope types the classifier always has parsed, with their closing quote. */
const PARSED_TYPES = ['session_meta"', 'turn_context"', 'token_usage_record"'].map((t) => Buffer.from(t));

/** True when `bytes` holds `expected` at `at`, wholly before `limit`. */
function hasAt(bytes: Buffer, at: number, limit: number, expected: Buffer): boolean {
  if (at + expected.length > limit) return false;
  for (let i = 0; i < expected.length; i += 1) if (bytes[at + i] !== expected[i]) return false;
  return true;
}
const LEGACY_OUTPUT_TYPES = new Set(['function_call', 'local_shell_call', 'custom_tool_call', 'reasoning']);

/**
 * The accounting of one rollout file, line by line. It turns usage lines into increments that
 * each count one model response exactly once:
 *  - `token_usage_record` lines (Codex 0.169+) are per response and keyed by response id;
 *    once a file has them, its cumulative snapshots only serve as a cross-check.
 *  - Otherwise each `token_count` snapshot whose cumulative total changed contributes its
 *    `last_token_usage`; repeated snapshots (same total) are ignored, a total equal to its own
 *    `last` after earlier usage marks a restart, and history replayed from a parent thread (after a
 *    foreign session_meta, until the child's own first turn) only sets the inherited baseline.
 *  - Files with no usage at all (Codex 0.8–0.20) are estimated from their text.
 * Totals are never taken from `total_tokens`; they derive from the buckets.
 */
export class FileAccount {
  constructor(
    readonly file: string,
    private readonly state: FileAccountState,
    private readonly countTokens: TokenCounter,
  ) {}

  get snapshot(): FileAccountState {
    return this.state;
  }

  /** The classifier for this file's next line (it depends on the format seen so far). */
  readonly classify = (prefix: string): LineDisposition => {
    if (this.state.format === 'legacy') return 'parse';
    const envelope = ENVELOPE_TYPE.exec(prefix);
    // Not an envelope with the usual key order: the legacy header, an envelope written in another
    // order, or garbage. Parsing tells which (and gives garbage a line number in the warnings).
    if (!envelope) return 'parse';
    const type = envelope[1]!;
    switch (type) {
      case 'session_meta':
      case 'turn_context':
      case 'token_usage_record':
        return 'parse';
      case 'event_msg': {
        const payloadType = PAYLOAD_TYPE.exec(prefix)?.[1];
        if (payloadType === undefined) return prefix.length < 200 ? 'parse' : 'skip';
        return RELEVANT_EVENTS.has(payloadType) ? 'parse' : 'skip';
      }
      case 'compacted':
        return 'count';
      default:
        return KNOWN_CONTENT_TYPES.has(type) ? 'skip' : 'count';
    }
  };

  /**
   * The classifier's answer, decided from bytes, for lines written the way Codex writes them
   * (compact JSON, keys in the usual order): 'skip' for response_item and world_state lines and
   * event_msg lines whose payload type the account does not read, 'parse' for the envelope types
   * and events it does read. Anything else is left to `classify` (undefined).
   */
  readonly quickClassify = (bytes: Buffer, start: number, end: number): LineDisposition | undefined => {
    if (this.state.format === 'legacy') return undefined;
    const limit = Math.min(end, start + PREFIX_BYTES);
    if (!hasAt(bytes, start, limit, TIMESTAMP_KEY)) return undefined;
    const closing = bytes.indexOf(QUOTE, start + TIMESTAMP_KEY.length);
    if (closing < 0 || closing >= limit) return undefined;
    let at = closing + 1;
    if (hasAt(bytes, at, limit, ORDINAL_KEY)) {
      at += ORDINAL_KEY.length;
      const digits = at;
      while (at < limit && bytes[at]! >= 0x30 && bytes[at]! <= 0x39) at += 1;
      if (at === digits) return undefined;
    }
    if (!hasAt(bytes, at, limit, TYPE_KEY)) return undefined;
    at += TYPE_KEY.length;
    if (hasAt(bytes, at, limit, RESPONSE_ITEM) || hasAt(bytes, at, limit, WORLD_STATE)) return 'skip';
    for (const parsed of PARSED_TYPES) if (hasAt(bytes, at, limit, parsed)) return 'parse';
    if (!hasAt(bytes, at, limit, EVENT_MSG_PAYLOAD)) return undefined;
    at += EVENT_MSG_PAYLOAD.length;
    const nameEnd = bytes.indexOf(QUOTE, at);
    if (nameEnd <= at || nameEnd >= limit) return undefined;
    for (let i = at; i < nameEnd; i += 1) {
      const c = bytes[i]!;
      if (!((c >= 0x61 && c <= 0x7a) || c === 0x5f)) return undefined;
    }
    return RELEVANT_EVENTS.has(bytes.toString('latin1', at, nameEnd)) ? 'parse' : 'skip';
  };

  /** Accounts one line read from the file. */
  handle(line: ReadLine): LineOutcome {
    const counters = this.state.counters;
    if (line.oversized) counters.oversizedLines += 1;
    if (line.disposition === 'skip') return NOTHING;
    const outcome: LineOutcome = { increments: [] };
    if (line.disposition === 'count') {
      const type = ENVELOPE_TYPE.exec(line.prefix)?.[1];
      if (type === 'compacted') counters.compactions += 1;
      else if (type !== undefined && !KNOWN_CONTENT_TYPES.has(type)) counters.unknownLineTypes += 1;
      else if (type === undefined && line.prefix.trim() !== '') counters.unknownLineTypes += 1;
      return outcome;
    }
    // Usage and turn lines as Codex writes them are decoded straight from their bytes; any other
    // line, or one the decoder leaves alone, goes through JSON.parse and the schemas, to the same result.
    if (this.state.format !== 'legacy' && line.bytes) {
      const decoded = decodeUsageLine(line.bytes);
      if (decoded) {
        if (this.state.format === 'unknown') this.state.format = 'envelope';
        this.applyUsageLine(decoded.line, decoded.timestamp, line, outcome);
        return outcome;
      }
    }
    const text = lineText(line);
    if (text.trim() === '') return outcome;
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (err) {
      return this.problem(outcome, line, `not valid JSON (${(err as Error).message.slice(0, 80)})`);
    }
    const envelope = this.state.format === 'legacy' ? undefined : envelopeSchema.safeParse(json);
    if (envelope?.success) {
      if (this.state.format === 'unknown') this.state.format = 'envelope';
      this.handleEnvelope(envelope.data.type, envelope.data.payload, envelope.data.timestamp ?? undefined, line, outcome);
      return outcome;
    }
    this.handleLegacy(json, line, outcome);
    return outcome;
  }

  /** An envelope line read by JSON.parse: checked against its schema, then accounted as a UsageLine. */
  private handleEnvelope(type: string, payload: unknown, timestamp: string | undefined, line: ReadLine, outcome: LineOutcome): void {
    const counters = this.state.counters;
    switch (type) {
      case 'session_meta': {
        const meta = sessionMetaPayloadSchema.safeParse(payload);
        if (!meta.success) {
          this.problem(outcome, line, `session_meta without a usable id (${meta.error.issues[0]?.message ?? 'invalid'})`);
          return;
        }
        const m = meta.data;
        if (this.state.threadId === undefined) {
          this.state.threadId = m.id;
          if (m.cwd) this.state.cwd = m.cwd;
          outcome.thread = this.threadInfo(m.id, m, timestamp);
        } else if (m.id !== this.state.threadId) {
          // History of another thread follows (a fork or sub-agent copying its parent).
          this.state.inReplay = true;
        }
        return;
      }
      case 'turn_context':
      case 'token_usage_record':
      case 'event_msg': {
        const usageLine = usageLineFromEnvelope(type, payload);
        if (usageLine && 'problem' in usageLine) this.problem(outcome, line, usageLine.problem);
        else if (usageLine) this.applyUsageLine(usageLine, timestamp, line, outcome);
        return;
      }
      case 'compacted':
        counters.compactions += 1;
        return;
      default:
        if (!KNOWN_CONTENT_TYPES.has(type)) counters.unknownLineTypes += 1;
    }
  }

  /** Accounts a turn_context, token_usage_record or event_msg line, however it was read. */
  private applyUsageLine(usageLine: UsageLine, timestamp: string | undefined, line: ReadLine, outcome: LineOutcome): void {
    const state = this.state;
    switch (usageLine.kind) {
      case 'turn_context':
        if (usageLine.model) state.model = usageLine.model;
        if (usageLine.cwd) state.cwd = usageLine.cwd;
        state.inReplay = false;
        return;
      case 'thread_settings_applied':
        state.inReplay = false;
        return;
      case 'other_event':
        return;
      case 'token_usage_record': {
        state.counters.usageRecords += 1;
        state.hasRecords = true;
        const normalized = fromCodexUsage(usageLine.usage);
        const own = usageLine.threadId === state.threadId;
        // A record that no snapshot confirmed before the next record: the totals left it out (remote
        // compaction does). The record is kept, being the more complete source; the gap is counted.
        if (state.unconfirmedRecord && own) state.counters.sourceDisagreements += 1;
        state.unconfirmedRecord = own ? normalized.buckets : undefined;
        state.recordTotal += sumOf(normalized.buckets);
        const key = `r:${usageLine.threadId}:${usageLine.responseId ?? `${this.file}#${line.lineNumber}`}`;
        outcome.increments.push(this.increment(key, usageLine.threadId, timestamp, normalized.buckets, 'record', usageLine.usage, usageLine.model ?? undefined));
        return;
      }
      case 'token_count': {
        if (usageLine.rateLimits) {
          const snapshot = rateLimitSnapshot(usageLine.rateLimits, timestamp, state.threadId);
          if (snapshot) outcome.rateLimits = snapshot;
        }
        const info = usageLine.info;
        if (!info) return;
        this.handleSnapshot(info.total, info.last ?? undefined, timestamp, outcome);
      }
    }
  }

  private handleSnapshot(totalRaw: CodexTokenUsage, lastRaw: CodexTokenUsage | undefined, timestamp: string | undefined, outcome: LineOutcome): void {
    const state = this.state;
    const counters = state.counters;
    const total = fromCodexUsage(totalRaw).buckets;
    const last = lastRaw ? fromCodexUsage(lastRaw).buckets : undefined;
    const previous = state.previousTotal;
    if (state.inReplay) {
      counters.replayedSnapshots += 1;
      state.previousTotal = total;
      return;
    }
    if (previous && bucketsEqual(previous, total)) {
      counters.repeatedSnapshots += 1;
      return;
    }
    counters.snapshots += 1;
    const continued = previous ? subtractBuckets(total, previous) : undefined;
    const restarted = previous !== undefined && !isZero(previous) && last !== undefined && bucketsEqual(total, last);
    if (restarted) {
      state.segment += 1;
      counters.totalsRestarts += 1;
    } else if (last && continued && !bucketsEqual(continued, last)) {
      counters.sourceDisagreements += 1;
    }
    state.previousTotal = total;
    let increment: TokenBuckets | undefined;
    if (last) increment = last;
    else if (continued) increment = continued;
    else if (previous === undefined && this.isInheritedStart()) increment = undefined; // a fork's first total includes its parent
    else increment = total;
    if (!increment || isZero(increment)) return;
    if (state.hasRecords) {
      state.shadowSnapshotTotal += sumOf(increment);
      if (state.unconfirmedRecord && !bucketsEqual(state.unconfirmedRecord, increment)) counters.sourceDisagreements += 1;
      state.unconfirmedRecord = undefined;
      return;
    }
    const threadId = state.threadId ?? `unknown:${this.file}`;
    const key = `s:${threadId}:${state.segment}:${BUCKET_KEYS.map((k) => total[k]).join(',')}`;
    outcome.increments.push(this.increment(key, threadId, timestamp, increment, 'snapshot', lastRaw ?? totalRaw));
  }

  private isInheritedStart(): boolean {
    return this.state.counters.replayedSnapshots > 0;
  }

  private handleLegacy(json: unknown, line: ReadLine, outcome: LineOutcome): void {
    const state = this.state;
    if (state.format === 'unknown') {
      const header = legacyHeaderSchema.safeParse(json);
      if (!header.success) {
        this.problem(outcome, line, 'neither a rollout envelope nor a legacy session header');
        return;
      }
      state.format = 'legacy';
      state.threadId = header.data.id;
      state.legacy = { contextTokens: this.countTokens(header.data.instructions ?? ''), lastWasOutput: false };
      if (header.data.timestamp) state.legacy.startedAt = header.data.timestamp;
      outcome.thread = this.threadInfo(header.data.id, { id: header.data.id, timestamp: header.data.timestamp ?? null }, header.data.timestamp ?? undefined);
      return;
    }
    if (state.format !== 'legacy' || !state.legacy) {
      this.problem(outcome, line, 'a line without the rollout envelope in an envelope file');
      return;
    }
    if (typeof json !== 'object' || json === null) return;
    const item = json as Record<string, unknown>;
    if ('record_type' in item) return;
    const text = legacyItemText(item);
    if (text === '') return;
    const tokens = this.countTokens(text);
    const isOutput = (item.type === 'message' && item.role === 'assistant') || LEGACY_OUTPUT_TYPES.has(String(item.type));
    const legacy = state.legacy;
    if (isOutput) {
      const input = legacy.lastWasOutput ? 0 : legacy.contextTokens;
      legacy.lastWasOutput = true;
      legacy.contextTokens += tokens;
      const threadId = state.threadId!;
      const buckets: TokenBuckets = { uncachedInput: input, cachedInput: 0, cacheWriteInput: 0, output: tokens, reasoningOutput: item.type === 'reasoning' ? tokens : 0 };
      outcome.increments.push(this.increment(`e:${threadId}:${line.lineNumber}`, threadId, legacyTimestamp(item) ?? legacy.startedAt, buckets, 'estimate'));
      outcome.estimatedThread = threadId;
    } else {
      legacy.lastWasOutput = false;
      legacy.contextTokens += tokens;
    }
  }

  private threadInfo(threadId: string, m: Partial<SessionMetaLine>, timestamp: string | undefined): ThreadInfo {
    const agent = deriveAgent(m.originator, m.source);
    const info: ThreadInfo = { threadId, agent, file: this.file };
    const started = m.timestamp ?? timestamp;
    if (started) info.startedAt = started;
    if (m.cwd) info.cwd = m.cwd;
    if (m.git?.repository_url) info.gitRepositoryUrl = m.git.repository_url;
    if (m.git?.branch) info.gitBranch = m.git.branch;
    if (m.originator) info.originator = m.originator;
    if (m.cli_version) info.cliVersion = m.cli_version;
    if (m.model_provider) info.modelProvider = m.model_provider;
    const source = describeSource(m.source);
    if (source) info.source = source;
    if (m.forked_from_id) info.forkedFromId = m.forked_from_id;
    const parent = agent.parentThreadId ?? m.forked_from_id ?? undefined;
    if (parent) info.parentThreadId = parent;
    return info;
  }

  private increment(key: string, threadId: string, timestamp: string | undefined, buckets: TokenBuckets, source: UsageIncrement['source'], raw?: CodexTokenUsage, model?: string): UsageIncrement {
    const inc: UsageIncrement = { key, threadId, timestamp: timestamp ?? new Date(0).toISOString(), buckets: { ...buckets }, source };
    const m = model ?? this.state.model;
    if (m) inc.model = m;
    if (this.state.cwd) inc.cwd = this.state.cwd;
    if (raw) inc.raw = compactRaw(raw);
    return inc;
  }

  private problem(outcome: LineOutcome, line: ReadLine, reason: string): LineOutcome {
    this.state.counters.badLines += 1;
    outcome.problem = { file: this.file, line: line.lineNumber, reason };
    return outcome;
  }
}

function sumOf(b: TokenBuckets): number {
  return b.uncachedInput + b.cachedInput + b.cacheWriteInput + b.output;
}

function compactRaw(raw: CodexTokenUsage): CodexTokenUsage {
  const out: CodexTokenUsage = {};
  for (const k of ['input_tokens', 'cached_input_tokens', 'cache_write_input_tokens', 'output_tokens', 'reasoning_output_tokens', 'total_tokens'] as const) {
    const v = raw[k];
    if (typeof v === 'number') out[k] = v;
  }
  return out;
}

function rateLimitSnapshot(r: RateLimitsLine, timestamp: string | undefined, threadId: string | undefined): RateLimitSnapshot | undefined {
  if (!r.primary && !r.secondary) return undefined;
  const observedAt = timestamp ?? new Date(0).toISOString();
  const observedMs = Date.parse(observedAt);
  const window = (w: NonNullable<RateLimitsLine['primary']>): RateLimitWindow => {
    const out: RateLimitWindow = { usedPercent: w.used_percent };
    if (typeof w.window_minutes === 'number') out.windowMinutes = w.window_minutes;
    if (typeof w.resets_at === 'number') out.resetsAt = w.resets_at * 1000;
    else if (typeof w.resets_in_seconds === 'number' && Number.isFinite(observedMs)) out.resetsAt = observedMs + w.resets_in_seconds * 1000;
    return out;
  };
  const snapshot: RateLimitSnapshot = { observedAt };
  if (threadId) snapshot.threadId = threadId;
  if (r.primary) snapshot.primary = window(r.primary);
  if (r.secondary) snapshot.secondary = window(r.secondary);
  if (r.plan_type) snapshot.planType = r.plan_type;
  return snapshot;
}

/** The text of a legacy response item that a model would read or write. */
function legacyItemText(item: Record<string, unknown>): string {
  const parts: string[] = [];
  const content = item.content;
  if (Array.isArray(content)) {
    for (const c of content) {
      if (c && typeof c === 'object' && typeof (c as { text?: unknown }).text === 'string') parts.push((c as { text: string }).text);
    }
  } else if (typeof content === 'string') {
    parts.push(content);
  }
  for (const key of ['arguments', 'output', 'name', 'text'] as const) {
    const v = item[key];
    if (typeof v === 'string') parts.push(v);
    else if (key === 'output' && v && typeof v === 'object') parts.push(JSON.stringify(v));
  }
  if (Array.isArray(item.summary)) {
    for (const s of item.summary) if (s && typeof s === 'object' && typeof (s as { text?: unknown }).text === 'string') parts.push((s as { text: string }).text);
  }
  if (item.action && typeof item.action === 'object') parts.push(JSON.stringify(item.action));
  return parts.join('\n');
}

function legacyTimestamp(item: Record<string, unknown>): string | undefined {
  return typeof item.timestamp === 'string' ? item.timestamp : undefined;
}
