import * as z from 'zod/mini';
import { PANEL_THREAD_ROWS_MAX, type WebviewMessage } from '../shared/protocol.js';
import { SORT_COLUMNS } from '../shared/sorting.js';

const day = z.string().check(z.regex(/^\d{4}-\d{2}-\d{2}$/, { error: 'must be a day (YYYY-MM-DD)' }));
const name = z.string().check(z.maxLength(4096, { error: 'must be at most 4096 characters' }));

const filterSchema = z.strictObject({
  period: z.enum(['today', 'week', 'month', 'all', 'custom']),
  since: z.optional(day),
  until: z.optional(day),
  agentId: z.optional(name),
  model: z.optional(name),
  project: z.optional(name),
  threadSort: z.optional(z.strictObject({ column: z.enum(SORT_COLUMNS as [string, ...string[]]), descending: z.boolean() })),
  threadRows: z.optional(z.number().check(z.int(), z.positive(), z.lte(PANEL_THREAD_ROWS_MAX, { error: `must be at most ${PANEL_THREAD_ROWS_MAX}` }))),
});

const webviewMessageSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('ready') }),
  z.strictObject({ type: z.literal('setFilter'), filter: filterSchema }),
  z.strictObject({ type: z.literal('export'), format: z.enum(['csv', 'json']) }),
  z.strictObject({ type: z.literal('openSettings') }),
  z.strictObject({ type: z.literal('refresh') }),
  z.strictObject({ type: z.literal('rendered'), threads: z.number().check(z.int(), z.nonnegative()) }),
]);

/** Checks a message from the webview; anything else is refused (the host never acts on it). */
export function parseWebviewMessage(value: unknown): { ok: true; message: WebviewMessage } | { ok: false; reason: string } {
  const parsed = webviewMessageSchema.safeParse(value);
  if (parsed.success) return { ok: true, message: parsed.data as WebviewMessage };
  const issue = parsed.error.issues[0];
  return { ok: false, reason: `${issue?.path.join('.') || 'message'}: ${issue?.message ?? 'invalid'}` };
}
