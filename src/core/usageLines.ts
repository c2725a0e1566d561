import { DECLINED, JsonCursor, KeyTable } from './jsonCursor.js';
import { type CodexTokenUsage } from './normalize.js';
import { type RateLimitsLine, tokenCountPayloadSchema, tokenUsageRecordPayloadSchema, turnContextPayloadSchema } from './rolloutSchemas.js';

/**
 * The envelope lines the account reads most (turn_context, token_usage_record, event_msg), as
 * typed values: what the schemas of rolloutSchemas.ts accept, reduced to what the account uses.
 * Both ways of reading a line end here: `decodeUsageLine` straight from the bytes, and
 * `usageLineFromEnvelope` (JSON.parse plus the zod schemas) for every line the first leaves alone.
 */
export type UsageLine = TurnContextLine | UsageRecordLine | TokenCountLine | OtherEventLine;

export interface TurnContextLine {
  kind: 'turn_context';
  /** `model`, else `collaboration_mode.settings.model`. */
  model: string | null | undefined;
  cwd: string | null | undefined;
}

export interface UsageRecordLine {
  kind: 'token_usage_record';
  threadId: string;
  responseId: string | null | undefined;
  model: string | null | undefined;
  usage: CodexTokenUsage;
}

export interface TokenCountLine {
  kind: 'token_count';
  info: { total: CodexTokenUsage; last: CodexTokenUsage | null | undefined } | null | undefined;
  /** null where the line's rate_limits did not fit the schema (it tolerates that). */
  rateLimits: RateLimitsLine | null | undefined;
}

/** event_msg lines of other payload types: thread_settings_applied ends a replay, the rest carry nothing. */
export interface OtherEventLine {
  kind: 'thread_settings_applied' | 'other_event';
}

export interface DecodedEnvelope {
  timestamp: string | undefined;
  line: UsageLine;
}

/** Every key the decoders below read. */
const KEYS = new KeyTable([
  'timestamp', 'type', 'payload',
  'model', 'cwd', 'turn_id', 'collaboration_mode', 'settings',
  'thread_id', 'response_id', 'usage',
  'info', 'rate_limits', 'total_token_usage', 'last_token_usage', 'model_context_window',
  'input_tokens', 'cached_input_tokens', 'cache_write_input_tokens', 'output_tokens', 'reasoning_output_tokens', 'total_tokens',
  'primary', 'secondary', 'limit_id', 'limit_name', 'plan_type', 'used_percent', 'window_minutes', 'resets_in_seconds', 'resets_at',
]);

/** The `type` values the decoders tell apart (envelope types and event types). */
const TYPES = new KeyTable(['turn_context', 'token_usage_record', 'event_msg', 'token_count', 'thread_settings_applied']);

/**
 * Decodes an envelope line of the kinds above from its bytes (one line, no line ending), without
 * JSON.parse or the schemas; undefined means "read it the general way": the line is not one of
 * these kinds, not valid JSON, does not fit the schema, or is written in a way this decoder leaves
 * to the general path (an envelope whose `type` follows its `payload`, an event whose payload does
 * not start with its `type`). Where it returns a value, it is the one the general path would reach.
 */
