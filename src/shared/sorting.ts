import { type FigureRow } from './protocol.js';

/** The sortable columns of the panel's tables. */
export type SortColumn = 'label' | 'uncachedInput' | 'cachedInput' | 'cacheWriteInput' | 'output' | 'reasoningOutput' | 'totalTokens' | 'costUsd' | 'lastSeen' | 'firstSeen';

export interface SortSpec {
  column: SortColumn;
  descending: boolean;
}

export const SORT_COLUMNS: readonly SortColumn[] = ['label', 'uncachedInput', 'cachedInput', 'cacheWriteInput', 'output', 'reasoningOutput', 'totalTokens', 'costUsd', 'lastSeen', 'firstSeen'];

/** The thread table's order until the user picks another: the most recent first. */
export const DEFAULT_THREAD_SORT: Readonly<SortSpec> = Object.freeze({ column: 'lastSeen', descending: true });

function value(row: FigureRow, column: SortColumn): string | number {
  switch (column) {
    case 'label': return row.label.toLowerCase();
    case 'totalTokens': return row.totalTokens;
    case 'costUsd': return row.costUsd ?? -1;
    case 'lastSeen': return row.lastSeen ?? '';
    case 'firstSeen': return row.firstSeen ?? '';
    default: return row.buckets[column];
  }
}

/** A stable sort of rows (and of each row's children, when it has any) by one column. */
export function sortRows<T extends FigureRow & { children?: T[] }>(rows: readonly T[], spec: SortSpec): T[] {
  const sorted = rows
    .map((row, index) => ({ row, index }))
    .sort((a, b) => {
      const va = value(a.row, spec.column);
      const vb = value(b.row, spec.column);
      const order = va < vb ? -1 : va > vb ? 1 : 0;
      return (spec.descending ? -order : order) || a.index - b.index;
    })
    .map(({ row }) => row);
  return sorted.map((row) => (row.children && row.children.length > 0 ? { ...row, children: sortRows(row.children, spec) } : row));
}

/** Depth-first rows of a tree, with their depth, skipping the children of collapsed rows. */
export function flattenTree<T extends { key: string; children?: T[] }>(rows: readonly T[], expanded: ReadonlySet<string>, depth = 0, out: { row: T; depth: number }[] = []): { row: T; depth: number }[] {
  for (const row of rows) {
    out.push({ row, depth });
    if (row.children && row.children.length > 0 && expanded.has(row.key)) flattenTree(row.children, expanded, depth + 1, out);
  }
  return out;
}
