import * as z from 'zod/mini';

/**
 * Schemas for the rollout line shapes that carry usage or metadata, Codex 0.8 to 0.169.
 * They are tolerant: unknown fields are ignored, optional fields may be missing or null.
 * Conversation content (response_item, world_state, most event_msg) is never parsed.
 */
const count = z.number().check(z.nonnegative());
const optionalCount = z.nullish(count);

export const codexTokenUsageSchema = z.object({
  input_tokens: optionalCount,
  cached_input_tokens: optionalCount,
  cache_write_input_tokens: optionalCount,
  output_tokens: optionalCount,
  reasoning_output_tokens: optionalCount,
  total_tokens: optionalCount,
});
export type CodexTokenUsageLine = z.infer<typeof codexTokenUsageSchema>;

const rateLimitWindowSchema = z.object({
  used_percent: z.number(),
  window_minutes: z.nullish(z.number()),
  resets_in_seconds: z.nullish(z.number()),
  resets_at: z.nullish(z.number()),
});

export const rateLimitsSchema = z.object({
  primary: z.nullish(rateLimitWindowSchema),
  secondary: z.nullish(rateLimitWindowSchema),
  limit_id: z.nullish(z.string()),
  limit_name: z.nullish(z.string()),
  plan_type: z.nullish(z.string()),
});
export type RateLimitsLine = z.infer<typeof rateLimitsSchema>;

export const tokenCountPayloadSchema = z.object({
  type: z.literal('token_count'),
  info: z.nullish(z.object({
    total_token_usage: codexTokenUsageSchema,
    last_token_usage: z.nullish(codexTokenUsageSchema),
    model_context_window: z.nullish(z.number()),
  })),
  rate_limits: z.catch(z.nullish(rateLimitsSchema), null),
});

export const sessionMetaPayloadSchema = z.object({
  id: z.string().check(z.minLength(1)),
  timestamp: z.nullish(z.string()),
  cwd: z.nullish(z.string()),
  originator: z.nullish(z.string()),
  cli_version: z.nullish(z.string()),
  source: z.optional(z.unknown()),
  model_provider: z.nullish(z.string()),
  forked_from_id: z.nullish(z.string()),
  git: z.catch(z.nullish(z.object({ repository_url: z.nullish(z.string()), branch: z.nullish(z.string()), commit_hash: z.nullish(z.string()) })), null),
});
export type SessionMetaLine = z.infer<typeof sessionMetaPayloadSchema>;

export const turnContextPayloadSchema = z.object({
  model: z.nullish(z.string()),
  cwd: z.nullish(z.string()),
  turn_id: z.nullish(z.string()),
  collaboration_mode: z.catch(z.nullish(z.object({ settings: z.nullish(z.object({ model: z.nullish(z.string()) })) })), null),
});

export const tokenUsageRecordPayloadSchema = z.object({
  thread_id: z.string().check(z.minLength(1)),
  turn_id: z.nullish(z.string()),
  response_id: z.nullish(z.string()),
  model: z.nullish(z.string()),
  usage: codexTokenUsageSchema,
});

export const envelopeSchema = z.object({
  timestamp: z.nullish(z.string()),
  type: z.string(),
  payload: z.unknown(),
});

/** Line 1 of a pre-envelope file (0.8–0.20). */
export const legacyHeaderSchema = z.object({
  id: z.string().check(z.minLength(1)),
  timestamp: z.nullish(z.string()),
  instructions: z.nullish(z.string()),
});

/** The sub-agent part of session_meta.source. */
export const threadSpawnSchema = z.object({
  parent_thread_id: z.nullish(z.string()),
  depth: z.nullish(z.number()),
  agent_path: z.nullish(z.string()),
  agent_nickname: z.nullish(z.string()),
  agent_role: z.nullish(z.string()),
});
