/** Number and date formatting shared by the panel, the status bar and the CLI. */

/**
 * `n` rounded to a whole number, with en-US digit grouping (12,345), as Intl.NumberFormat('en-US')
 * writes it, but without Intl where that is plain: a process's first Intl call starts ICU (~18–40 ms
 * here), which a CLI run would otherwise pay for its first figure. Negative, huge and non-finite
 * values go to Intl, made on first use.
 */
let integer: Intl.NumberFormat | undefined;

export function formatInteger(n: number): string {
  if ((n > 0 || Object.is(n, 0)) && n < 1e21) return grouped(String(Math.round(n)));
  integer ??= new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
  return integer.format(n);
}

/**
 * A positive amount with grouped digits and two decimals, as Intl writes it: Intl rounds the
 * shortest decimal that reads back as the number (999999.995 → 1,000,000.00), half away from zero,
 * where toFixed would round its exact binary value. Undefined where that decimal has an exponent.
 */
function withCents(amount: number): string | undefined {
  const text = String(amount);
  if (!(amount > 0) || !Number.isFinite(amount) || text.includes('e')) return undefined;
  const point = text.indexOf('.');
  const fraction = point < 0 ? '' : text.slice(point + 1);
  let hundredths = BigInt((point < 0 ? text : text.slice(0, point)) + `${fraction}00`.slice(0, 2));
  if (fraction.length > 2 && fraction.charCodeAt(2) >= 0x35) hundredths += 1n; // the third decimal is 5 or more
  const digits = hundredths.toString().padStart(3, '0');
  return `${grouped(digits.slice(0, -2))}.${digits.slice(-2)}`;
}

/** Digits with a comma between each group of three from the right. */
function grouped(digits: string): string {
  let out = digits.slice(0, ((digits.length - 1) % 3) + 1);
  for (let i = out.length; i < digits.length; i += 3) out += `,${digits.slice(i, i + 3)}`;
  return out;
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
  return `$${withCents(usd) ?? usd.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
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
