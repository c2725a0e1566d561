import { appendFile, mkdir, readFile, rename, rm, symlink, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemoryLogger } from '../../src/core/logger.js';
import { readCompleteLines } from '../../src/core/lineReader.js';
import { ScanStateStore } from '../../src/core/stateStore.js';
import { envelope, file, resetClock, sessionMeta, tokenCount, turnContext, type Usage4 } from './helpers/rolloutBuilder.js';
import { expectBuckets, figures, sumUsage, TempHome } from './helpers/tempHome.js';

let home: TempHome;
beforeEach(async () => {
  home = await TempHome.create();
  resetClock();
});
afterEach(async () => home.dispose());

const a: Usage4 = [1000, 200, 50, 10];
const b: Usage4 = [3000, 2000, 70, 20];
const c: Usage4 = [500, 0, 30, 0];
const threeTurns = (id: string) => [sessionMeta(id), turnContext('m'), tokenCount(a, a), tokenCount(sumUsage(a, b), b), tokenCount(sumUsage(a, b, c), c)];

function total(u: Usage4): number {
  return expectBuckets(u).total;
}

describe('the reader', () => {
  it('holds back a half-written last line until its newline arrives', async () => {
    const lines = threeTurns('half');
    const text = file(...lines);
    const cut = text.length - 20;
    const path = await home.write('half', text.slice(0, cut));
    const scanner = home.scanner();
    await scanner.refreshFile(path);
    expect(figures(scanner).half!.total).toBe(total(sumUsage(a, b)));
    await appendFile(path, text.slice(cut));
    await scanner.refreshFile(path);
    expect(figures(scanner).half!.total).toBe(total(sumUsage(a, b, c)));
  });

  it('accepts CRLF, skips garbage and unknown line types with their line numbers, and survives invalid UTF-8', async () => {
    const lines = threeTurns('crlf');
    const garbage = Buffer.concat([
      Buffer.from(`${lines[0]}\r\n${lines[1]}\r\n{not json\r\n`),
      Buffer.from([0xff, 0xfe, 0x80, 0x0a]),
      Buffer.from(`${envelope('brand_new_line_type', { x: 1 })}\r\n${lines[2]}\r\n${envelope('event_msg', { type: 'token_count', info: { total_token_usage: 'lots' } })}\n${lines[3]}\r\n${lines[4]}\r\n`),
    ]);
    await home.write('crlf', garbage);
    const scanner = home.scanner();
    await scanner.scanAll();
    expect(figures(scanner).crlf!.total).toBe(total(sumUsage(a, b, c)));
    const problems = scanner.problems();
    expect(problems.map((p) => p.line)).toEqual([3, 4, 7]);
    expect(problems[0]!.reason).toMatch(/not valid JSON/);
    expect(problems[2]!.reason).toMatch(/token_count of an unexpected shape/);
    expect(scanner.counters().unknownLineTypes).toBe(1);
    expect(scanner.counters().badLines).toBe(3);
  });

  it('reads an empty file and a file of blank lines without complaint', async () => {
    await home.write('empty', '');
    await home.write('blank', '\n\n\r\n');
    const scanner = home.scanner();
    const summary = await scanner.scanAll();
    expect(summary.files).toBe(2);
    expect(scanner.problems()).toEqual([]);
    expect(scanner.ledger.incrementCount).toBe(0);
  });

  it('passes over a 20 MB content line without holding it, and counts what follows', async () => {
    const lines = threeTurns('long');
    const huge = envelope('response_item', { type: 'function_call_output', call_id: 'x', output: 'z'.repeat(20 << 20) });
    const path = await home.write('long', file(lines[0]!, lines[1]!, lines[2]!, huge, lines[3]!, lines[4]!));
    const seen: { disposition: string; textLength: number | undefined }[] = [];
    const scanner = home.scanner();
    await scanner.refreshFile(path);
    await readCompleteLines(path, { offset: 0, lineCount: 0 }, (prefix) => (prefix.includes('"response_item"') ? 'skip' : 'parse'), (line) => seen.push({ disposition: line.disposition, textLength: line.text?.length }));
    expect(seen[3]).toEqual({ disposition: 'skip', textLength: undefined });
    expect(figures(scanner).long!.total).toBe(total(sumUsage(a, b, c)));
  });

  it('gives the same figures whatever size the appended pieces are', async () => {
    const text = file(...threeTurns('pieces'));
    const path = await home.write('pieces', '');
    const scanner = home.scanner();
    for (let i = 0; i < text.length; i += 7) {
      await appendFile(path, text.slice(i, i + 7));
      await scanner.refreshFile(path);
    }
    expect(figures(scanner).pieces!.total).toBe(total(sumUsage(a, b, c)));
    expect(figures(scanner).pieces!.responses).toBe(3);
  });
});

