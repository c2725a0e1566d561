import { snapshotEntries } from '../../../src/core/ledger.js';
import { type PersistedScanState } from '../../../src/core/scanState.js';

/**
 * A scan state as plain JSON, its increments as [increment, files] pairs whatever their form (read
 * lazily from a live ledger, or in columns as a state file is decoded): states compared by content.
 */
export function plainState(state: PersistedScanState | undefined): unknown {
  if (!state) return state;
  return JSON.parse(JSON.stringify({ ...state, ledger: { ...state.ledger, increments: [...snapshotEntries(state.ledger.increments)] } }));
}
