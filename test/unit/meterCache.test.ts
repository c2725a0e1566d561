import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type CacheKey } from '../../src/core/cacheStamp.js';
import { FilesDigest, type FilesStamp, identityOf } from '../../src/core/fileIdentity.js';
import { MemoryLogger, silentLogger } from '../../src/core/logger.js';
import { METER_CACHE_FILE, METER_CACHE_MAX_BYTES, METER_CACHE_VERSION, type MeterCache, meterCacheOf, MeterCacheStore, meterFromCache, type MeterSummary, meterSummaryOf } from '../../src/core/meterCache.js';
import { collectCells, summaryFromCells } from '../../src/core/reports.js';
import { startOfLocalDay } from '../../src/core/timeZones.js';
import { LastSessionMeter } from '../../src/extension/lastSessionMeter.js';
import { CountingPricer, randomLedger } from './helpers/randomLedger.js';
import { TempHome } from './helpers/tempHome.js';

/** Costs summed in another order agree once rounded, but for their last bits: compared apart, to a billionth of a dollar. */
function expectSameMeter(actual: MeterSummary | undefined, expected: MeterSummary): void {
  expect(actual).toBeDefined();
  expect({ ...actual!, costUsd: undefined }).toEqual({ ...expected, costUsd: undefined });
  if (expected.costUsd === undefined) expect(actual!.costUsd).toBeUndefined();
  else expect(Math.abs(actual!.costUsd! - expected.costUsd)).toBeLessThanOrEqual(1e-9);
}

describe('meterFromCache', () => {
  for (const timeZone of ['UTC', 'Europe/Berlin', 'Asia/Kolkata', 'America/New_York']) {
    it(`gives, for periods of whole local days in ${timeZone}, the figures summed from the ledger for the period`, () => {
      const pricer = new CountingPricer();
      for (const seed of [3, 17, 40]) {
        const ledger = randomLedger(seed, 6, 400);
        const cache = meterCacheOf(collectCells(ledger, { timeZone, pricer }), 7, 12);
        const day = (d: string): Date => startOfLocalDay(d, timeZone);
        const periods: [Date | undefined, Date | undefined][] = [
          [undefined, undefined],
          [day('2026-11-01'), day('2026-12-01')],
          [day('2026-11-13'), day('2026-11-14')],
          [day('2026-11-09'), day('2026-11-16')],
          [day('2026-11-20'), undefined],
          [undefined, day('2026-11-05')],
          [day('2026-12-01'), day('2027-01-01')],
        ];
        for (const [since, until] of periods) {
          const expected = meterSummaryOf(summaryFromCells(collectCells(ledger, { since, until, timeZone, pricer })), 7, 12);
          expectSameMeter(meterFromCache(cache, since, until), expected);
        }
      }
    });
  }

  it('has no figures for a period that does not start and end at local midnights (a budget reset at another time)', () => {
    const cache = meterCacheOf(collectCells(randomLedger(5, 3, 50), { timeZone: 'UTC', pricer: new CountingPricer() }), 0, 3);
    expect(meterFromCache(cache, new Date('2026-11-10T09:15:00Z'), new Date('2026-12-01T00:00:00Z'))).toBeUndefined();
    expect(meterFromCache(cache, new Date('2026-11-10T00:00:00Z'), new Date('2026-11-11T00:00:01Z'))).toBeUndefined();
    // Midnight in UTC is not midnight in Kolkata.
    const kolkata = meterCacheOf(collectCells(randomLedger(5, 3, 50), { timeZone: 'Asia/Kolkata', pricer: new CountingPricer() }), 0, 3);
    expect(meterFromCache(kolkata, new Date('2026-11-10T00:00:00Z'), undefined)).toBeUndefined();
  });

  it('keeps the cost undefined while nothing in the period was priced', () => {
    const ledger = randomLedger(9, 2, 80);
    const cache = meterCacheOf(collectCells(ledger, { timeZone: 'UTC', pricer: { price: () => ({ usd: undefined, known: false }) } }), 0, 1);
    const meter = meterFromCache(cache, undefined, undefined)!;
    expect(meter.costUsd).toBeUndefined();
    expect(meter.unpricedTokens).toBe(meter.totalTokens);
  });
});

