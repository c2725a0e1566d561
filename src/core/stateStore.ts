import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import * as z from 'zod/mini';
import { type Logger } from './logger.js';
import { type PersistedScanState, SCAN_STATE_VERSION } from './scanState.js';
import { decodeScanState, encodeScanStatePieces, type StoredScanState } from './stateCodec.js';

const storedShape = z.object({
  version: z.literal(SCAN_STATE_VERSION),
  savedAt: z.string(),
  // Each file record is checked by isFileRecord (a schema over 2,500 records cost ~30 ms).
  files: z.record(z.string(), z.unknown()),
  strings: z.array(z.string()),
  // Each increment is checked as it is decoded (stateCodec.ts): checking 38k tuples here as well cost more than the decoding.
  increments: z.array(z.unknown()),
  threads: z.array(z.unknown()),
});

/** The fields of a FileRecord the scanner relies on, of the right types. */
function isFileRecord(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const r = value as Record<string, unknown>;
  const position = r.position as Record<string, unknown> | null | undefined;
  const account = r.account as Record<string, unknown> | null | undefined;
  return typeof position === 'object' && position !== null && typeof position.offset === 'number' && typeof position.lineCount === 'number'
    && typeof r.size === 'number' && typeof r.mtimeMs === 'number' && typeof r.ino === 'number' && typeof r.sampleDigest === 'string'
    && typeof account === 'object' && account !== null && typeof account.format === 'string' && Array.isArray(r.problems);
}

/**
 * Loads and saves the scanner's state as one JSON file (in the compact form of stateCodec.ts), written atomically (a temporary file in
 * the same folder, then a rename), so a crash mid-save leaves the previous state intact.
 * A state file that is corrupt, half-written or of another version is discarded with a warning.
 */
export class ScanStateStore {
  constructor(
    readonly path: string,
    private readonly logger: Logger,
  ) {}

  async load(): Promise<PersistedScanState | undefined> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.logger.warn(`Cannot read the state file ${this.path} (${(err as Error).message}); rebuilding from the logs.`);
      return undefined;
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      this.logger.warn(`The state file ${this.path} is corrupt (not valid JSON); discarding it and rebuilding from the logs.`);
      return undefined;
    }
    const version = (json as { version?: unknown } | null)?.version;
    if (version !== SCAN_STATE_VERSION) {
      this.logger.warn(`The state file ${this.path} has version ${JSON.stringify(version)}, not ${SCAN_STATE_VERSION}; discarding it and rebuilding from the logs.`);
      return undefined;
    }
    const checked = storedShape.safeParse(json);
    const badRecord = checked.success ? Object.keys(checked.data.files).find((path) => !isFileRecord(checked.data.files[path])) : undefined;
    if (!checked.success || badRecord !== undefined) {
      const where = checked.success ? `files.${badRecord}` : (checked.error.issues[0]?.path.join('.') ?? '');
      this.logger.warn(`The state file ${this.path} does not have the expected shape (${where}); discarding it and rebuilding from the logs.`);
      return undefined;
    }
    try {
      return decodeScanState(json as StoredScanState);
    } catch (err) {
      this.logger.warn(`The state file ${this.path} does not have the expected shape (${(err as Error).message}); discarding it and rebuilding from the logs.`);
      return undefined;
    }
  }

  async save(state: PersistedScanState): Promise<void> {
    await mkdir(dirname(this.path), { recursive: true });
    const temporary = `${this.path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    try {
      const handle = await open(temporary, 'w');
      try {
        for (const piece of encodeScanStatePieces(state)) await handle.write(piece);
      } finally {
        await handle.close();
      }
      await rename(temporary, this.path);
    } catch (err) {
      await rm(temporary, { force: true });
      throw err;
    }
  }
}
