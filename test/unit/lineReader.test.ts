import { appendFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type LineClassifier, MAX_PARSE_LINE_BYTES, PREFIX_BYTES, type ReadLine, readCompleteLines, readCompressedLines } from '../../src/core/lineReader.js';
import { zstdStored } from './helpers/rolloutBuilder.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'codex-meter-reader-'));
});
afterEach(async () => rm(dir, { recursive: true, force: true }));

const parseAll: LineClassifier = () => 'parse';

/** A line as handed over, with its bytes decoded during the call (they may be a view of the reader's buffer). */
type TextLine = Omit<ReadLine, 'bytes'> & { text?: string };
function withText(line: ReadLine): TextLine {
  const { bytes, ...rest } = line;
  return bytes ? { ...rest, text: bytes.toString('utf8') } : rest;
}
const START = { offset: 0, lineCount: 0 };

async function readAll(path: string, classify: LineClassifier = parseAll, from = START) {
  const lines: TextLine[] = [];
  const result = await readCompleteLines(path, from, classify, (l) => lines.push(withText(l)));
  return { lines, result };
}

describe('readCompleteLines', () => {
  it('hands over complete LF lines with their numbers and byte offsets', async () => {
    const path = join(dir, 'a.jsonl');
    await writeFile(path, 'one\ntwo\n\nfour\n');
    const { lines, result } = await readAll(path);
    expect(lines.map((l) => [l.lineNumber, l.offset, l.text])).toEqual([[1, 0, 'one'], [2, 4, 'two'], [3, 8, ''], [4, 9, 'four']]);
    expect(result).toEqual({ offset: 14, lineCount: 4, pendingBytes: 0, size: 14 });
  });

  it('holds a half-written last line back until its newline arrives, then hands it over whole', async () => {
    const path = join(dir, 'half.jsonl');
    await writeFile(path, '{"a":1}\n{"b":');
    const first = await readAll(path);
    expect(first.lines.map((l) => l.text)).toEqual(['{"a":1}']);
    expect(first.result).toEqual({ offset: 8, lineCount: 1, pendingBytes: 5, size: 13 });

    await appendFile(path, '2}');
    const stillHalf = await readAll(path, parseAll, first.result);
    expect(stillHalf.lines).toEqual([]);
    expect(stillHalf.result).toMatchObject({ offset: 8, lineCount: 1, pendingBytes: 7 });

    await appendFile(path, '\n');
    const second = await readAll(path, parseAll, stillHalf.result);
    expect(second.lines.map((l) => [l.lineNumber, l.offset, l.text])).toEqual([[2, 8, '{"b":2}']]);
    expect(second.result).toEqual({ offset: 16, lineCount: 2, pendingBytes: 0, size: 16 });
  });

  it('strips CR from CRLF lines, in the text and in the prefix the classifier sees', async () => {
    const path = join(dir, 'crlf.jsonl');
    await writeFile(path, '{"x":1}\r\n{"y":2}\r\n');
    const prefixes: string[] = [];
    const { lines } = await readAll(path, (p) => (prefixes.push(p), 'parse'));
    expect(lines.map((l) => l.text)).toEqual(['{"x":1}', '{"y":2}']);
    expect(prefixes).toEqual(['{"x":1}', '{"y":2}']);
  });

  it('decodes invalid UTF-8 to replacement characters instead of failing', async () => {
    const path = join(dir, 'bad-utf8.jsonl');
    await writeFile(path, Buffer.concat([Buffer.from('{"t":"a'), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from('b"}\nnext\n')]));
    const { lines } = await readAll(path);
    expect(lines).toHaveLength(2);
    expect(lines[0]!.text).toBe('{"t":"a\ufffd\ufffd\ufffdb"}');
    expect(JSON.parse(lines[0]!.text!)).toEqual({ t: 'a\ufffd\ufffd\ufffdb' });
    expect(lines[1]!.text).toBe('next');
  });

  it('reads an empty file as no lines', async () => {
    const path = join(dir, 'empty.jsonl');
    await writeFile(path, '');
    const { lines, result } = await readAll(path);
    expect(lines).toEqual([]);
    expect(result).toEqual({ offset: 0, lineCount: 0, pendingBytes: 0, size: 0 });
  });

  it('gives the classifier only the first PREFIX_BYTES bytes, and never decodes skip or count lines', async () => {
    const path = join(dir, 'prefix.jsonl');
    const long = `S${'s'.repeat(5000)}`;
    const counted = `C${'c'.repeat(700)}`;
    await writeFile(path, `${long}\n${counted}\nP-short\n`);
    const prefixes: string[] = [];
    const { lines } = await readAll(path, (p) => {
      prefixes.push(p);
      return p.startsWith('S') ? 'skip' : p.startsWith('C') ? 'count' : 'parse';
    });
    expect(prefixes.map((p) => p.length)).toEqual([PREFIX_BYTES, PREFIX_BYTES, 7]);
    expect(lines.map((l) => [l.disposition, l.text])).toEqual([['skip', undefined], ['count', undefined], ['parse', 'P-short']]);
    expect(lines[0]!.prefix).toBe(long.slice(0, PREFIX_BYTES));
  });

  it('passes a 20 MB content line as skip without holding it, and reads the lines after it', async () => {
    const path = join(dir, 'huge.jsonl');
    const huge = `{"type":"response_item","payload":"${'z'.repeat(20 << 20)}"}`;
    await writeFile(path, `{"n":1}\n${huge}\n{"n":2}\n`);
    const { lines, result } = await readAll(path, (p) => (p.includes('response_item') ? 'skip' : 'parse'));
    expect(lines.map((l) => [l.lineNumber, l.disposition, l.text])).toEqual([[1, 'parse', '{"n":1}'], [2, 'skip', undefined], [3, 'parse', '{"n":2}']]);
    expect(lines[2]!.offset).toBe(8 + huge.length + 1);
    expect(result.offset).toBe(result.size);
  });

  it('turns a parse line longer than MAX_PARSE_LINE_BYTES into an oversized count line', async () => {
    const path = join(dir, 'oversized.jsonl');
    await writeFile(path, `{"p":"${'x'.repeat(MAX_PARSE_LINE_BYTES + 10)}"}\n{"n":2}\n`);
    const { lines } = await readAll(path);
    expect(lines[0]).toMatchObject({ lineNumber: 1, disposition: 'count', oversized: true });
    expect(lines[0]!.text).toBeUndefined();
    expect(lines[1]).toMatchObject({ lineNumber: 2, disposition: 'parse', text: '{"n":2}' });
  });

  it('keeps a parse line whole when it straddles the 1 MiB read chunks', async () => {
    const path = join(dir, 'straddle.jsonl');
    const first = `{"pad":"${'p'.repeat((1 << 20) - 100)}"}`;
    const second = `{"v":"${'v'.repeat(3000)}"}`;
    await writeFile(path, `${first}\n${second}\n`);
    const { lines } = await readAll(path, (p) => (p.includes('pad') ? 'skip' : 'parse'));
    expect(lines[1]!.text).toBe(second);
    expect(lines[1]!.offset).toBe(first.length + 1);
  });

  it('continues line numbers from the position it starts at', async () => {
    const path = join(dir, 'from.jsonl');
    await writeFile(path, 'a\nbb\nccc\n');
    const { lines, result } = await readAll(path, parseAll, { offset: 5, lineCount: 2 });
    expect(lines.map((l) => [l.lineNumber, l.offset, l.text])).toEqual([[3, 5, 'ccc']]);
    expect(result).toMatchObject({ offset: 9, lineCount: 3 });
  });

  it('fails with ENOENT for a missing file', async () => {
    await expect(readAll(join(dir, 'nope.jsonl'))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

describe('readCompressedLines (.jsonl.zst)', () => {
  it('streams the decompressed lines, across block boundaries, and reports the compressed size', async () => {
    const path = join(dir, 'r.jsonl.zst');
    const text = Array.from({ length: 5000 }, (_, i) => `{"i":${i},"pad":"${'q'.repeat(40)}"}`).join('\n') + '\n';
    const compressed = zstdStored(Buffer.from(text));
    await writeFile(path, compressed);
    const lines: TextLine[] = [];
    const result = await readCompressedLines(path, parseAll, (l) => lines.push(withText(l)));
    expect(lines).toHaveLength(5000);
    expect(JSON.parse(lines[4321]!.text!)).toMatchObject({ i: 4321 });
    expect(lines[4321]!.lineNumber).toBe(4322);
    expect(result).toEqual({ offset: compressed.length, lineCount: 5000, pendingBytes: 0, size: compressed.length });
  });
});
