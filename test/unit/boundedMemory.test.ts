import { closeSync, openSync, writeSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { envelope, resetClock, sessionMeta, tokenCount, turnContext } from './helpers/rolloutBuilder.js';
import { figures, TempHome } from './helpers/tempHome.js';

describe('a very large rollout', () => {
  let home: TempHome;
  let path: string;
  const LINE_MB = 16;
  const LINES = 30; // 480 MiB of content lines, each far larger than any usage line

  beforeAll(async () => {
    home = await TempHome.create();
    resetClock();
    path = await home.write('huge', '');
    const fd = openSync(path, 'a');
    writeSync(fd, `${sessionMeta('huge')}\n${turnContext('gpt-5.1-codex')}\n`);
    const content = Buffer.from(`${envelope('response_item', { type: 'function_call_output', call_id: 'c', output: 'z'.repeat(LINE_MB << 20) })}\n`);
    for (let i = 1; i <= LINES; i += 1) {
      writeSync(fd, content);
      writeSync(fd, `${tokenCount([1000 * i, 0, 10 * i, 0], [1000, 0, 10, 0])}\n`);
    }
    closeSync(fd);
  }, 60_000);
  afterAll(async () => home.dispose());

  it('is read in bounded memory: content lines are never held whole', async () => {
    const scanner = home.scanner();
    const before = process.memoryUsage();
    let peak = 0;
    const timer = setInterval(() => {
      const m = process.memoryUsage();
      peak = Math.max(peak, m.heapUsed + m.arrayBuffers - (before.heapUsed + before.arrayBuffers));
    }, 5);
    try {
      await scanner.refreshFile(path);
    } finally {
      clearInterval(timer);
    }
    expect(figures(scanner).huge!.total).toBe(LINES * 1010);
    // Holding even one content line would add 16 MiB; reading the file whole, 480 MiB.
    expect(peak).toBeLessThan(12 << 20);
  }, 60_000);
});
