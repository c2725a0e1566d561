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
