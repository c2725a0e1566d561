// Writes dist/o200k_base.bin.br (the token table the code reads from source as from the bundles)
// when a clean clone runs the unit tests before any build.
import { join } from 'node:path';
import { writeTokenTable } from '../scripts/tokenTable.mjs';

export function setup(): void {
  writeTokenTable(join(__dirname, '..', 'dist', 'o200k_base.bin.br'));
}
