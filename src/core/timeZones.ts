/** Calendar days in an IANA time zone, without a date library. */

import { readlinkSync } from 'node:fs';

const dayFormatters = new Map<string, Intl.DateTimeFormat>();

/** Reads a symbolic link's target (fs.readlinkSync; injected by tests). */
export type LinkReader = (path: string) => string;

/** The names the UTC zone goes by, which Intl spells "UTC". */
const UTC_NAMES = new Set(['UTC', 'UCT', 'Universal', 'Zulu', 'GMT', 'GMT0', 'GMT+0', 'GMT-0', 'Greenwich']);

/**
 * The system's time zone. Where TZ is unset and /etc/localtime links into a zoneinfo folder (Linux,
 * macOS), it is the zone that link names: where ICU itself finds the zone there, read without
 * starting ICU, which costs a process's first Intl call ~18 ms here (a CLI run answered from its
 * cache needs only the name). The name can be an alias of the one Intl gives (Asia/Kolkata for
 * Asia/Calcutta), the same zone; the names of UTC are "UTC", as Intl has them. Anything else is
 * Intl's answer (UTC where Intl has none it can compute in). A linked name never reaches Intl: days
 * in it come from Date (inDateZone), even should Intl not know it.
 */
export function systemTimeZone(env: NodeJS.ProcessEnv = process.env, readLink: LinkReader = readlinkSync): string {
  return (env.TZ === undefined && linkedTimeZone(readLink)) || intlTimeZone();
}

