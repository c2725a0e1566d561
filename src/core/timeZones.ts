/** Calendar days in an IANA time zone, without a date library. */

const dayFormatters = new Map<string, Intl.DateTimeFormat>();

/** The system's time zone. */
export function systemTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}

/** True when `zone` is a time zone Intl knows. */
export function isValidTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
/** Per zone: the offset of each UTC day (or hour), or null when it changes inside it. */
const dayOffsets = new Map<string, Map<number, number | null>>();
const hourOffsets = new Map<string, Map<number, number | null>>();
/** `YYYY-MM-DD` of each day since the epoch, as met. */
const dayNames = new Map<number, string>();

/**
 * `YYYY-MM-DD` of an ISO timestamp in the zone, fast: the zone's offset is looked up once per UTC
 * day, and used only when it is the same at both ends of that day; on a day with a transition, once
 * per hour in the same way; inside the hour of a transition, the exact, slower path decides.
 */
export function localDayOf(iso: string, timeZone: string): string {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return localDay(new Date(0), timeZone);
  let offset = offsetOver(dayOffsets, timeZone, Math.floor(ms / DAY_MS), DAY_MS);
  if (offset === null) offset = offsetOver(hourOffsets, timeZone, Math.floor(ms / HOUR_MS), HOUR_MS);
  if (offset === null) return localDay(new Date(ms), timeZone);
  const day = Math.floor((ms + offset * 60000) / DAY_MS);
  let name = dayNames.get(day);
  if (name === undefined) dayNames.set(day, (name = new Date(day * DAY_MS).toISOString().slice(0, 10)));
  return name;
}

/** The zone's offset over the span `index` (of `length` ms), or null when it is not the same at both ends. */
function offsetOver(cache: Map<string, Map<number, number | null>>, timeZone: string, index: number, length: number): number | null {
  let zone = cache.get(timeZone);
  if (!zone) cache.set(timeZone, (zone = new Map()));
  let offset = zone.get(index);
  if (offset === undefined) {
    const a = zoneOffsetMinutes(new Date(index * length), timeZone);
    const b = zoneOffsetMinutes(new Date(index * length + length - 1), timeZone);
    offset = a === b ? a : null;
    if (zone.size > 100_000) zone.clear();
    zone.set(index, offset);
  }
  return offset;
}

/** `YYYY-MM-DD` of the instant in the zone (a day starts at local midnight). */
export function localDay(instant: Date, timeZone: string): string {
  let formatter = dayFormatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' });
    dayFormatters.set(timeZone, formatter);
  }
  return formatter.format(instant);
}

/** The offset of the zone from UTC at an instant, in minutes (east positive). */
const partFormatters = new Map<string, Intl.DateTimeFormat>();

function zoneOffsetMinutes(instant: Date, timeZone: string): number {
  let formatter = partFormatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric',
    });
    partFormatters.set(timeZone, formatter);
  }
  const parts = formatter.formatToParts(instant);
  const get = (type: string): number => Number(parts.find((p) => p.type === type)?.value ?? 0);
  const asUtc = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
  return Math.round((asUtc - Math.floor(instant.getTime() / 1000) * 1000) / 60000);
}

/** The instant of local midnight starting `YYYY-MM-DD` in the zone. */
export function startOfLocalDay(day: string, timeZone: string): Date {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day);
  if (!match) throw new Error(`not a day: ${day} (expected YYYY-MM-DD)`);
  const utcMidnight = Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3]));
  // Two passes settle the offset on days when it changes.
  const first = utcMidnight - zoneOffsetMinutes(new Date(utcMidnight), timeZone) * 60000;
  const second = utcMidnight - zoneOffsetMinutes(new Date(first), timeZone) * 60000;
  // Where DST starts at midnight (America/Santiago, America/Havana) local midnight does not exist:
  // the second pass lands an hour early, on the day before, and the day starts at the first guess.
  const startsTheDay = (ms: number): boolean => localDay(new Date(ms), timeZone) === day && localDay(new Date(ms - 1), timeZone) !== day;
  return new Date(startsTheDay(second) || !startsTheDay(first) ? second : first);
}

/** Parses a `--since`/`--until` value: `YYYY-MM-DD` (local midnight in the zone) or an ISO instant. */
export function parseDateBoundary(value: string, timeZone: string): Date {
  if (/^\d{4}-\d{2}-\d{2}$/.test(value)) return startOfLocalDay(value, timeZone);
  const compact = /^(\d{4})(\d{2})(\d{2})$/.exec(value);
  if (compact) return startOfLocalDay(`${compact[1]}-${compact[2]}-${compact[3]}`, timeZone);
  const parsed = new Date(value);
  if (Number.isNaN(parsed.getTime())) throw new Error(`"${value}" is not a date (use YYYY-MM-DD or an ISO time)`);
  return parsed;
}

/** The day after `YYYY-MM-DD`. */
export function nextDay(day: string): string {
  const [y, m, d] = day.split('-').map(Number) as [number, number, number];
  return new Date(Date.UTC(y, m - 1, d + 1)).toISOString().slice(0, 10);
}
