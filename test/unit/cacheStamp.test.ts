import { writeFile } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type RolloutFilesNow, rolloutFilesNow, stampOf, staleReason } from '../../src/core/cacheStamp.js';
import { silentLogger } from '../../src/core/logger.js';
import { file, sessionMeta, tokenCount, turnContext } from './helpers/rolloutBuilder.js';
import { TempHome } from './helpers/tempHome.js';

let home: TempHome;
beforeEach(async () => {
  home = await TempHome.create();
  await writeFile(home.path('scan-state.json'), '{}');
});
afterEach(async () => home.dispose());

const key = () => ({ build: 'b', timeZone: 'UTC', roots: [home.root] });

describe('the rollouts as they are now, against a stamp', () => {
  it('tells a rollout come or gone from the listing alone, without a stat of every file', async () => {
    const stamp = stampOf(key(), home.path('scan-state.json'), { count: 2, digest: '0123456789abcdef' })!;
    await home.write('t1', file(sessionMeta('t1'), turnContext('gpt-5.1-codex'), tokenCount([1, 0, 1, 0], [1, 0, 1, 0])));
    const filesNow: RolloutFilesNow = { count: vi.fn(async () => 1), stamp: vi.fn(async () => ({ count: 1, digest: 'x' })), seen: vi.fn(async () => undefined) };
    expect(await staleReason(stamp, key(), home.path('scan-state.json'), 'cache', silentLogger, filesNow)).toBe('1 rollout file(s) came or went');
    expect(filesNow.stamp).not.toHaveBeenCalled();
    // With the count the same, the digest decides.
    const sameCount = { ...stamp, files: [1, 'y'] as [number, string] };
    expect(await staleReason(sameCount, key(), home.path('scan-state.json'), 'cache', silentLogger, filesNow)).toBe('a rollout file changed');
    expect(filesNow.stamp).toHaveBeenCalledTimes(1);
  });

  it('lists and stats the rollouts once however often asked', async () => {
    await home.write('t1', file(sessionMeta('t1'), turnContext('gpt-5.1-codex'), tokenCount([1, 0, 1, 0], [1, 0, 1, 0])));
    const filesNow = rolloutFilesNow([home.root], silentLogger);
    const first = await filesNow.stamp();
    await home.write('t2', file(sessionMeta('t2'), turnContext('gpt-5.1-codex'), tokenCount([1, 0, 1, 0], [1, 0, 1, 0])));
    expect(await filesNow.count()).toBe(1);
    expect(await filesNow.stamp()).toEqual(first);
    expect(await rolloutFilesNow([home.root], silentLogger).count()).toBe(2);
    const current = stampOf(key(), home.path('scan-state.json'), (await rolloutFilesNow([home.root], silentLogger).stamp()) as { count: number; digest: string })!;
    expect(await staleReason(current, key(), home.path('scan-state.json'), 'cache', silentLogger)).toBeUndefined();
  });
});
