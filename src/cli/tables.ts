/** Plain-text tables for the terminal. */

export interface Column<T> {
  title: string;
  value: (row: T) => string;
  align?: 'left' | 'right';
}

export function renderTable<T>(rows: readonly T[], columns: readonly Column<T>[]): string {
  const cells = rows.map((row) => columns.map((c) => c.value(row)));
  const widths = columns.map((c, i) => Math.max(c.title.length, ...cells.map((r) => r[i]!.length)));
  const line = (values: string[]): string =>
    values.map((v, i) => (columns[i]!.align === 'left' ? v.padEnd(widths[i]!) : v.padStart(widths[i]!))).join('  ').trimEnd();
  return [line(columns.map((c) => c.title)), widths.map((w) => '-'.repeat(w)).join('  ').trimEnd(), ...cells.map(line)].join('\n');
}

/**
 * A cost as the terminal's tables show it: plain ASCII and short (whole dollars from $100), "+?"
 * where some tokens have no price, "unpriced" where none has. Not shared/format.ts's formatUsd,
 * which writes the panel's and the meter's costs (thousands separators, "<$0.01", "—").
 */
export function formatCostCell(usd: number | undefined, unpricedTokens = 0): string {
  if (usd === undefined) return unpricedTokens > 0 ? 'unpriced' : '-';
  const text = `$${usd.toFixed(usd >= 100 ? 0 : 2)}`;
  return unpricedTokens > 0 ? `${text}+?` : text;
}

export function formatPercent(ratio: number | undefined): string {
  return ratio === undefined ? '-' : `${(ratio * 100).toFixed(1)}%`;
}
