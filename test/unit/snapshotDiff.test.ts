import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sameJson } from '../../src/shared/snapshotDiff.js';

/** JSON text with every object's keys sorted: equal for values JSON sees as the same. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v));
}

describe('sameJson', () => {
  it('is JSON equality, whatever the key order, with undefined properties as absent', () => {
    expect(sameJson({ a: 1, b: [1, { c: null }] }, { b: [1, { c: null }], a: 1 })).toBe(true);
    expect(sameJson({ a: 1, b: undefined }, { a: 1 })).toBe(true);
    expect(sameJson({ a: 1 }, { a: 1, b: 0 })).toBe(false);
    expect(sameJson([1, 2], [1, 2, 3])).toBe(false);
    expect(sameJson([], {})).toBe(false);
    expect(sameJson({ a: null }, { a: 0 })).toBe(false);
    expect(sameJson('1', 1)).toBe(false);
  });

  it('agrees with comparing canonical JSON text, on arbitrary values and on values one change apart', () => {
    fc.assert(fc.property(fc.jsonValue({ maxDepth: 4 }), fc.jsonValue({ maxDepth: 4 }), (a, b) => sameJson(a, b) === (canonical(a) === canonical(b))), { numRuns: 1000 });
    const changed = fc.jsonValue({ maxDepth: 4 }).chain((a) => fc.tuple(fc.constant(a), fc.jsonValue({ maxDepth: 1 }), fc.nat()));
    fc.assert(fc.property(changed, ([a, replacement, pick]) => {
      const b = JSON.parse(JSON.stringify(a)) as unknown;
      // Replace one nested value of the copy (the pick-th object or array met), or the whole.
      let seen = 0;
      const replaceIn = (v: unknown): unknown => {
        if (v && typeof v === 'object') {
          if (seen++ === pick % 8) return replacement;
          if (Array.isArray(v)) return v.map(replaceIn);
          return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, replaceIn(x)]));
        }
        return v;
      };
      const c = replaceIn(b);
      return sameJson(a, c) === (canonical(a) === canonical(c));
    }), { numRuns: 1000 });
  });
});