export function decodeUsageLine(bytes: Buffer): DecodedEnvelope | undefined {
  try {
    const c = new JsonCursor(bytes, KEYS);
    let timestamp: string | undefined;
    let type: string | undefined;
    let line: UsageLine | undefined;
    for (let key = c.firstKey(); key !== undefined; key = c.nextKey()) {
      switch (key) {
        case 'timestamp':
          timestamp = nullableString(c) ?? undefined;
          break;
        case 'type':
          if (type !== undefined) throw DECLINED;
          type = c.keyword(TYPES);
          break;
        case 'payload':
          if (type === undefined || line !== undefined) throw DECLINED;
          line = payload(c, type);
          break;
        default:
          c.skipValue();
      }
    }
    c.finish();
    return line ? { timestamp, line } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The same from an envelope JSON.parse read, checked by the schemas: a UsageLine, the reason the
 * line cannot be used, or undefined for an envelope type other than these.
 */
export function usageLineFromEnvelope(type: string, payload: unknown): UsageLine | { problem: string } | undefined {
  switch (type) {
    case 'turn_context': {
      const tc = turnContextPayloadSchema.safeParse(payload);
      if (!tc.success) return { problem: 'turn_context of an unexpected shape' };
      return { kind: 'turn_context', model: tc.data.model ?? tc.data.collaboration_mode?.settings?.model, cwd: tc.data.cwd };
    }
    case 'token_usage_record': {
      const rec = tokenUsageRecordPayloadSchema.safeParse(payload);
      if (!rec.success) return { problem: `token_usage_record of an unexpected shape (${rec.error.issues[0]?.path.join('.') ?? ''})` };
      const r = rec.data;
      return { kind: 'token_usage_record', threadId: r.thread_id, responseId: r.response_id, model: r.model, usage: r.usage };
    }
    case 'event_msg': {
      const kind = typeof payload === 'object' && payload !== null ? (payload as { type?: unknown }).type : undefined;
      if (kind !== 'token_count') return { kind: kind === 'thread_settings_applied' ? kind : 'other_event' };
      const tokenCount = tokenCountPayloadSchema.safeParse(payload);
      if (!tokenCount.success) return { problem: `token_count of an unexpected shape (${tokenCount.error.issues[0]?.path.join('.') ?? ''})` };
      const info = tokenCount.data.info;
      return { kind: 'token_count', info: info ? { total: info.total_token_usage, last: info.last_token_usage } : info, rateLimits: tokenCount.data.rate_limits };
    }
    default:
      return undefined;
  }
}

function payload(c: JsonCursor, type: string): UsageLine {
  switch (type) {
    case 'turn_context':
      return turnContext(c);
    case 'token_usage_record':
      return usageRecord(c);
    case 'event_msg':
      return event(c);
    default:
      throw DECLINED;
  }
}

function turnContext(c: JsonCursor): TurnContextLine {
  let model: string | null | undefined;
  let cwd: string | null | undefined;
  let modeModel: string | null | undefined;
  for (let key = c.firstKey(); key !== undefined; key = c.nextKey()) {
    switch (key) {
      case 'model':
        model = nullableString(c);
        break;
      case 'cwd':
        cwd = nullableString(c);
        break;
      case 'turn_id':
        c.skipNullableString();
        break;
      case 'collaboration_mode':
        modeModel = tolerant(c, () => collaborationModeModel(c), undefined);
        break;
      default:
        c.skipValue();
    }
  }
  return { kind: 'turn_context', model: model ?? modeModel, cwd };
}

/** `collaboration_mode.settings.model` (null or missing at any level: undefined). */
function collaborationModeModel(c: JsonCursor): string | null | undefined {
  if (c.takeNull()) return undefined;
  let model: string | null | undefined;
  for (let key = c.firstKey(); key !== undefined; key = c.nextKey()) {
    if (key !== 'settings') {
      c.skipValue();
      continue;
    }
    model = undefined;
    if (c.takeNull()) continue;
    for (let inner = c.firstKey(); inner !== undefined; inner = c.nextKey()) {
      if (inner === 'model') model = nullableString(c);
      else c.skipValue();
    }
  }
  return model;
}

function usageRecord(c: JsonCursor): UsageRecordLine {
  let threadId: string | undefined;
  let responseId: string | null | undefined;
  let model: string | null | undefined;
  let usage: CodexTokenUsage | undefined;
  for (let key = c.firstKey(); key !== undefined; key = c.nextKey()) {
    switch (key) {
      case 'thread_id':
        threadId = c.string();
        if (threadId === '') throw DECLINED;
        break;
      case 'turn_id':
        c.skipNullableString();
        break;
      case 'response_id':
        responseId = nullableString(c);
        break;
      case 'model':
        model = nullableString(c);
        break;
      case 'usage':
        usage = tokenUsage(c);
        break;
      default:
        c.skipValue();
    }
  }
  if (threadId === undefined || usage === undefined) throw DECLINED;
  return { kind: 'token_usage_record', threadId, responseId, model, usage };
}

function event(c: JsonCursor): UsageLine {
  if (c.firstKey() !== 'type') throw DECLINED;
  const kind = c.keyword(TYPES);
  if (kind === 'token_count') return tokenCount(c);
  for (let key = c.nextKey(); key !== undefined; key = c.nextKey()) {
    if (key === 'type') throw DECLINED;
    c.skipValue();
  }
  return { kind: kind === 'thread_settings_applied' ? 'thread_settings_applied' : 'other_event' };
}

/** The rest of a token_count payload, after its `type`. */
function tokenCount(c: JsonCursor): TokenCountLine {
  let info: TokenCountLine['info'];
  let rateLimits: TokenCountLine['rateLimits'];
  for (let key = c.nextKey(); key !== undefined; key = c.nextKey()) {
    switch (key) {
      case 'type':
        throw DECLINED;
      case 'info':
        info = c.takeNull() ? null : tokenCountInfo(c);
        break;
      case 'rate_limits':
        rateLimits = tolerant(c, () => (c.takeNull() ? null : rateLimitsObject(c)), null);
        break;
      default:
        c.skipValue();
    }
  }
  return { kind: 'token_count', info, rateLimits };
}

function tokenCountInfo(c: JsonCursor): NonNullable<TokenCountLine['info']> {
  let total: CodexTokenUsage | undefined;
  let last: CodexTokenUsage | null | undefined;
  for (let key = c.firstKey(); key !== undefined; key = c.nextKey()) {
    switch (key) {
      case 'total_token_usage':
        total = tokenUsage(c);
        break;
      case 'last_token_usage':
        last = c.takeNull() ? null : tokenUsage(c);
        break;
      case 'model_context_window':
        if (!c.takeNull()) c.number();
        break;
      default:
        c.skipValue();
    }
  }
  if (total === undefined) throw DECLINED;
  return { total, last };
}

function tokenUsage(c: JsonCursor): CodexTokenUsage {
  const usage: CodexTokenUsage = {};
  for (let key = c.firstKey(); key !== undefined; key = c.nextKey()) {
    switch (key) {
      // One store per key (not usage[key]), which V8 keeps fast.
      case 'input_tokens':
        usage.input_tokens = count(c);
        break;
      case 'cached_input_tokens':
        usage.cached_input_tokens = count(c);
        break;
      case 'cache_write_input_tokens':
        usage.cache_write_input_tokens = count(c);
        break;
      case 'output_tokens':
        usage.output_tokens = count(c);
        break;
      case 'reasoning_output_tokens':
        usage.reasoning_output_tokens = count(c);
        break;
      case 'total_tokens':
        usage.total_tokens = count(c);
        break;
      default:
        c.skipValue();
    }
  }
  return usage;
}

/** A token count: a number of at least 0, or null. */
function count(c: JsonCursor): number | null {
  if (c.takeNull()) return null;
  const value = c.number();
  if (!(value >= 0)) throw DECLINED;
  return value;
}

function rateLimitsObject(c: JsonCursor): RateLimitsLine {
  const limits: RateLimitsLine = {};
  for (let key = c.firstKey(); key !== undefined; key = c.nextKey()) {
    switch (key) {
      case 'primary':
      case 'secondary':
        limits[key] = c.takeNull() ? null : rateLimitWindow(c);
        break;
      case 'limit_id':
      case 'limit_name':
      case 'plan_type':
        limits[key] = nullableString(c);
        break;
      default:
        c.skipValue();
    }
  }
  return limits;
}

type RateLimitWindowLine = NonNullable<RateLimitsLine['primary']>;

function rateLimitWindow(c: JsonCursor): RateLimitWindowLine {
  const window: RateLimitWindowLine = { used_percent: Number.NaN };
  let hasUsedPercent = false;
  for (let key = c.firstKey(); key !== undefined; key = c.nextKey()) {
    switch (key) {
      case 'used_percent':
        window.used_percent = c.number();
        hasUsedPercent = true;
        break;
      case 'window_minutes':
      case 'resets_in_seconds':
      case 'resets_at':
        window[key] = c.takeNull() ? null : c.number();
        break;
      default:
        c.skipValue();
    }
  }
  if (!hasUsedPercent) throw DECLINED;
  return window;
}

function nullableString(c: JsonCursor): string | null {
  return c.takeNull() ? null : c.string();
}

/**
 * Reads a value whose schema falls back when it does not fit (z.catch): a value that is valid JSON
 * but of another shape gives `fallback` (what the schema's fallback comes to for the caller); one
 * that is not valid JSON still declines the line.
 */
function tolerant<T, F>(c: JsonCursor, read: () => T, fallback: F): T | F {
  const start = c.position;
  try {
    return read();
  } catch (err) {
    if (err !== DECLINED) throw err;
    c.reset(start);
    c.skipValue();
    return fallback;
  }
}
