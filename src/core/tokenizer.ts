import { countTokens } from 'gpt-tokenizer/encoding/o200k_base';

/**
 * Counts tokens with the o200k_base encoding (the GPT-4o / GPT-5 family's), used only to estimate
 * usage for rollout files that carry none. Special-token text in logs is counted as plain text.
 */
export function countTextTokens(text: string): number {
  if (text.length === 0) return 0;
  return countTokens(text, { disallowedSpecial: new Set() });
}
