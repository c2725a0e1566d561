import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { brotliDecompressSync } from 'node:zlib';
import { O200kCounter } from './o200kCounter.js';

/** The compressed o200k_base table, written beside the bundles by esbuild.mjs (scripts/tokenTable.mjs). */
export const TOKEN_TABLE_FILE = 'o200k_base.bin.br';

/**
 * Where the table is: beside the running bundle (dist/), or, when this module runs from source
 * (tests), in the repository's dist/.
 */
export function defaultTokenTablePaths(): string[] {
  return [join(__dirname, TOKEN_TABLE_FILE), join(__dirname, '..', '..', 'dist', TOKEN_TABLE_FILE)];
}

/** Loads the counter from a compressed table; a missing or damaged table is a clear error naming the file. */
export function loadO200kCounter(path: string): O200kCounter {
  let compressed: Buffer;
  try {
    compressed = readFileSync(path);
  } catch (err) {
    throw new Error(`Cannot read the o200k token table ${path} (${(err as Error).message}); it is written by the build (node esbuild.mjs).`);
  }
  try {
    return new O200kCounter(brotliDecompressSync(compressed));
  } catch (err) {
    throw new Error(`The o200k token table ${path} is damaged (${(err as Error).message}); rebuild it with node esbuild.mjs.`);
  }
}

let counter: O200kCounter | undefined;

/**
 * Counts tokens with the o200k_base encoding, used only to estimate usage for rollout files that
 * carry none, so the table is loaded on first use. Special-token text in logs is counted as plain text.
 */
export function countTextTokens(text: string): number {
  if (text.length === 0) return 0;
  if (!counter) {
    const paths = defaultTokenTablePaths();
    counter = loadO200kCounter(paths.find((p) => existsSync(p)) ?? paths[0]!);
  }
  return counter.count(text);
}
