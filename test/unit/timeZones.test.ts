import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isoToEpochMs, isValidTimeZone, localDay, localDayByIntl, localDayOf, nextDay, parseDateBoundary, startOfLocalDay, startOfLocalDayByIntl, systemTimeZone, usableTimeZone } from '../../src/core/timeZones.js';

describe('local days', () => {
  it('a day starts at local midnight: 23:30 and 00:30 in Berlin are different days', () => {
    // Berlin is UTC+1 in November: 23:30 local = 22:30Z, 00:30 local next day = 23:30Z the same UTC day.
    expect(localDayOf('2026-11-20T22:30:00.000Z', 'Europe/Berlin')).toBe('2026-11-20');
    expect(localDayOf('2026-11-20T23:30:00.000Z', 'Europe/Berlin')).toBe('2026-11-21');
    expect(localDayOf('2026-11-20T23:30:00.000Z', 'UTC')).toBe('2026-11-20');
    // summer time, UTC+2
    expect(localDayOf('2026-07-01T21:59:59.999Z', 'Europe/Berlin')).toBe('2026-07-01');
    expect(localDayOf('2026-07-01T22:00:00.000Z', 'Europe/Berlin')).toBe('2026-07-02');
  });

  it('works in zones west of UTC and with non-hour offsets', () => {
    expect(localDayOf('2026-11-21T04:59:00.000Z', 'America/New_York')).toBe('2026-11-20');
    expect(localDayOf('2026-11-21T05:00:00.000Z', 'America/New_York')).toBe('2026-11-21');
    expect(localDayOf('2026-11-20T18:29:00.000Z', 'Asia/Kolkata')).toBe('2026-11-20');
    expect(localDayOf('2026-11-20T18:30:00.000Z', 'Asia/Kolkata')).toBe('2026-11-21');
  });

  it('agrees with Intl on the DST change days, minute by minute around the change', () => {
    for (const start of ['2026-03-28T22:00:00Z', '2026-10-24T22:00:00Z']) {
      for (let m = 0; m < 6 * 60; m += 1) {
        const iso = new Date(Date.parse(start) + m * 60000).toISOString();
        expect(localDayOf(iso, 'Europe/Berlin')).toBe(localDay(new Date(iso), 'Europe/Berlin'));
      }
    }
  });

  it('gives the epoch day for an unparsable timestamp instead of throwing', () => {
    expect(localDayOf('not a time', 'UTC')).toBe('1970-01-01');
  });
});

describe('startOfLocalDay', () => {
  it('is local midnight, also on days with 23 or 25 hours', () => {
    expect(startOfLocalDay('2026-11-21', 'Europe/Berlin').toISOString()).toBe('2026-11-20T23:00:00.000Z');
    expect(startOfLocalDay('2026-07-02', 'Europe/Berlin').toISOString()).toBe('2026-07-01T22:00:00.000Z');
    expect(startOfLocalDay('2026-03-29', 'Europe/Berlin').toISOString()).toBe('2026-03-28T23:00:00.000Z');
    expect(startOfLocalDay('2026-03-30', 'Europe/Berlin').toISOString()).toBe('2026-03-29T22:00:00.000Z');
    expect(startOfLocalDay('2026-10-25', 'Europe/Berlin').toISOString()).toBe('2026-10-24T22:00:00.000Z');
    expect(startOfLocalDay('2026-10-26', 'Europe/Berlin').toISOString()).toBe('2026-10-25T23:00:00.000Z');
    expect(startOfLocalDay('2026-11-21', 'America/New_York').toISOString()).toBe('2026-11-21T05:00:00.000Z');
  });
  it('starts a day whose midnight does not exist (DST starting at 00:00) when the clocks jump', () => {
    // Santiago goes from −04 to −03 at 00:00 on 2026-09-06: the day begins at 01:00 local = 04:00Z.
    expect(startOfLocalDay('2026-09-06', 'America/Santiago').toISOString()).toBe('2026-09-06T04:00:00.000Z');
    // Havana goes from −05 to −04 at 00:00 on 2026-03-08: 01:00 local = 05:00Z.
    expect(startOfLocalDay('2026-03-08', 'America/Havana').toISOString()).toBe('2026-03-08T05:00:00.000Z');
    expect(parseDateBoundary('2026-09-06', 'America/Santiago').toISOString()).toBe('2026-09-06T04:00:00.000Z');
  });
  it('starts a day whose midnight comes twice (DST ending at 01:00 back to 00:00) at the first', () => {
    // Amman went from +03 to +02 at 01:00 on 2021-10-29: 00:00 came at 21:00Z and again at 22:00Z.
    expect(startOfLocalDay('2021-10-29', 'Asia/Amman').toISOString()).toBe('2021-10-28T21:00:00.000Z');
    expect(startOfLocalDay('1976-09-26', 'Europe/Lisbon').toISOString()).toBe('1976-09-25T23:00:00.000Z');
  });
  it('starts, and ends, a day the zone skipped where the next day starts', () => {
    // Samoa went from −10 to +14 at the end of 2011-12-29: there was no 2011-12-30.
    expect(startOfLocalDay('2011-12-30', 'Pacific/Apia').toISOString()).toBe('2011-12-30T10:00:00.000Z');
    expect(startOfLocalDay('2011-12-31', 'Pacific/Apia').toISOString()).toBe('2011-12-30T10:00:00.000Z');
    expect(startOfLocalDay('2011-12-29', 'Pacific/Apia').toISOString()).toBe('2011-12-29T10:00:00.000Z');
  });
  it('rejects what is not a day', () => {
    expect(() => startOfLocalDay('2026-11', 'UTC')).toThrow(/not a day: 2026-11 \(expected YYYY-MM-DD\)/);
  });
});