describe('MeterCacheStore', () => {
  let home: TempHome;
  let key: CacheKey;
  let store: MeterCacheStore;
  let cache: MeterCache;
  const statePath = (): string => home.path('state/scan-state.json');
  const fingerprints = (...paths: string[]): FilesStamp => FilesDigest.of(paths.map((p) => [p, identityOf(p)!] as const)).stamp;

  beforeEach(async () => {
    home = await TempHome.create();
    await home.write('state/scan-state.json', '{}');
    key = { build: 'build-1', timeZone: 'UTC', roots: [home.root] };
    store = new MeterCacheStore(home.path(`state/${METER_CACHE_FILE}`), statePath(), silentLogger);
    cache = meterCacheOf(collectCells(randomLedger(11, 4, 120), { timeZone: 'UTC', pricer: new CountingPricer() }), 2, 2);
  });
  afterEach(async () => home.dispose());

  async function savedOverTwoRollouts(): Promise<string[]> {
    const files = [await home.write('a', '{"type":"session_meta"}\n'), await home.write('b', '{"type":"session_meta"}\n')];
    store.save(key, fingerprints(...files), cache);
    return files;
  }

  it('reads back what it wrote, for the same key, checked or not', async () => {
    await savedOverTwoRollouts();
    expect(store.read(key)).toEqual(cache);
    expect(await store.lookup(key)).toEqual({ hit: true, cache });
  });

  it('is not shown for another build, time zone or roots, nor when it is missing, corrupt or of another version', async () => {
    expect(store.read(key)).toBeUndefined();
    expect(await store.lookup(key)).toEqual({ hit: false, reason: 'there is none yet' });
    await savedOverTwoRollouts();
    expect(store.read({ ...key, build: 'build-2' })).toBeUndefined();
    expect(await store.lookup({ ...key, build: 'build-2' })).toEqual({ hit: false, reason: 'it was written by another build' });
    expect(store.read({ ...key, timeZone: 'Europe/Paris' })).toBeUndefined();
    expect(store.read({ ...key, roots: [home.root, home.path('more')] })).toBeUndefined();
    const text = readFileSync(store.path, 'utf8');
    writeFileSync(store.path, text.replace(`"version":${METER_CACHE_VERSION}`, '"version":0'));
    expect(await store.lookup(key)).toMatchObject({ hit: false, reason: expect.stringMatching(/is of another version/) });
    writeFileSync(store.path, text.slice(0, 40));
    expect(store.read(key)).toBeUndefined();
    expect(await store.lookup(key)).toMatchObject({ hit: false, reason: expect.stringMatching(/is not valid JSON/) });
    // A day with a count that is not a number.
    writeFileSync(store.path, text.replace(/("days":\["\d{4}-\d\d-\d\d",\d+,)\d+/, '$1"x"'));
    expect(await store.lookup(key)).toMatchObject({ hit: false, reason: expect.stringMatching(/does not have the expected shape \(day 0\)/) });
  });

  it('is shown but not current once a rollout grew, one came, or the state was saved again', async () => {
    const [a] = await savedOverTwoRollouts();
    appendFileSync(a!, '{"type":"event_msg"}\n');
    expect(store.read(key)).toEqual(cache);
    expect(await store.lookup(key)).toEqual({ hit: false, reason: 'a rollout file changed' });

    await savedOverTwoRollouts();
    await home.write('c', '{"type":"session_meta"}\n');
    expect(await store.lookup(key)).toEqual({ hit: false, reason: '1 rollout file(s) came or went' });

    await savedOverTwoRollouts();
    writeFileSync(statePath(), '{"saved":"again"}');
    expect(await store.lookup(key)).toEqual({ hit: false, reason: 'the scan state changed since' });
  });

  it('is not read by the host when it is far larger than a meter cache can be, and says so', async () => {
    await savedOverTwoRollouts();
    writeFileSync(store.path, ' '.repeat(METER_CACHE_MAX_BYTES + 1));
    const logger = new MemoryLogger();
    expect(new MeterCacheStore(store.path, statePath(), logger).read(key)).toBeUndefined();
    expect(logger.messages).toContainEqual({ level: 'warn', message: expect.stringMatching(/^No meter cache to show: .*meter-cache\.json holds 4194305 bytes, more than such a cache ever does/) });
  });

  it('is not written without a scan state to stamp it with', async () => {
    const files = [await home.write('a', '{"type":"session_meta"}\n')];
    const without = new MeterCacheStore(home.path(`state/${METER_CACHE_FILE}`), home.path('state/none.json'), silentLogger);
    without.save(key, fingerprints(...files), cache);
    expect(without.read(key)).toBeUndefined();
  });
});

describe('LastSessionMeter (the host)', () => {
  let home: TempHome;
  const key: () => CacheKey = () => ({ build: 'build-1', timeZone: 'UTC', roots: [home.root] });
  beforeEach(async () => {
    home = await TempHome.create();
  });
  afterEach(async () => home.dispose());

  async function storeWithCache(): Promise<{ store: MeterCacheStore; cache: MeterCache }> {
    await home.write('state/scan-state.json', '{}');
    const store = new MeterCacheStore(home.path(`state/${METER_CACHE_FILE}`), home.path('state/scan-state.json'), silentLogger);
    const cache = meterCacheOf(collectCells(randomLedger(21, 3, 60), { timeZone: 'UTC', pricer: new CountingPricer() }), 0, 0);
    store.save(key(), new FilesDigest().stamp, cache);
    return { store, cache };
  }

  it('shows the cache it read, unchecked, until the worker confirms the one it checked', async () => {
    const { store, cache } = await storeWithCache();
    const last = new LastSessionMeter(store);
    expect(last.summary({ start: undefined, end: undefined })).toBeUndefined();
    expect(last.load(key())).toBe(true);
    expect(last.state).toBe('unchecked');
    expect(last.summary({ start: undefined, end: undefined })).toEqual(meterFromCache(cache, undefined, undefined));
    const newer = { ...cache, badLines: 5 };
    last.confirm(newer);
    expect(last.state).toBe('checked');
    last.markStale(); // a late word cannot undo a check
    expect(last.state).toBe('checked');
    expect(last.summary({ start: undefined, end: undefined })?.badLines).toBe(5);
    // A read after the worker's confirmation does not replace what it checked.
    expect(last.load(key())).toBe(true);
    expect(last.summary({ start: undefined, end: undefined })?.badLines).toBe(5);
  });

  it('shows nothing once the settings changed, nor without a key or a cache', async () => {
    const { store } = await storeWithCache();
    const last = new LastSessionMeter(store);
    expect(last.load(key())).toBe(true);
    last.markStale();
    expect(last.state).toBe('stale');
    expect(last.summary({ start: undefined, end: undefined })).toBeDefined(); // still shown, as out of date
    last.forget();
    expect(last.state).toBe('unchecked');
    // What the worker says afterwards is of the cache of the settings before.
    last.confirm(store.read(key())!);
    last.markStale();
    expect(last.summary({ start: undefined, end: undefined })).toBeUndefined();
    expect(last.state).toBe('unchecked');
    expect(last.summary({ start: undefined, end: undefined })).toBeUndefined();
    expect(last.summary({ start: undefined, end: undefined })).toBeUndefined();
    expect(last.load(undefined)).toBe(false);
    expect(new LastSessionMeter(new MeterCacheStore(home.path('none.json'), home.path('state/scan-state.json'), silentLogger)).load(key())).toBe(false);
  });
});
