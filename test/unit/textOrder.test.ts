import { describe, expect, it } from 'vitest';
import { compareText } from '../../src/core/textOrder.js';

describe('compareText', () => {
  it('orders by UTF-16 code units, whatever the locale', () => {
    const sorted = ['b', 'a-b', 'B', 'a_b', 'ä', 'a', '', 'a/b', '2026-11-20T10:00:00.000Z', '2026-11-03T10:00:00.000Z'].sort(compareText);
    expect(sorted).toEqual(['', '2026-11-03T10:00:00.000Z', '2026-11-20T10:00:00.000Z', 'B', 'a', 'a-b', 'a/b', 'a_b', 'b', 'ä']);
    expect(compareText('x', 'x')).toBe(0);
  });
});
