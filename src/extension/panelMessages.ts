import { z } from 'zod';
import { type WebviewMessage } from '../shared/protocol.js';

const day = z.string().regex(/^\d{4}-\d{2}-\d{2}$/);
const name = z.string().max(4096);

const filterSchema = z.object({
  period: z.enum(['today', 'week', 'month', 'all', 'custom']),
  since: day.optional(),
  until: day.optional(),
  agentId: name.optional(),
  model: name.optional(),
  project: name.optional(),
}).strict();

const webviewMessageSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ready') }).strict(),
  z.object({ type: z.literal('setFilter'), filter: filterSchema }).strict(),
  z.object({ type: z.literal('export'), format: z.enum(['csv', 'json']) }).strict(),
  z.object({ type: z.literal('openSettings') }).strict(),
  z.object({ type: z.literal('refresh') }).strict(),
  z.object({ type: z.literal('rendered'), threads: z.number().int().nonnegative() }).strict(),
]);

/** Checks a message from the webview; anything else is refused (the host never acts on it). */
export function parseWebviewMessage(value: unknown): { ok: true; message: WebviewMessage } | { ok: false; reason: string } {
  const parsed = webviewMessageSchema.safeParse(value);
  if (parsed.success) return { ok: true, message: parsed.data as WebviewMessage };
  const issue = parsed.error.issues[0];
  return { ok: false, reason: `${issue?.path.join('.') || 'message'}: ${issue?.message ?? 'invalid'}` };
}
