/**
 * Builds rollout lines in the shapes real Codex versions write (see shared docs and the
 * conformance test for where these shapes were observed). Usage figures are [input, cached,
 * output, reasoning] in Codex's convention (cached is a part of input, reasoning of output).
 */
export type Usage4 = [input: number, cached: number, output: number, reasoning: number];

export function codexUsage([input, cached, output, reasoning]: Usage4, totalTokens = input + output): Record<string, number> {
  return { input_tokens: input, cached_input_tokens: cached, output_tokens: output, reasoning_output_tokens: reasoning, total_tokens: totalTokens };
}

let clock = Date.parse('2026-11-20T10:00:00.000Z');
export function resetClock(iso = '2026-11-20T10:00:00.000Z'): void {
  clock = Date.parse(iso);
}
function tick(): string {
  clock += 1000;
  return new Date(clock).toISOString();
}

export function envelope(type: string, payload: unknown, timestamp = tick()): string {
  return JSON.stringify({ timestamp, type, payload });
}

export function sessionMeta(id: string, extra: Record<string, unknown> = {}): string {
  return envelope('session_meta', { id, timestamp: new Date(clock).toISOString(), cwd: '/work/project', originator: 'codex_cli_rs', cli_version: '0.130.0', source: 'cli', model_provider: 'openai', base_instructions: { text: 'x'.repeat(300) }, ...extra });
}

export function turnContext(model: string, extra: Record<string, unknown> = {}): string {
  return envelope('turn_context', { cwd: '/work/project', approval_policy: 'never', model, ...extra });
}

export function tokenCount(total: Usage4 | null, last?: Usage4 | null, extra: { totalTokens?: number; rateLimits?: unknown } = {}): string {
  const info = total === null ? null : {
    total_token_usage: codexUsage(total, extra.totalTokens),
    ...(last ? { last_token_usage: codexUsage(last) } : last === null ? { last_token_usage: null } : {}),
    model_context_window: 258400,
  };
  return envelope('event_msg', { type: 'token_count', info, rate_limits: extra.rateLimits ?? null });
}

/** The overflow snapshot: Codex rewrites the total to the context window and zeroes the rest. */
export function overflowTokenCount(window: number): string {
  return envelope('event_msg', { type: 'token_count', info: { total_token_usage: { input_tokens: 0, cached_input_tokens: 0, output_tokens: 0, reasoning_output_tokens: 0, total_tokens: window }, last_token_usage: { input_tokens: 0, cached_input_tokens: 0, output_tokens: 0, reasoning_output_tokens: 0, total_tokens: window - 7816 }, model_context_window: window }, rate_limits: null });
}

export function usageRecord(threadId: string, responseId: string, usage: Usage4, cacheWrite = 0): string {
  return envelope('token_usage_record', { thread_id: threadId, turn_id: 'turn-1', session_id: threadId, response_id: responseId, usage: { ...codexUsage(usage), cache_write_input_tokens: cacheWrite } });
}

export function userMessage(text: string): string {
  return envelope('response_item', { type: 'message', role: 'user', content: [{ type: 'input_text', text }] });
}

export function compacted(): string {
  return envelope('compacted', { message: 'summary', replacement_history: [{ type: 'message', role: 'user', content: [{ type: 'input_text', text: 'y'.repeat(500) }] }] });
}

/** A whole file's text from lines. */
export function file(...lines: string[]): string {
  return `${lines.join('\n')}\n`;
}

/** Legacy (0.8–0.20) files: no envelope, no usage. */
export function legacyHeader(id: string, instructions = 'You are Codex.'): string {
  return JSON.stringify({ id, timestamp: '2025-06-01T09:00:00.000Z', instructions });
}

export function legacyMessage(role: 'user' | 'assistant', text: string): string {
  return JSON.stringify({ type: 'message', role, content: [{ type: role === 'user' ? 'input_text' : 'output_text', text }] });
}

// ---------------------------------------------------------------------------------------------
// More shapes, as the real Codex CLI writes them (compared with files the real 0.44, 0.130 and
// 0.169 CLIs wrote; nothing here is copied from those files).

/** A Codex `TokenUsage` with explicit total_tokens (and, for 0.169, cache_write_input_tokens). */
export function rawUsage(u: Usage4, extra: { totalTokens?: number; cacheWrite?: number } = {}): Record<string, number> {
  const out = codexUsage(u, extra.totalTokens);
  if (extra.cacheWrite !== undefined) out.cache_write_input_tokens = extra.cacheWrite;
  return out;
}

/** A token_count event from raw usage objects (any shape, for the odd cases). */
export function tokenCountRaw(total: Record<string, unknown> | null, last?: Record<string, unknown> | null, rateLimits: unknown = null): string {
  const info = total === null ? null : { total_token_usage: total, ...(last === undefined ? {} : { last_token_usage: last }), model_context_window: 258400 };
  return envelope('event_msg', { type: 'token_count', info, rate_limits: rateLimits });
}

