import { formatDateTime, formatInteger, formatRatio, formatUsd } from '../shared/format.js';
import { type AgentPanelRow, type FigureRow, type ThreadPanelRow } from '../shared/protocol.js';
import { flattenTree, type SortColumn, type SortSpec, sortRows } from '../shared/sorting.js';
import { h } from './dom.js';

export interface TableColumn<T> {
  id: SortColumn | string;
  title: string;
  numeric?: boolean;
  sortable?: boolean;
  cell: (row: T, depth: number) => Node | string;
}

export interface TableOptions<T extends FigureRow & { children?: T[] }> {
  id: string;
  caption: string;
  rows: T[];
  columns: TableColumn<T>[];
  sort: SortSpec;
  expanded: ReadonlySet<string>;
  onSort: (spec: SortSpec) => void;
  onToggle: (key: string) => void;
  /** Render only the rows in view (for long lists). */
  virtual?: { rowHeight: number; height: number; scrollTop: number; onScroll: (top: number) => void };
}

/** A sortable, keyboard-accessible table; tree rows get a disclosure button. */
export function renderTable<T extends FigureRow & { children?: T[] }>(options: TableOptions<T>): HTMLElement {
  const sorted = sortRows(options.rows, options.sort);
  const flat = flattenTree(sorted, options.expanded);
  const head = h('tr', {}, ...options.columns.map((column) => headerCell(column, options)));
  const table = h('table', { className: 'figures', id: options.id, 'aria-label': options.caption, 'aria-rowcount': flat.length + 1 }, h('thead', {}, head));
  const body = h('tbody');
  table.appendChild(body);
  if (flat.length === 0) {
    body.appendChild(h('tr', {}, h('td', { colspan: options.columns.length, className: 'empty' }, 'No usage in this view.')));
    return table;
  }
  if (!options.virtual) {
    flat.forEach(({ row, depth }, index) => body.appendChild(dataRow(row, depth, index, options)));
    return table;
  }
  const { rowHeight, height } = options.virtual;
  const container = h('div', { className: 'virtual', tabindex: -1 });
  container.style.setProperty('height', `${Math.min(height, (flat.length + 1) * rowHeight + 2)}px`);
  container.appendChild(table);
  const top = h('tr', { className: 'spacer', 'aria-hidden': 'true' });
  const bottom = h('tr', { className: 'spacer', 'aria-hidden': 'true' });
  const draw = (scrollTop: number): void => {
    const first = Math.max(0, Math.floor(scrollTop / rowHeight) - 10);
    const last = Math.min(flat.length, first + Math.ceil(height / rowHeight) + 20);
    while (body.firstChild) body.removeChild(body.firstChild);
    top.style.setProperty('height', `${first * rowHeight}px`);
    bottom.style.setProperty('height', `${(flat.length - last) * rowHeight}px`);
    body.appendChild(top);
    for (let i = first; i < last; i += 1) body.appendChild(dataRow(flat[i]!.row, flat[i]!.depth, i, options));
    body.appendChild(bottom);
  };
  draw(options.virtual.scrollTop);
  let pending = false;
  container.addEventListener('scroll', () => {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => {
      pending = false;
      draw(container.scrollTop);
      options.virtual!.onScroll(container.scrollTop);
    });
  });
  requestAnimationFrame(() => {
    container.scrollTop = options.virtual!.scrollTop;
  });
  return container;
}

function headerCell<T extends FigureRow & { children?: T[] }>(column: TableColumn<T>, options: TableOptions<T>): HTMLElement {
  const active = options.sort.column === column.id;
  const th = h('th', {
    scope: 'col',
    className: column.numeric ? 'num' : '',
    'aria-sort': active ? (options.sort.descending ? 'descending' : 'ascending') : column.sortable === false ? undefined : 'none',
  });
  if (column.sortable === false) {
    th.textContent = column.title;
    return th;
  }
  const button = h('button', { type: 'button', className: 'sort', title: `Sort by ${column.title}` }, column.title, active ? (options.sort.descending ? ' ▾' : ' ▴') : '');
  button.addEventListener('click', () => options.onSort({ column: column.id as SortColumn, descending: active ? !options.sort.descending : column.numeric === true }));
  th.appendChild(button);
  return th;
}

function dataRow<T extends FigureRow & { children?: T[] }>(row: T, depth: number, index: number, options: TableOptions<T>): HTMLElement {
  const tr = h('tr', { 'aria-rowindex': index + 2, 'aria-level': depth + 1 });
  options.columns.forEach((column, i) => {
    const td = h('td', { className: column.numeric ? 'num' : '' });
    if (i === 0) {
      td.style.setProperty('padding-left', `${6 + depth * 16}px`);
      if (row.children && row.children.length > 0) {
        const open = options.expanded.has(row.key);
        const toggle = h('button', { type: 'button', className: 'twisty', 'aria-expanded': open ? 'true' : 'false', 'aria-label': `${open ? 'Collapse' : 'Expand'} ${row.label}` }, open ? '▾' : '▸');
        toggle.addEventListener('click', () => options.onToggle(row.key));
        td.appendChild(toggle);
      } else {
        td.appendChild(h('span', { className: 'twisty-space' }));
      }
    }
    const content = column.cell(row, depth);
    td.appendChild(typeof content === 'string' ? document.createTextNode(content) : content);
    tr.appendChild(td);
  });
  return tr;
}

