import { type FileAccountState } from './fileAccount.js';
import { type LedgerChange, type LedgerSnapshot } from './ledger.js';
import { type LineProblem } from './ledgerTypes.js';
import { type ReadPosition } from './lineReader.js';

/**
 * 2: the compact stored form (stateCodec.ts); 3: a file's samples kept as one digest; 4: the
 * increments in columns; 5: their numbers in binary; 6: the file in lines of a few KB, not one JSON
 * text (encodeScanStatePieces). A state of version 5 is still read (WHOLE_TEXT_STATE_VERSION); one of
 * an earlier version is discarded and rebuilt once.
 */
export const SCAN_STATE_VERSION = 6;

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
  /** Changes saved since, in order (the state's journal, stateStore.ts): the scanner makes them again when it loads the state. */
  journal?: ScanStateChanges[];
}

/**
 * What changed in a scanner's state since its last save: the ledger's changes in order, and the
 * file records that changed (null: the file was forgotten). Saved as one entry of the journal.
 */
export interface ScanStateChanges {
  ledger: LedgerChange[];
  files: Record<string, FileRecord | null>;
}

/** The journal of the state file at `statePath`: its changes since it was written, one entry per line. */
export function stateJournalPath(statePath: string): string {
  return `${statePath}.journal`;
}