/** The snapshot Codex writes around a compaction: the total unchanged, `last` all zero but total_tokens = N. */
export function compactionTokenCount(total: Usage4, lastTotalTokens: number): string {
  return tokenCountRaw(codexUsage(total), { ...codexUsage([0, 0, 0, 0]), total_tokens: lastTotalTokens });
}

/** 0.44-style rate limits: reset given as seconds from the event. */
export function rateLimitsResetsIn(primaryPercent: number, primarySeconds: number, secondaryPercent: number, secondarySeconds: number): Record<string, unknown> {
  return {
    primary: { used_percent: primaryPercent, window_minutes: 300, resets_in_seconds: primarySeconds },
    secondary: { used_percent: secondaryPercent, window_minutes: 10080, resets_in_seconds: secondarySeconds },
  };
}

/** 0.58+-style rate limits: reset as epoch seconds (or null), with the later extra fields. */
export function rateLimitsResetsAt(primaryPercent: number, primaryAt: number | null, secondaryPercent: number, secondaryAt: number | null, planType = 'plus'): Record<string, unknown> {
  return {
    limit_id: 'codex', limit_name: null,
    primary: { used_percent: primaryPercent, window_minutes: 300, resets_at: primaryAt },
    secondary: { used_percent: secondaryPercent, window_minutes: 10080, resets_at: secondaryAt },
    credits: null, plan_type: planType, rate_limit_reached_type: null,
  };
}

/** Any event_msg (user_message, agent_message, task_started, ...): content the reader skips. */
export function eventMsg(type: string, extra: Record<string, unknown> = {}): string {
  return envelope('event_msg', { type, ...extra });
}

/** 0.169's event that ends a replayed history like a turn_context does. */
export function threadSettingsApplied(threadId: string, model = 'gpt-5.1-codex'): string {
  return eventMsg('thread_settings_applied', { thread_id: threadId, thread_settings: { model, model_provider_id: 'openai', cwd: '/work/project' } });
}

/** An assistant message (response_item): conversation content the reader skips. */
export function assistantMessage(text: string): string {
  return envelope('response_item', { type: 'message', role: 'assistant', content: [{ type: 'output_text', text }] });
}

/** A response_item line of at least `bytes` bytes (a huge tool output, say). */
export function hugeContentLine(bytes: number): string {
  return envelope('response_item', { type: 'function_call_output', call_id: 'call_1', output: 'z'.repeat(bytes) });
}

/** `source` of a sub-agent spawned with thread_spawn. */
export function threadSpawnSource(parentThreadId: string, nickname: string | null, role: string | null, depth = 1): Record<string, unknown> {
  return { subagent: { thread_spawn: { parent_thread_id: parentThreadId, depth, agent_path: null, agent_nickname: nickname, agent_role: role } } };
}

/** A usage record naming its model (0.169 records may carry one). */
export function usageRecordWithModel(threadId: string, responseId: string, usage: Usage4, model: string): string {
  return envelope('token_usage_record', { thread_id: threadId, turn_id: 'turn-1', session_id: threadId, response_id: responseId, model, usage: codexUsage(usage) });
}

/** 0.169 writes `"ordinal"` between timestamp and type; gives envelope lines their ordinals, in order. */
export function withOrdinals(lines: string[], first = 0): string[] {
  return lines.map((line, i) => {
    const { timestamp, type, payload } = JSON.parse(line) as { timestamp: string; type: string; payload: unknown };
    return JSON.stringify({ timestamp, ordinal: first + i, type, payload });
  });
}

/** Legacy `{"record_type":"state"}` line. */
export function legacyState(): string {
  return JSON.stringify({ record_type: 'state' });
}

/** Legacy bare function call and its output. */
export function legacyFunctionCall(name: string, args: string): string {
  return JSON.stringify({ type: 'function_call', name, arguments: args, call_id: 'call_1' });
}

export function legacyFunctionOutput(output: string): string {
  return JSON.stringify({ type: 'function_call_output', call_id: 'call_1', output: { content: output, metadata: { exit_code: 0 } } });
}

/** Legacy reasoning item (its summary text is output). */
export function legacyReasoning(summary: string): string {
  return JSON.stringify({ type: 'reasoning', id: 'rs_1', summary: [{ type: 'summary_text', text: summary }] });
}

/**
 * A zstd frame holding `data` in raw (stored) blocks: what `zstd` would write for incompressible
 * data, enough to test the reader of `.jsonl.zst` without a compressor.
 */
export function zstdStored(data: Buffer): Buffer {
  const parts: Buffer[] = [Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x38])]; // magic, no FCS/checksum, 128 KiB window
  const maxBlock = 1 << 17;
  let at = 0;
  do {
    const size = Math.min(maxBlock, data.length - at);
    const last = at + size >= data.length ? 1 : 0;
    const header = last | (0 << 1) | (size << 3);
    parts.push(Buffer.from([header & 0xff, (header >> 8) & 0xff, (header >> 16) & 0xff]), data.subarray(at, at + size));
    at += size;
  } while (at < data.length);
  return Buffer.concat(parts);
}
