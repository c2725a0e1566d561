import { type FileAccountState } from './fileAccount.js';
import { type LedgerSnapshot } from './ledger.js';
import { type LineProblem } from './ledgerTypes.js';
import { type ReadPosition } from './lineReader.js';

/**
 * 2: the compact stored form (stateCodec.ts); 3: a file's samples kept as one digest. A state of
 * an earlier version is discarded and rebuilt once.
 */
export const SCAN_STATE_VERSION = 3;

/** What the scanner remembers of one file between reads. */
export interface FileRecord {
  position: ReadPosition;
  size: number;
  mtimeMs: number;
  ino: number;
  /**
   * The digest of samples of the bytes already read (the head, the bytes just before the offset,
   * and points in between; see samplePositions in fileRead.ts): a file whose samples no longer
   * give it was replaced or rewritten. '' for a compressed file (never appended to).
   */
  sampleDigest: string;
  account: FileAccountState;
  /** The first lines of this file that could not be used (at most MAX_PROBLEMS_PER_FILE). */
  problems: LineProblem[];
}

export const MAX_PROBLEMS_PER_FILE = 100;

/** The scanner's whole state, persisted so a restart reads only new bytes. */
export interface PersistedScanState {
  version: typeof SCAN_STATE_VERSION;
  savedAt: string;
  files: Record<string, FileRecord>;
  ledger: LedgerSnapshot;
}
