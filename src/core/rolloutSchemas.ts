import { z } from 'zod';

/**
 * Schemas for the rollout line shapes that carry usage or metadata, Codex 0.8 to 0.169.
 * They are tolerant: unknown fields are ignored, optional fields may be missing or null.
 * Conversation content (response_item, world_state, most event_msg) is never parsed.
 */
const count = z.number().finite().nonnegative();
const optionalCount = count.nullish();

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
  used_percent: z.number().finite(),
  window_minutes: z.number().finite().nullish(),
  resets_in_seconds: z.number().finite().nullish(),
  resets_at: z.number().finite().nullish(),
});

export const rateLimitsSchema = z.object({
  primary: rateLimitWindowSchema.nullish(),
  secondary: rateLimitWindowSchema.nullish(),
  limit_id: z.string().nullish(),
  limit_name: z.string().nullish(),
  plan_type: z.string().nullish(),
});
export type RateLimitsLine = z.infer<typeof rateLimitsSchema>;

export const tokenCountPayloadSchema = z.object({
  type: z.literal('token_count'),
  info: z
    .object({
      total_token_usage: codexTokenUsageSchema,
      last_token_usage: codexTokenUsageSchema.nullish(),
      model_context_window: z.number().nullish(),
    })
    .nullish(),
  rate_limits: rateLimitsSchema.nullish().catch(null),
});

export const sessionMetaPayloadSchema = z.object({
  id: z.string().min(1),
  timestamp: z.string().nullish(),
  cwd: z.string().nullish(),
  originator: z.string().nullish(),
  cli_version: z.string().nullish(),
  source: z.unknown().optional(),
  model_provider: z.string().nullish(),
  forked_from_id: z.string().nullish(),
  git: z
    .object({ repository_url: z.string().nullish(), branch: z.string().nullish(), commit_hash: z.string().nullish() })
    .nullish()
    .catch(null),
});
export type SessionMetaLine = z.infer<typeof sessionMetaPayloadSchema>;

export const turnContextPayloadSchema = z.object({
  model: z.string().nullish(),
  cwd: z.string().nullish(),
  turn_id: z.string().nullish(),
  collaboration_mode: z
    .object({ settings: z.object({ model: z.string().nullish() }).nullish() })
    .nullish()
    .catch(null),
});

export const tokenUsageRecordPayloadSchema = z.object({
  thread_id: z.string().min(1),
  turn_id: z.string().nullish(),
  response_id: z.string().nullish(),
  model: z.string().nullish(),
  usage: codexTokenUsageSchema,
});

export const envelopeSchema = z.object({
  timestamp: z.string().nullish(),
  type: z.string(),
  payload: z.unknown(),
});

/** Line 1 of a pre-envelope file (0.8–0.20). */
export const legacyHeaderSchema = z.object({
  id: z.string().min(1),
  timestamp: z.string().nullish(),
  instructions: z.string().nullish(),
});

/** The sub-agent part of session_meta.source. */
export const threadSpawnSchema = z.object({
  parent_thread_id: z.string().nullish(),
  depth: z.number().nullish(),
  agent_path: z.string().nullish(),
  agent_nickname: z.string().nullish(),
  agent_role: z.string().nullish(),
});
