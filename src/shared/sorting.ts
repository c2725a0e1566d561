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

/** The figures a row is sorted by, with null or undefined where one is missing. */
export type SortableFigures = Pick<FigureRow, 'buckets' | 'totalTokens'> & {
  costUsd: number | null | undefined;
  firstSeen: string | null | undefined;
  lastSeen: string | null | undefined;
};

/** A row's value in a column, as the tables compare it (`label`: the row's label). */
export function sortValue(row: SortableFigures, label: string, column: SortColumn): string | number {
  switch (column) {
    case 'label': return label.toLowerCase();
    case 'totalTokens': return row.totalTokens;
    case 'costUsd': return row.costUsd ?? -1;
    case 'lastSeen': return row.lastSeen ?? '';
    case 'firstSeen': return row.firstSeen ?? '';
    default: return row.buckets[column];
  }
}

/** `items` in a stable sort by one column (`valueOf`: an item's value in it, as sortValue gives), as sortRows orders rows. */
export function sortedBy<T>(items: readonly T[], spec: SortSpec, valueOf: (item: T, column: SortColumn) => string | number): T[] {
  return items
    .map((item, index) => ({ item, index, value: valueOf(item, spec.column) }))
    .sort((a, b) => {
      const order = a.value < b.value ? -1 : a.value > b.value ? 1 : 0;
      return (spec.descending ? -order : order) || a.index - b.index;
    })
    .map(({ item }) => item);
}

/** A stable sort of rows (and of each row's children, when it has any) by one column. */
export function sortRows<T extends FigureRow & { children?: T[] }>(rows: readonly T[], spec: SortSpec): T[] {
  const sorted = sortedBy(rows, spec, (row, column) => sortValue(row, row.label, column));
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