function linkedTimeZone(readLink: LinkReader): string | undefined {
  let target: string;
  try {
    target = readLink('/etc/localtime');
  } catch {
    return undefined; // not a link (a copy of the zone's file), or no such file (Windows)
  }
  const name = /\/zoneinfo\/(?:posix\/|right\/)?([A-Za-z][\w+-]*(?:\/[\w+-]+)*)$/.exec(target)?.[1];
  if (name === undefined) return undefined;
  return UTC_NAMES.has(name.replace(/^Etc\//, '')) ? 'UTC' : name;
}

/**
 * The zone Intl takes for the system, or UTC where it has none it can compute in: none at all
 * (TZ=Foo/Bar), or "Etc/Unknown", which it names but does not take back (TZ="" or TZ=Factory; glibc
 * reads an empty TZ as UTC).
 */
function intlTimeZone(): string {
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  return zone && isValidTimeZone(zone) ? zone : 'UTC';
}

/**
 * `zone` when this module can compute in it: the zone of V8's own local time (inDateZone), or one
 * Intl knows; else Intl's own zone for the system. systemTimeZone's answers are always the former,
 * so this is a guard for a zone from elsewhere, kept where a run computes days (the CLI's full run,
 * its budget, its periods; the extension's settings).
 */
export function usableTimeZone(zone: string): string {
  return inDateZone(zone) || isValidTimeZone(zone) ? zone : intlTimeZone();
}

/** The zone of V8's own local time when it can be named without Intl (see inDateZone), per value of TZ. */
let dateZone: { tz: string | undefined; zone: string | undefined } | undefined;

/**
 * Whether `timeZone` is the zone of V8's own local time (Date's local getters, `new Date(y, m, d)`):
 * the system's zone read from the /etc/localtime link, TZ unset (systemTimeZone). Days in it are
 * then computed with Date, without Intl and so without starting ICU; V8 takes its local time from
 * the same ICU time-zone data, and the two agree (compared with TZ set to each zone Intl knows: the
 * start of every day of 1990–2035, the day of every hour of January 2026; and with the link set to
 * seven zones, 1990–2035). Should ICU not know the linked name, V8's local time is in ICU's own
 * zone for the system, the one usableTimeZone would have given way to.
 */
function inDateZone(timeZone: string): boolean {
  const tz = process.env.TZ;
  if (dateZone === undefined || dateZone.tz !== tz) dateZone = { tz, zone: tz === undefined ? linkedTimeZone(readlinkSync) : undefined };
  return dateZone.zone === timeZone;
}

/** Years Date's local getters and `new Date(y, m, d)` are used for (Intl writes the others; Date reads 0–99 as 19xx). */
const DATE_YEARS = { first: 1000, last: 9999 };

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
/**
 * Epoch milliseconds of an ISO timestamp: the form Codex writes (`2026-11-20T10:00:00.123Z`, with
 * 0–9 fraction digits) read digit by digit and counted in days of the proleptic Gregorian calendar
 * (as Date does), anything else by Date.parse (NaN when it is no date). Date.UTC is not used: it
 * reads the years 0–99 as 1900–1999.
 */
export function isoToEpochMs(iso: string): number {
  const n = iso.length;
  if (n < 20 || n > 30 || iso.charCodeAt(n - 1) !== 90 /* Z */ || iso.charCodeAt(4) !== 45 || iso.charCodeAt(7) !== 45 || iso.charCodeAt(10) !== 84
    || iso.charCodeAt(13) !== 58 || iso.charCodeAt(16) !== 58) return Date.parse(iso);
  let millis = 0;
  if (n > 20) {
    if (iso.charCodeAt(19) !== 46 /* . */ || n === 21) return Date.parse(iso);
    // Date.parse keeps the first three fraction digits and drops the rest.
    const fraction = digitsAt(iso, 20, n - 21);
    if (fraction < 0) return Date.parse(iso);
    millis = n - 21 >= 3 ? Math.floor(fraction / 10 ** (n - 24)) : fraction * 10 ** (24 - n);
  }
  const year = digitsAt(iso, 0, 4);
  const month = digitsAt(iso, 5, 2);
  const day = digitsAt(iso, 8, 2);
  const hour = digitsAt(iso, 11, 2);
  const minute = digitsAt(iso, 14, 2);
  const second = digitsAt(iso, 17, 2);
  // Not a digit anywhere, a day the month does not have, 24:00: Date.parse's to judge.
  if (year < 0 || !(month >= 1 && month <= 12) || day < 1 || day > daysInMonth(year, month) || !(hour >= 0 && hour <= 23)
    || !(minute >= 0 && minute <= 59) || !(second >= 0 && second <= 59)) return Date.parse(iso);
  return daysFromCivil(year, month, day) * DAY_MS + hour * 3_600_000 + minute * 60_000 + second * 1000 + millis;
}

/** The number the `count` decimal digits at iso[at] spell, or -1 when one of them is no digit. */
function digitsAt(iso: string, at: number, count: number): number {
  let value = 0;
  for (let i = at; i < at + count; i += 1) {
    const d = iso.charCodeAt(i) - 48;
    if (!(d >= 0 && d <= 9)) return -1;
    value = value * 10 + d;
  }
  return value;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/** Days from 1970-01-01 to the date (proleptic Gregorian; years from March, so February's leap day comes last). */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146_097 + dayOfEra - 719_468;
}

/** `YYYY-MM-DD` of each day since the epoch, as met. */
const dayNames = new Map<number, string>();

/**
 * `YYYY-MM-DD` of an ISO timestamp in the zone, fast: the zone's offset is looked up once per UTC
 * day, and used only when it is the same at both ends of that day; on a day with a transition, once
 * per hour in the same way; inside the hour of a transition, the exact, slower path decides.
 * `ms` is the instant, for a caller that has parsed it already.
 */
export function localDayOf(iso: string, timeZone: string, ms = isoToEpochMs(iso)): string {
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
  if (inDateZone(timeZone)) {
    const year = instant.getFullYear();
    if (year >= DATE_YEARS.first && year <= DATE_YEARS.last) return `${year}-${twoDigits(instant.getMonth() + 1)}-${twoDigits(instant.getDate())}`;
  }
  return localDayByIntl(instant, timeZone);
}

/** localDay as Intl gives it, in any zone (exported for the test that holds the Date path to it). */
export function localDayByIntl(instant: Date, timeZone: string): string {
  let formatter = dayFormatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' });
    dayFormatters.set(timeZone, formatter);
  }
  return formatter.format(instant);
}

function twoDigits(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** The offset of the zone from UTC at an instant, in minutes (east positive). */
const partFormatters = new Map<string, Intl.DateTimeFormat>();

function zoneOffsetMinutes(instant: Date, timeZone: string): number {
  // Rounded as below: the offset to the second, in minutes (east positive); || 0 for a -0.
  if (inDateZone(timeZone)) return Math.round(-instant.getTimezoneOffset()) || 0;
  return zoneOffsetMinutesByIntl(instant, timeZone);
}

function zoneOffsetMinutesByIntl(instant: Date, timeZone: string): number {
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

/**
 * The first instant of the local day `YYYY-MM-DD` in the zone: local midnight, or where midnight
 * does not exist (DST starting at 00:00: America/Santiago, America/Havana) the instant the clocks
 * jump to, or where it comes twice (DST ending at 01:00 back to 00:00: Asia/Amman until 2022,
 * Europe/Lisbon in 1976–81) the first of the two. A day the zone skipped (Pacific/Apia's
 * 2011-12-30) starts, and at once ends, where the next day starts.
 */
export function startOfLocalDay(day: string, timeZone: string): Date {
  const [year, month, date] = dayParts(day);
  if (inDateZone(timeZone) && year >= DATE_YEARS.first) return new Date(year, month - 1, date);
  return startOfLocalDayByIntl(day, timeZone);
}

/** The year, month (1–12) and day of `YYYY-MM-DD`. */
function dayParts(day: string): [number, number, number] {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day);
  if (!match) throw new Error(`not a day: ${day} (expected YYYY-MM-DD)`);
  return [Number(match[1]), Number(match[2]), Number(match[3])];
}

/** startOfLocalDay as Intl's offsets give it, in any zone (exported for the test that holds the Date path to it). */
export function startOfLocalDayByIntl(day: string, timeZone: string): Date {
  const [year, month, date] = dayParts(day);
  const utcMidnight = Date.UTC(year, month - 1, date);
  // Local midnight is utcMidnight less the zone's offset there, and that offset is one of those the
  // zone has between 14 hours before and 12 hours after utcMidnight (UTC−12 to UTC+14), so one of
  // the offsets at these instants; the day starts at the earliest candidate that is on it with the
  // millisecond before on an earlier day.
  let best: number | undefined;
  for (const probe of [-14, -7, 0, 6, 12]) {
    const candidate = utcMidnight - zoneOffsetMinutesByIntl(new Date(utcMidnight + probe * HOUR_MS), timeZone) * 60000;
    if ((best === undefined || candidate < best) && localDayByIntl(new Date(candidate), timeZone) === day && localDayByIntl(new Date(candidate - 1), timeZone) < day) best = candidate;
  }
  if (best !== undefined) return new Date(best);
  // No midnight and no jump onto this day: it was skipped, or (a jump into the middle of it) starts
  // at the jump, found from the next day's start backwards by whole hours.
  const next = startOfLocalDayByIntl(nextDay(day), timeZone).getTime();
  let start = next;
  while (localDayByIntl(new Date(start - HOUR_MS), timeZone) === day) start -= HOUR_MS;
  return new Date(start);
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

/** Whether the instant is a local midnight in the time zone (no bound at all counts as one). */
export function isLocalMidnight(instant: Date | undefined, timeZone: string): boolean {
  return instant === undefined || startOfLocalDay(localDay(instant, timeZone), timeZone).getTime() === instant.getTime();
}
