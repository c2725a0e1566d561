import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatInteger, formatUsd } from '../../src/shared/format.js';

/** What the formats were before they left Intl out: Intl's own en-US output is the oracle. */
const intlInteger = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const intlUsd = (usd: number): string => `$${usd.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;

const numbers = fc.oneof(
  fc.nat(),
  fc.integer({ min: -1e9, max: 1e9 }),
  fc.double({ noNaN: false }),
  fc.double({ min: 0, max: 1e7, noNaN: true }),
  fc.constantFrom(0, -0, 0.5, 1.5, 2.5, 999.5, 999_999.5, 1e15, 2 ** 53, 2 ** 53 + 2, 1e21 - 65536, 1e21, 1e22, Number.MAX_VALUE, Infinity, -Infinity, NaN),
);
const amounts = fc.oneof(
  fc.double({ min: 0, max: 1e6, noNaN: true }),
  fc.double({ min: 0, max: 1, noNaN: true }),
  fc.integer({ min: 0, max: 1e8 }).map((c) => c / 100),
  fc.integer({ min: 0, max: 1e8 }).map((c) => c / 1000),
  fc.constantFrom(0.005, 0.015, 0.125, 1.005, 2.675, 999.995, 999_999.995, 1e15 + 0.5, 1e21, 1e22, Infinity),
);

describe('formatInteger', () => {
  it('writes what Intl.NumberFormat en-US writes, for any number', () => {
    fc.assert(fc.property(numbers, (n) => {
      expect(formatInteger(n)).toBe(intlInteger.format(n));
    }), { numRuns: 20_000 });
  });
  it('groups digits in threes', () => {
    expect([0, 7, 999, 1000, 12_345, 1_234_567].map(formatInteger)).toEqual(['0', '7', '999', '1,000', '12,345', '1,234,567']);
  });
});

describe('formatUsd', () => {
  it('writes what toLocaleString en-US with two decimals writes, above a cent', () => {
    fc.assert(fc.property(amounts.filter((usd) => usd >= 0.01), (usd) => {
      expect(formatUsd(usd)).toBe(intlUsd(usd));
    }), { numRuns: 20_000 });
  });
  it('has words for nothing, less than a cent and no price', () => {
    expect([formatUsd(0), formatUsd(0.004), formatUsd(null), formatUsd(undefined), formatUsd(1234.5)]).toEqual(['$0.00', '<$0.01', '—', '—', '$1,234.50']);
  });
});