describe('parseDateBoundary', () => {
  it('reads days (with or without dashes) as local midnight and ISO times as instants', () => {
    expect(parseDateBoundary('2026-11-21', 'Europe/Berlin').toISOString()).toBe('2026-11-20T23:00:00.000Z');
    expect(parseDateBoundary('20261121', 'Europe/Berlin').toISOString()).toBe('2026-11-20T23:00:00.000Z');
    expect(parseDateBoundary('2026-11-21T08:15:00+01:00', 'UTC').toISOString()).toBe('2026-11-21T07:15:00.000Z');
  });
  it('says what it expects for anything else', () => {
    expect(() => parseDateBoundary('yesterday-ish', 'UTC')).toThrow('"yesterday-ish" is not a date (use YYYY-MM-DD or an ISO time)');
  });
});

describe('small helpers', () => {
  it('nextDay crosses months, years and leap days', () => {
    expect(nextDay('2026-11-30')).toBe('2026-12-01');
    expect(nextDay('2026-12-31')).toBe('2027-01-01');
    expect(nextDay('2028-02-28')).toBe('2028-02-29');
  });
  it('knows valid zones from invalid ones', () => {
    expect(isValidTimeZone('Europe/Berlin')).toBe(true);
    expect(isValidTimeZone('Mars/Olympus_Mons')).toBe(false);
    expect(isValidTimeZone(systemTimeZone())).toBe(true);
  });
});

describe('the system time zone', () => {
  const intlZone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  const linkedTo = (target: string) => (path: string): string => {
    expect(path).toBe('/etc/localtime');
    return target;
  };
  const noLink = (): string => {
    throw Object.assign(new Error('EINVAL: invalid argument, readlink'), { code: 'EINVAL' });
  };

  it('is the zone /etc/localtime links to, without TZ', () => {
    expect(systemTimeZone({}, linkedTo('/usr/share/zoneinfo/Europe/Berlin'))).toBe('Europe/Berlin');
    expect(systemTimeZone({}, linkedTo('../usr/share/zoneinfo/America/Argentina/Buenos_Aires'))).toBe('America/Argentina/Buenos_Aires');
    expect(systemTimeZone({}, linkedTo('/usr/share/zoneinfo/posix/Asia/Kolkata'))).toBe('Asia/Kolkata');
    expect(systemTimeZone({}, linkedTo('/usr/share/zoneinfo/right/Etc/GMT+5'))).toBe('Etc/GMT+5');
    expect(systemTimeZone({}, linkedTo('/var/db/timezone/tz/2025b.1.0/zoneinfo/America/New_York'))).toBe('America/New_York');
  });

  it('spells the names of UTC as Intl does', () => {
    for (const name of ['Etc/UTC', 'UTC', 'Etc/UCT', 'Etc/Universal', 'Zulu', 'Etc/GMT', 'GMT', 'Etc/GMT0', 'Etc/GMT-0', 'Etc/Greenwich']) {
      expect(systemTimeZone({}, linkedTo(`/usr/share/zoneinfo/${name}`)), name).toBe('UTC');
    }
  });

  it("is Intl's zone when TZ is set, /etc/localtime is no link, or its target is not in a zoneinfo folder", () => {
    const unread = (): string => {
      throw new Error('the link is not read when TZ is set');
    };
    expect(systemTimeZone({ TZ: 'Asia/Tokyo' }, unread)).toBe(intlZone);
    expect(systemTimeZone({ TZ: '' }, unread)).toBe(intlZone);
    expect(systemTimeZone({}, noLink)).toBe(intlZone);
    expect(systemTimeZone({}, linkedTo('/etc/timezones/berlin'))).toBe(intlZone);
    expect(systemTimeZone({}, linkedTo('/usr/share/zoneinfo/'))).toBe(intlZone);
  });

  it("on this machine: a zone Intl knows, with the same local days as Intl's own", () => {
    const zone = systemTimeZone();
    expect(isValidTimeZone(zone)).toBe(true);
    for (let ms = Date.UTC(2026, 0, 1); ms < Date.UTC(2027, 0, 1); ms += 3_600_000 * 7) {
      expect(localDay(new Date(ms), zone)).toBe(localDay(new Date(ms), intlZone));
    }
  });

  it("in the system's zone, read from its link, the days Date gives are Intl's (every day of 2020–2030)", () => {
    // Run with /etc/localtime linked to Europe/Berlin, Asia/Amman, America/Santiago, Pacific/Apia,
    // Australia/Lord_Howe, America/St_Johns and Asia/Kolkata too (1990–2035), as well as UTC here.
    const zone = systemTimeZone();
    const failures: string[] = [];
    for (let day = '2020-01-01'; day < '2031-01-01'; day = nextDay(day)) {
      const start = startOfLocalDay(day, zone).getTime();
      if (start !== startOfLocalDayByIntl(day, zone).getTime()) failures.push(`${day} starts at ${new Date(start).toISOString()}`);
    }
    for (let ms = Date.UTC(2020, 0, 1); ms < Date.UTC(2031, 0, 1); ms += 5 * 3_600_000) {
      if (localDay(new Date(ms), zone) !== localDayByIntl(new Date(ms), zone)) failures.push(`${new Date(ms).toISOString()} is on ${localDay(new Date(ms), zone)}`);
    }
    expect(failures).toEqual([]);
  });

  it("a linked zone Intl does not know gives way to Intl's", () => {
    expect(usableTimeZone('Europe/Berlin')).toBe('Europe/Berlin');
    expect(usableTimeZone('Mars/Olympus_Mons')).toBe(intlZone);
  });
});

