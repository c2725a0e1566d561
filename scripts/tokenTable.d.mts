/** Types of scripts/tokenTable.mjs (see there). */
export function buildTokenTable(): Buffer;
export function writeTokenTable(out: string): boolean;
