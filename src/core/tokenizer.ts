import { createRequire } from 'node:module';
import type * as O200kBase from 'gpt-tokenizer/encoding/o200k_base';

type Encoder = typeof O200kBase;
let encoder: Encoder | undefined;

/**
 * The o200k_base encoder is large (about 70 MB once loaded), and only files without usage need
 * it, so it is loaded on first use. In the esbuild bundles `require` is the bundle's own (the
 * encoder stays inside the bundle, initialised lazily); under the test runner it is created for
 * this module's file.
 */
function loadEncoder(): Encoder {
  // A literal require(...) so that esbuild bundles the encoder (behind a lazy initialiser).
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded on first use on purpose
  if (typeof require === 'function') return require('gpt-tokenizer/encoding/o200k_base') as Encoder;
  return createRequire(__filename)('gpt-tokenizer/encoding/o200k_base') as Encoder;
}

/**
 * Counts tokens with the o200k_base encoding (the GPT-4o / GPT-5 family's), used only to estimate
 * usage for rollout files that carry none. Special-token text in logs is counted as plain text.
 */
export function countTextTokens(text: string): number {
  if (text.length === 0) return 0;
  encoder ??= loadEncoder();
  return encoder.countTokens(text, { disallowedSpecial: new Set() });
}
