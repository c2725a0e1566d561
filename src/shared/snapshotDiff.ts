import { type PanelSnapshot } from './protocol.js';

type Section = keyof PanelSnapshot;

/**
 * The sections of `next` that differ from `previous` (compared as JSON), for sending the panel small
 * updates instead of whole snapshots. Undefined when nothing but the generation time changed.
 */
export function diffSnapshot(previous: PanelSnapshot, next: PanelSnapshot): Partial<PanelSnapshot> | undefined {
  const changes: Partial<Record<Section, unknown>> = {};
  let changed = false;
  for (const key of Object.keys(next) as Section[]) {
    if (key === 'generatedAt') continue;
    if (JSON.stringify(previous[key]) !== JSON.stringify(next[key])) {
      changes[key] = next[key];
      changed = true;
    }
  }
  if (!changed) return undefined;
  changes.generatedAt = next.generatedAt;
  return changes as Partial<PanelSnapshot>;
}

/** The snapshot after an update. */
export function applySnapshotUpdate(previous: PanelSnapshot, changes: Partial<PanelSnapshot>): PanelSnapshot {
  return { ...previous, ...changes };
}
