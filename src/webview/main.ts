import { formatCompact, formatDateTime, formatInteger, formatPercent, formatRatio, formatUsd } from '../shared/format.js';
import { type HostMessage, PANEL_THREAD_ROWS, type PanelFilter, type PanelSnapshot, type PanelUiState, type PeriodChoice, type WebviewMessage } from '../shared/protocol.js';
import { applySnapshotUpdate } from '../shared/snapshotDiff.js';
import { DEFAULT_THREAD_SORT, type SortSpec } from '../shared/sorting.js';
import { renderDailyChart } from './chart.js';
import { clear, h } from './dom.js';
import { agentColumns, bucketColumns, renderTable, threadColumns } from './tables.js';

interface VsCodeApi {
  postMessage(message: WebviewMessage): void;
  getState(): PanelUiState | undefined;
  setState(state: PanelUiState): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

const vscode = acquireVsCodeApi();
const defaultState: PanelUiState = { filter: { period: 'month' }, sort: {}, expanded: [], scrollTop: 0 };
const ui: PanelUiState = { ...defaultState, ...(vscode.getState() ?? {}) };
let snapshot: PanelSnapshot | undefined;
let scanning = false;

const root = document.getElementById('root')!;
const status = h('p', { className: 'status', role: 'status', 'aria-live': 'polite' });
const filterBar = h('form', { className: 'filters', 'aria-label': 'Filters' });
const content = h('main', { id: 'content' });
root.append(filterBar, status, content);

function save(): void {
  vscode.setState(ui);
}

function post(message: WebviewMessage): void {
  vscode.postMessage(message);
}

function sortFor(table: string, fallback: SortSpec): SortSpec {
  return (ui.sort[table] as SortSpec | undefined) ?? fallback;
}

function setSort(table: string, spec: SortSpec): void {
  ui.sort[table] = spec;
  save();
  render();
}

function toggle(key: string): void {
  const set = new Set(ui.expanded);
  if (set.has(key)) set.delete(key);
  else set.add(key);
  ui.expanded = [...set];
  save();
  render();
}

/** Asks the host for another view; it carries the thread table's order, which decides the threads a long view sends. */
function setFilter(filter: PanelFilter): void {
  const threadSort = ui.sort.threads as SortSpec | undefined;
  ui.filter = threadSort ? { ...filter, threadSort } : filter;
  save();
  post({ type: 'setFilter', filter: ui.filter });
  status.textContent = 'Updating…';
}

/** Another period or filter: the view starts again with the first PANEL_THREAD_ROWS threads. */
function changeView(current: PanelFilter, changes: Partial<PanelFilter>): void {
  const { threadRows: _shown, ...rest } = current;
  setFilter({ ...rest, ...changes });
}

function select(label: string, id: string, value: string | undefined, options: { value: string; label: string }[], onChange: (value: string | undefined) => void): HTMLElement {
  const element = h('select', { id, 'aria-label': label });
  element.appendChild(h('option', { value: '' }, `All ${label.toLowerCase()}s`));
  for (const option of options) element.appendChild(h('option', { value: option.value, selected: option.value === value }, option.label));
  element.addEventListener('change', () => onChange(element.value === '' ? undefined : element.value));
  return h('label', {}, h('span', { className: 'label' }, label), element);
}

function renderFilters(s: PanelSnapshot | undefined): void {
  clear(filterBar);
  const f = ui.filter;
  const periods: { value: PeriodChoice; label: string }[] = [
    { value: 'today', label: 'Today' },
    { value: 'week', label: 'This week' },
    { value: 'month', label: 'This month' },
    { value: 'all', label: 'All time' },
    { value: 'custom', label: 'Custom…' },
  ];
  const period = h('select', { id: 'filter-period', 'aria-label': 'Period' });
  for (const p of periods) period.appendChild(h('option', { value: p.value, selected: p.value === f.period }, p.label));
  period.addEventListener('change', () => changeView(f, { period: period.value as PeriodChoice }));
  filterBar.appendChild(h('label', {}, h('span', { className: 'label' }, 'Period'), period));
  if (f.period === 'custom') {
    const since = h('input', { type: 'date', id: 'filter-since', 'aria-label': 'Since', value: f.since ?? '' });
    const until = h('input', { type: 'date', id: 'filter-until', 'aria-label': 'Until (inclusive)', value: f.until ?? '' });
    const apply = (): void => changeView(f, { since: since.value || undefined, until: until.value || undefined });
    since.addEventListener('change', apply);
    until.addEventListener('change', apply);
    filterBar.append(h('label', {}, h('span', { className: 'label' }, 'Since'), since), h('label', {}, h('span', { className: 'label' }, 'Until'), until));
  }
  const choices = s?.choices ?? { agents: [], models: [], projects: [] };
  filterBar.appendChild(select('Agent', 'filter-agent', f.agentId, choices.agents.map((a) => ({ value: a.id, label: a.label })), (v) => changeView(f, { agentId: v })));
  filterBar.appendChild(select('Model', 'filter-model', f.model, choices.models.map((m) => ({ value: m, label: m })), (v) => changeView(f, { model: v })));
  filterBar.appendChild(select('Project', 'filter-project', f.project, choices.projects.map((p) => ({ value: p, label: p })), (v) => changeView(f, { project: v })));
  const actions = h('span', { className: 'actions' });
  for (const format of ['csv', 'json'] as const) {
    const button = h('button', { type: 'button', id: `export-${format}` }, `Export ${format.toUpperCase()}`);
    button.addEventListener('click', () => post({ type: 'export', format }));
    actions.appendChild(button);
  }
  const settings = h('button', { type: 'button', id: 'open-settings' }, 'Budget settings');
  settings.addEventListener('click', () => post({ type: 'openSettings' }));
  actions.appendChild(settings);
  filterBar.appendChild(actions);
  filterBar.addEventListener('submit', (e) => e.preventDefault());
}

function card(title: string, value: string, detail: string | Node | undefined, className = ''): HTMLElement {
  return h('section', { className: `card ${className}`, 'aria-label': title }, h('h3', {}, title), h('p', { className: 'value' }, value), detail ? h('p', { className: 'detail' }, detail) : null);
}

function renderHeader(s: PanelSnapshot): HTMLElement {
  const hd = s.header;
  const cards = h('div', { className: 'cards' });
  const period = hd.budgetPeriod === 'all' ? 'in total' : `this ${hd.budgetPeriod}`;
  const budgetDetail = hd.budgetTokens
    ? `${formatInteger(hd.usedTokens)} of ${formatInteger(hd.budgetTokens)} tokens ${period}${hd.periodResetsAt ? `, resets ${formatDateTime(hd.periodResetsAt)}` : ''}`
    : `${formatInteger(hd.usedTokens)} tokens ${period}; no budget set`;
  cards.appendChild(card('Budget', hd.budgetPercent === null ? formatCompact(hd.usedTokens) : formatPercent(hd.budgetPercent), budgetDetail, `level-${hd.level}`));
  const costDetail = [hd.costBudgetUsd !== null ? `of ${formatUsd(hd.costBudgetUsd)} budget` : '', hd.unpricedTokens > 0 ? `${formatInteger(hd.unpricedTokens)} tokens unpriced` : ''].filter(Boolean).join('; ');
  cards.appendChild(card('Cost', formatUsd(hd.costUsd), costDetail || s.periodLabel));
  cards.appendChild(card('Cache hit rate', formatRatio(hd.cacheHitRate), 'cached ÷ all input'));
  cards.appendChild(card('Reasoning', formatRatio(hd.reasoningShare), 'share of output'));
  const limits = h('div', {});
  if (hd.rateLimits.length === 0) limits.appendChild(document.createTextNode('No rate-limit data in the logs yet'));
  for (const r of hd.rateLimits) limits.appendChild(h('div', {}, `${r.label}: ${formatPercent(r.usedPercent)} used${r.resetsAt ? `, resets ${formatDateTime(r.resetsAt)}` : ''}`));
  cards.appendChild(card('Codex rate limits', hd.rateLimits.map((r) => formatPercent(r.usedPercent)).join(' · ') || '—', limits));
  return cards;
}

function section(title: string, id: string, ...children: (Node | null)[]): HTMLElement {
  const heading = h('h2', { id: `${id}-heading` }, title);
  return h('section', { className: 'block', id, 'aria-labelledby': `${id}-heading` }, heading, ...children);
}

function renderDiagnostics(s: PanelSnapshot): HTMLElement {
  const d = s.diagnostics;
  const items: [string, number, string][] = [
    ['Lines skipped as bad', d.badLines, 'diag-bad-lines'],
    ['Repeated snapshots ignored', d.repeatedSnapshots, 'diag-repeated'],
    ['Replayed history ignored', d.replayedSnapshots, 'diag-replayed'],
    ['Threads estimated', d.estimatedThreads, 'diag-estimated'],
    ['Tokens on unpriced models', d.unpricedTokens, 'diag-unpriced'],
    ['Source disagreements', d.sourceDisagreements, 'diag-disagreements'],
    ['Unreadable files', d.unreadableFiles, 'diag-unreadable'],
  ];
  const list = h('dl', { className: 'diagnostics' });
  for (const [label, value, id] of items) list.append(h('dt', {}, label), h('dd', { id }, formatInteger(value)));
  return h('footer', { 'aria-label': 'Diagnostics' }, h('h2', {}, 'Diagnostics'), list, h('p', { className: 'muted' }, `Generated ${formatDateTime(s.generatedAt)} · days in ${s.timeZone}`));
}

function render(): void {
  renderFilters(snapshot);
  if (!snapshot) {
    status.textContent = scanning ? 'Reading Codex logs…' : 'Waiting for data…';
    return;
  }
  const s = snapshot;
  status.textContent = scanning ? 'Reading Codex logs… figures so far' : `${s.periodLabel}`;
  const scrollY = window.scrollY;
  const byTotal: SortSpec = { column: 'totalTokens', descending: true };
  const next = h('div', {});
  next.appendChild(renderHeader(s));
  next.appendChild(section('Agents', 'agents', renderTable({ id: 'agents-table', caption: 'Usage per agent', rows: s.agents, columns: agentColumns(), sort: sortFor('agents', byTotal), expanded: new Set(ui.expanded), onSort: (spec) => setSort('agents', spec), onToggle: toggle })));
  next.appendChild(section('Daily usage', 'daily', renderDailyChart(s.days)));
  next.appendChild(section('Models', 'models', renderTable({ id: 'models-table', caption: 'Usage per model', rows: s.models, columns: [{ id: 'label', title: 'Model', cell: (r) => r.label }, ...bucketColumns()], sort: sortFor('models', byTotal), expanded: new Set(), onSort: (spec) => setSort('models', spec), onToggle: toggle })));
  next.appendChild(section('Projects', 'projects', renderTable({ id: 'projects-table', caption: 'Usage per project', rows: s.projects, columns: [{ id: 'label', title: 'Project', cell: (r) => h('span', { className: 'path', title: r.label }, r.label) }, ...bucketColumns()], sort: sortFor('projects', byTotal), expanded: new Set(), onSort: (spec) => setSort('projects', spec), onToggle: toggle })));
  const threadsTable = renderTable({
    id: 'threads-table', caption: 'Usage per thread', rows: s.threads, columns: threadColumns(), sort: sortFor('threads', DEFAULT_THREAD_SORT), expanded: new Set(ui.expanded), onToggle: toggle,
    // The host picks a long view's threads in this order, so it is asked again.
    onSort: (spec) => {
      setSort('threads', spec);
      setFilter(ui.filter);
    },
    virtual: { rowHeight: 26, height: 420, scrollTop: ui.scrollTop, onScroll: (top) => { ui.scrollTop = top; save(); } },
  });
  const held = countThreads(s.threads);
  let cut: HTMLElement | null = null;
  if (held < s.threadCount) {
    const more = h('button', { type: 'button', id: 'threads-more' }, `Show ${formatInteger(PANEL_THREAD_ROWS)} more`);
    more.addEventListener('click', () => setFilter({ ...ui.filter, threadRows: (ui.filter.threadRows ?? PANEL_THREAD_ROWS) + PANEL_THREAD_ROWS }));
    cut = h('p', { className: 'note', id: 'threads-cut' },
      h('span', { id: 'threads-cut-text' }, `Showing the first ${formatInteger(held)} of ${formatInteger(s.threadCount)} threads in this order; Export Usage… writes them all.`), ' ', more);
  }
  next.appendChild(section(`Threads (${formatInteger(s.threadCount)})`, 'threads', cut, threadsTable));
  next.appendChild(renderDiagnostics(s));
  clear(content);
  content.appendChild(next);
  window.scrollTo(0, scrollY);
}

function countThreads(rows: PanelSnapshot['threads']): number {
  return rows.reduce((n, r) => n + 1 + countThreads(r.children), 0);
}

window.addEventListener('message', (event: MessageEvent<HostMessage>) => {
  const message = event.data;
  if (!message || typeof message !== 'object') return;
  switch (message.type) {
    case 'snapshot':
      snapshot = message.snapshot;
      scanning = message.snapshot.scanning;
      render();
      requestAnimationFrame(() => post({ type: 'rendered', threads: message.snapshot.threadCount }));
      break;
    case 'update':
      if (!snapshot) return;
      snapshot = applySnapshotUpdate(snapshot, message.changes);
      scanning = snapshot.scanning;
      render();
      break;
    case 'scanning':
      scanning = message.scanning;
      if (!snapshot) render();
      else status.textContent = scanning ? `Reading Codex logs… ${message.detail ?? ''}` : snapshot.periodLabel;
      break;
    case 'error':
      status.textContent = message.message;
      break;
  }
});

render();
post({ type: 'ready' });
post({ type: 'setFilter', filter: ui.filter });
