import { formatCompact, formatInteger } from '../shared/format.js';
import { type FigureRow } from '../shared/protocol.js';
import { h, svg } from './dom.js';

const SERIES = [
  { key: 'uncachedInput', label: 'Input', className: 'bucket-uncached' },
  { key: 'cachedInput', label: 'Cached', className: 'bucket-cached' },
  { key: 'cacheWriteInput', label: 'Cache write', className: 'bucket-cachewrite' },
  { key: 'output', label: 'Output', className: 'bucket-output' },
] as const;

/**
 * Daily usage stacked by bucket, as SVG coloured through CSS classes that use the theme's
 * `--vscode-charts-*` colours (so light, dark and high-contrast themes all work). Each bar has a
 * <title> with its figures, and the chart has a text summary for screen readers.
 */
export function renderDailyChart(days: FigureRow[]): HTMLElement {
  const figure = h('figure', { className: 'chart' });
  if (days.length === 0) {
    figure.appendChild(h('p', { className: 'empty' }, 'No usage in this period.'));
    return figure;
  }
  const width = 720;
  const height = 180;
  const pad = { left: 48, right: 8, top: 8, bottom: 22 };
  const max = Math.max(...days.map((d) => d.buckets.uncachedInput + d.buckets.cachedInput + d.buckets.cacheWriteInput + d.buckets.output), 1);
  const slot = (width - pad.left - pad.right) / days.length;
  const barWidth = Math.max(2, Math.min(28, slot * 0.7));
  const scale = (v: number): number => (v / max) * (height - pad.top - pad.bottom);
  const chart = svg('svg', { viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': `Tokens per day, ${days.length} days, highest ${formatInteger(max)}` });
  for (const fraction of [0, 0.5, 1]) {
    const y = height - pad.bottom - scale(max * fraction);
    chart.appendChild(svg('line', { x1: pad.left, x2: width - pad.right, y1: y, y2: y, class: 'gridline' }));
    chart.appendChild(svg('text', { x: pad.left - 4, y: y + 4, class: 'axis', 'text-anchor': 'end' }, formatCompact(max * fraction)));
  }
  days.forEach((day, i) => {
    const x = pad.left + i * slot + (slot - barWidth) / 2;
    let y = height - pad.bottom;
    const group = svg('g', { class: 'day' });
    group.appendChild(svg('title', {}, `${day.label}: ${formatInteger(day.totalTokens)} tokens (input ${formatInteger(day.buckets.uncachedInput)}, cached ${formatInteger(day.buckets.cachedInput)}, cache write ${formatInteger(day.buckets.cacheWriteInput)}, output ${formatInteger(day.buckets.output)})`));
    for (const series of SERIES) {
      const size = scale(day.buckets[series.key]);
      if (size <= 0) continue;
      y -= size;
      group.appendChild(svg('rect', { x, y, width: barWidth, height: size, class: series.className }));
    }
    chart.appendChild(group);
    if (days.length <= 16 || i % Math.ceil(days.length / 12) === 0) {
      chart.appendChild(svg('text', { x: x + barWidth / 2, y: height - 6, class: 'axis', 'text-anchor': 'middle' }, day.label.slice(5)));
    }
  });
  figure.appendChild(chart);
  const legend = h('figcaption', { className: 'legend' });
  for (const series of SERIES) legend.appendChild(h('span', { className: 'legend-item' }, h('span', { className: `swatch ${series.className}`, 'aria-hidden': 'true' }), series.label));
  figure.appendChild(legend);
  return figure;
}
