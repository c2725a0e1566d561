import { type FileAccountState } from './fileAccount.js';
import { type LedgerSnapshot } from './ledger.js';
import { type LineProblem } from './ledgerTypes.js';
import { type ReadPosition } from './lineReader.js';

export const SCAN_STATE_VERSION = 1;

/** What the scanner remembers of one file between reads. */
export interface FileRecord {
  position: ReadPosition;
  size: number;
  mtimeMs: number;
  ino: number;
  /** base64 of the file's first bytes: a different head means the file was replaced. */
  head: string;
  /** base64 of the bytes just before `position.offset`: different ones mean it was rewritten. */
  tail: string;
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
