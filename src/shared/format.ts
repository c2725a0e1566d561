/** Number and date formatting shared by the panel, the status bar and the CLI. */

/** Made on first use: a CLI run that prints JSON formats nothing, and making one costs a few ms. */
let integer: Intl.NumberFormat | undefined;

export function formatInteger(n: number): string {
  integer ??= new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
  return integer.format(n);
}

/** 999, 12.3k, 620k, 1M, 1.25M, 3.4B */
export function formatCompact(n: number): string {
  const abs = Math.abs(n);
  const scaled = (value: number, suffix: string): string => {
    const digits = value >= 100 ? 0 : value >= 10 ? 1 : 2;
    return `${Number(value.toFixed(digits))}${suffix}`;
  };
  if (abs >= 1e9) return scaled(n / 1e9, 'B');
  if (abs >= 1e6) return scaled(n / 1e6, 'M');
  if (abs >= 1e3) return scaled(n / 1e3, 'k');
  return String(Math.round(n));
}

export function formatUsd(usd: number | null | undefined): string {
  if (usd === null || usd === undefined) return '—';
  if (usd === 0) return '$0.00';
  if (usd < 0.01) return '<$0.01';
  return `$${usd.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
}

export function formatPercent(value: number | null | undefined, digits = 0): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '—';
  return `${value.toFixed(digits)}%`;
}

/** A ratio (0..1) as a percentage. */
export function formatRatio(value: number | null | undefined, digits = 1): string {
  return value === null || value === undefined ? '—' : formatPercent(value * 100, digits);
}

/** `2026-11-24 14:05` in the viewer's locale time zone. */
export function formatDateTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '—';
  const pad = (v: number): string => String(v).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}