describe('files that change under the scanner', () => {
  it('reads a truncated and rewritten file again from the start without double counting', async () => {
    const path = await home.write('rw', file(...threeTurns('rw')));
    const scanner = home.scanner();
    await scanner.scanAll();
    await truncate(path, 0);
    await writeFile(path, file(sessionMeta('rw'), turnContext('m'), tokenCount(a, a)));
    await scanner.scanAll();
    expect(figures(scanner).rw!.total).toBe(total(a));
  });

  it('notices a file rewritten in place with the same length but other content', async () => {
    const path = await home.write('same', file(...threeTurns('same')));
    const logger = new MemoryLogger();
    const scanner = home.scanner(undefined, logger);
    await scanner.scanAll();
    const original = await readFile(path, 'utf8');
    const changed = original.replaceAll('"input_tokens":1000', '"input_tokens":1001');
    expect(changed.length).toBe(original.length);
    await writeFile(path, `${changed}${file(tokenCount(sumUsage([1001, 200, 50, 10], b, c, c), c))}`);
    await scanner.scanAll();
    expect(logger.messages.some((m) => m.message.includes('replaced or rewritten'))).toBe(true);
    const fresh = home.scanner();
    await fresh.scanAll();
    expect(figures(scanner)).toEqual(figures(fresh));
    expect(figures(scanner).same!.uncachedInput).toBe(1001 - 200 + 1000 + 500 + 500);
  });

  it('replaces the figures of a file replaced by one with another thread id', async () => {
    const path = await home.write('swap', file(...threeTurns('first-id')));
    const scanner = home.scanner();
    await scanner.scanAll();
    await rm(path);
    await writeFile(path, file(sessionMeta('second-id'), turnContext('m'), tokenCount(c, c)));
    await scanner.scanAll();
    const f = figures(scanner);
    expect(f['first-id']).toBeUndefined();
    expect(f['second-id']!.total).toBe(total(c));
    expect(scanner.ledger.thread('first-id')).toBeUndefined();
  });

  it('takes a deleted file out, and counts a thread in sessions/ and archived_sessions/ once', async () => {
    const live = await home.write('arch', file(...threeTurns('arch')));
    await mkdir(home.path('archived_sessions'), { recursive: true });
    const archived = home.path('archived_sessions/rollout-2026-11-20T10-00-00-arch.jsonl');
    await writeFile(archived, await readFile(live));
    const scanner = home.scanner();
    await scanner.scanAll();
    expect(figures(scanner).arch!.total).toBe(total(sumUsage(a, b, c)));
    await rm(archived);
    await scanner.scanAll();
    expect(figures(scanner).arch!.total).toBe(total(sumUsage(a, b, c)));
    await rename(live, archived); // archiving is a rename
    await scanner.scanAll();
    expect(figures(scanner).arch!.total).toBe(total(sumUsage(a, b, c)));
    await rm(archived);
    await scanner.scanAll();
    expect(figures(scanner).arch).toBeUndefined();
  });

  it('picks up a folder that appears after the first scan, and survives missing roots', async () => {
    const scanner = home.scanner();
    expect((await scanner.scanAll()).files).toBe(0);
    await home.write('later', file(...threeTurns('later')));
    await scanner.scanAll();
    expect(figures(scanner).later!.total).toBe(total(sumUsage(a, b, c)));
  });

  it('keeps counting the other files when one cannot be read, and keeps what it reported before', async () => {
    await home.write('good', file(...threeTurns('good')));
    const blocked = await home.write('blocked', file(...threeTurns('blocked')));
    const logger = new MemoryLogger();
    const scanner = home.scanner(undefined, logger);
    await scanner.scanAll();
    // As root, chmod cannot deny a read; a symbolic link that points at itself fails for anyone (ELOOP).
    await rm(blocked);
    await symlink(blocked, blocked);
    const summary = await scanner.scanAll();
    expect(figures(scanner).good!.total).toBe(total(sumUsage(a, b, c)));
    expect(figures(scanner).blocked!.total).toBe(total(sumUsage(a, b, c)));
    expect([...scanner.unreadableFiles.keys()]).toEqual([blocked]);
    expect(scanner.unreadableFiles.get(blocked)).toMatch(/^ELOOP/);
    expect(summary.problems).toEqual([{ path: blocked, reason: expect.stringMatching(/^ELOOP/) }]);
    expect(logger.messages.filter((m) => m.level === 'warn' && m.message.includes(blocked))).toHaveLength(1);
  });
});

describe('persisted state', () => {
  it('lets a second scanner read only new bytes and reach the same figures', async () => {
    const lines = threeTurns('warm');
    const path = await home.write('warm', file(...lines.slice(0, 3)));
    const first = home.scanner();
    await first.scanAll();
    const store = new ScanStateStore(home.path('state/scan-state.json'), new MemoryLogger());
    await store.save(first.toState());
    await appendFile(path, file(...lines.slice(3)));
    const second = home.scanner(await store.load());
    const summary = await second.scanAll();
    expect(summary.bytesRead).toBe(Buffer.byteLength(file(...lines.slice(3))));
    expect(figures(second).warm!.total).toBe(total(sumUsage(a, b, c)));
    const again = await second.scanAll();
    expect(again.bytesRead).toBe(0);
    expect(figures(second)).toEqual(figures(home.scanner(JSON.parse(JSON.stringify(second.toState())))));
  });

  it('discards a corrupt, half-written or foreign-version state file with a warning', async () => {
    const path = home.path('state/scan-state.json');
    await mkdir(join(path, '..'), { recursive: true });
    const logger = new MemoryLogger();
    const store = new ScanStateStore(path, logger);
    for (const [text, words] of [['{"version":1,"files":{', 'corrupt'], ['{"version":99,"files":{},"ledger":{}}', 'version 99'], ['{"version":1,"files":[],"ledger":null}', 'shape'], ['', 'corrupt']] as const) {
      await writeFile(path, text);
      expect(await store.load()).toBeUndefined();
      expect(logger.messages.at(-1)!.message).toContain(words);
    }
    expect(await new ScanStateStore(home.path('nowhere.json'), logger).load()).toBeUndefined();
  });

  it('writes the state atomically (no temporary files left behind)', async () => {
    await home.write('atomic', file(...threeTurns('atomic')));
    const scanner = home.scanner();
    await scanner.scanAll();
    const store = new ScanStateStore(home.path('state/scan-state.json'), new MemoryLogger());
    await Promise.all([store.save(scanner.toState()), store.save(scanner.toState())]);
    const { readdir } = await import('node:fs/promises');
    expect(await readdir(home.path('state'))).toEqual(['scan-state.json']);
    expect((await store.load())!.version).toBe(1);
  });
});