describe('startOfLocalDay is the first instant of the day, in every zone, every day of a year', () => {
  it('the instant is on that day and the millisecond before is on the day before (DST at midnight included)', () => {
    const zones = ['Europe/Berlin', 'America/New_York', 'America/Santiago', 'America/Havana', 'Asia/Beirut', 'Australia/Lord_Howe', 'Pacific/Chatham', 'Asia/Kathmandu', 'America/St_Johns', 'Pacific/Apia', 'UTC'];
    // Years with midnight twice (DST ending at 01:00 back to 00:00): Amman until 2022, Lisbon in 1976–81.
    const years: [string, number][] = [...zones.map((zone): [string, number] => [zone, 2026]), ['Asia/Amman', 2021], ['Europe/Lisbon', 1977]];
    const failures: string[] = [];
    for (const [zone, year] of years) {
      let day = `${year}-01-01`;
      let previous = `${year - 1}-12-31`;
      while (day < `${year + 1}-01-01`) {
        const start = startOfLocalDay(day, zone).getTime();
        const on = localDay(new Date(start), zone);
        const before = localDay(new Date(start - 1), zone);
        if (on !== day || before !== previous) failures.push(`${zone} ${day}: start ${new Date(start).toISOString()} is on ${on}, the ms before on ${before}`);
        previous = day;
        day = nextDay(day);
      }
    }
    expect(failures).toEqual([]);
  });
});

describe('isoToEpochMs', () => {
  it('reads every timestamp exactly as Date.parse does', () => {
    const samples = [
      '2026-11-20T10:00:00Z', '2026-11-20T10:00:00.1Z', '2026-11-20T10:00:00.12Z', '2026-11-20T10:00:00.123Z', '2026-11-20T10:00:00.1234567Z', '2026-11-20T10:00:00.999999999Z',
      '2024-02-29T23:59:59.999Z', '2026-02-29T10:00:00.000Z', '2026-04-31T00:00:00Z', '2026-11-20T24:00:00Z', '2026-11-20T10:00:00.Z', '2026-13-01T00:00:00Z',
      '2026-11-20T10:60:00Z', '2026-11-20T10:00:60Z', '2026-11-20T10:00:00+01:00', '2026-11-20', 'not a date', '', '1970-01-01T00:00:00.000Z', '0999-01-01T00:00:00Z',
      '2026-1a-20T10:00:00Z', '2026-11-20t10:00:00Z', '2026-11-20T10:00:00.000z',
      // Years 0–99 (which Date.UTC reads as 1900–1999), leap days of century years, the last day of months.
      '0050-01-01T00:00:00Z', '0000-02-01T12:00:00.5Z', '0000-02-29T00:00:00Z', '0099-12-28T23:59:59.999Z', '1900-02-29T00:00:00Z', '2000-02-29T00:00:00Z',
      '2026-01-31T10:00:00Z', '2026-04-30T10:00:00Z', '2026-06-31T10:00:00Z', '9999-12-31T23:59:59.999Z', '2026-11-20T10:00:00.12aZ',
    ];
    for (const iso of samples) expect(isoToEpochMs(iso), iso).toBe(Date.parse(iso));
    const fraction = fc.oneof(fc.constant(''), fc.stringMatching(/^\.\d{1,9}$/));
    fc.assert(fc.property(fc.date({ min: new Date('0000-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59Z'), noInvalidDate: true }), fraction, (date, digits) => {
      const iso = `${date.toISOString().slice(0, 19)}${digits}Z`;
      return isoToEpochMs(iso) === Date.parse(iso);
    }), { numRuns: 2000 });
  });
});
