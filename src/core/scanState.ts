import { type FileAccountState } from './fileAccount.js';
import { type LedgerSnapshot } from './ledger.js';
import { type LineProblem } from './ledgerTypes.js';
import { type ReadPosition } from './lineReader.js';

/** 2: the compact stored form (stateCodec.ts); a state of version 1 is discarded and rebuilt once. */
export const SCAN_STATE_VERSION = 2;

/** What the scanner remembers of one file between reads. */
export interface FileRecord {
  position: ReadPosition;
  size: number;
  mtimeMs: number;
  ino: number;
  /**
   * Samples of the bytes already read (the head, the bytes just before the offset, and points in
   * between), as base64 by position: any that differ mean the file was replaced or rewritten.
   */
  samples: { at: number; bytes: string }[];
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
