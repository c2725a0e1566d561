import { type PanelSnapshot } from './protocol.js';

type Section = keyof PanelSnapshot;

/**
 * The sections of `next` that differ from `previous` (compared as JSON values, without writing them
 * out: an all-time view's thread section is megabytes, and this runs on the extension host's main
 * thread at every live update), for sending the panel small updates instead of whole snapshots.
 * Undefined when nothing but the generation time changed.
 */
export function diffSnapshot(previous: PanelSnapshot, next: PanelSnapshot): Partial<PanelSnapshot> | undefined {
  const changes: Partial<Record<Section, unknown>> = {};
  let changed = false;
  for (const key of Object.keys(next) as Section[]) {
    if (key === 'generatedAt') continue;
    if (!sameJson(previous[key], next[key])) {
      changes[key] = next[key];
      changed = true;
    }
  }
  if (!changed) return undefined;
  changes.generatedAt = next.generatedAt;
  return changes as Partial<PanelSnapshot>;
}

/**
 * Whether two JSON values are the same: what JSON.stringify gives for them would be equal (an object's
 * properties compared in any order, undefined ones as absent). It stops at the first difference.
 */
export function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i += 1) if (!sameJson(a[i] ?? null, b[i] ?? null)) return false;
    return true;
  }
  const x = a as Record<string, unknown>;
  const y = b as Record<string, unknown>;
  let defined = 0;
  for (const key in x) {
    if (x[key] === undefined) continue;
    defined += 1;
    if (!Object.hasOwn(y, key) || !sameJson(x[key], y[key])) return false;
  }
  for (const key in y) if (y[key] !== undefined) defined -= 1;
  return defined === 0;
}

/** The snapshot after an update. */
export function applySnapshotUpdate(previous: PanelSnapshot, changes: Partial<PanelSnapshot>): PanelSnapshot {
  return { ...previous, ...changes };
}