/** The bucket columns every figures table has. */
export function bucketColumns<T extends FigureRow>(): TableColumn<T>[] {
  return [
    { id: 'uncachedInput', title: 'Input', numeric: true, cell: (r) => formatInteger(r.buckets.uncachedInput) },
    { id: 'cachedInput', title: 'Cached', numeric: true, cell: (r) => formatInteger(r.buckets.cachedInput) },
    { id: 'cacheWriteInput', title: 'Cache write', numeric: true, cell: (r) => formatInteger(r.buckets.cacheWriteInput) },
    { id: 'output', title: 'Output', numeric: true, cell: (r) => formatInteger(r.buckets.output) },
    { id: 'reasoningOutput', title: 'Reasoning', numeric: true, cell: (r) => formatInteger(r.buckets.reasoningOutput) },
    { id: 'totalTokens', title: 'Total', numeric: true, cell: (r) => formatInteger(r.totalTokens) },
    { id: 'costUsd', title: 'Cost', numeric: true, cell: (r) => costCell(r.costUsd, r.unpricedTokens) },
  ];
}

export function costCell(costUsd: number | null, unpricedTokens: number): Node {
  const span = h('span', {}, formatUsd(costUsd));
  if (unpricedTokens > 0) {
    span.appendChild(h('span', { className: 'badge warn', title: `${formatInteger(unpricedTokens)} tokens on models without a known price are not in this figure` }, 'unpriced'));
  }
  return span;
}

export function agentColumns(): TableColumn<AgentPanelRow>[] {
  return [
    { id: 'label', title: 'Agent', cell: (r) => h('span', {}, r.label, r.kind !== 'top-level' ? h('span', { className: 'muted' }, ` · ${r.kind === 'thread_spawn' ? 'sub-agent' : r.kind}`) : '') },
    ...bucketColumns<AgentPanelRow>(),
    { id: 'share', title: 'Budget share', sortable: false, cell: (r) => bar(r.budgetShare, undefined) },
    { id: 'limit', title: 'Limit', sortable: false, cell: (r) => (r.limit === null ? '—' : bar(r.limitShare, `${formatInteger(r.totalTokens)} of ${formatInteger(r.limit)}`)) },
  ];
}

export function threadColumns(): TableColumn<ThreadPanelRow>[] {
  return [
    { id: 'label', title: 'Thread', cell: (r) => h('span', { title: r.threadId }, r.threadId.slice(0, 13), r.estimated ? h('span', { className: 'badge', title: 'No usage in this log: figures estimated from its text' }, 'estimated') : '') },
    { id: 'agent', title: 'Agent', sortable: false, cell: (r) => r.agent },
    { id: 'models', title: 'Models', sortable: false, cell: (r) => r.models.join(', ') },
    { id: 'project', title: 'Project', sortable: false, cell: (r) => h('span', { className: 'path', title: r.project ?? '' }, r.project ?? '—') },
    { id: 'firstSeen', title: 'First', cell: (r) => formatDateTime(r.firstSeen) },
    { id: 'lastSeen', title: 'Last', cell: (r) => formatDateTime(r.lastSeen) },
    { id: 'totalTokens', title: 'Total', numeric: true, cell: (r) => formatInteger(r.totalTokens) },
    { id: 'rolled', title: 'With sub-agents', numeric: true, sortable: false, cell: (r) => (r.children.length > 0 ? formatInteger(r.rolledUpTokens) : '') },
    { id: 'costUsd', title: 'Cost', numeric: true, cell: (r) => costCell(r.children.length > 0 ? r.rolledUpCostUsd : r.costUsd, r.unpricedTokens) },
  ];
}

/** A share bar with its percentage as text (the bar is decoration; the text is what is read). */
export function bar(share: number | null, title: string | undefined): Node {
  if (share === null) return document.createTextNode('—');
  const wrap = h('span', { className: 'share', title });
  const track = h('span', { className: 'track', 'aria-hidden': 'true' });
  const fill = h('span', { className: `fill${share >= 1 ? ' over' : share >= 0.8 ? ' near' : ''}` });
  fill.style.setProperty('width', `${Math.min(100, share * 100).toFixed(1)}%`);
  track.appendChild(fill);
  wrap.appendChild(track);
  wrap.appendChild(document.createTextNode(formatRatio(share, 0)));
  return wrap;
}
