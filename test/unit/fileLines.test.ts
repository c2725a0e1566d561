import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fileLines } from '../../src/core/fileLines.js';

const dir = mkdtempSync(join(tmpdir(), 'codex-meter-lines-'));
function written(name: string, text: string | Buffer): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

async function linesOf(path: string, options: Parameters<typeof fileLines>[2] = {}, stopAt?: number) {
  const lines: [string, number][] = [];
  const end = await fileLines(path, (text, offset) => {
    lines.push([text, offset]);
    return lines.length !== stopAt;
  }, options);
  return { lines, end };
}

describe('fileLines', () => {
  // Lines shorter and longer than the chunk, a character of two, three and four bytes across a
  // chunk's edge, empty lines.
  const text = 'short\n' + 'é'.repeat(13) + '\n\n' + 'x'.repeat(40) + '€😀y\n' + 'a€\n';
  const path = written('lines.txt', text);
  const expected = text.split('\n').slice(0, -1);
  const offsets = expected.map((_, i) => Buffer.byteLength(expected.slice(0, i + 1).join('\n')) + 1);

  it('hands over every line with the offset past its newline, whatever the chunk size', async () => {
    for (const chunkBytes of [1, 2, 3, 7, 8, 64, 1 << 20]) {
      const { lines, end } = await linesOf(path, { chunkBytes });
      expect(lines.map(([t]) => t)).toEqual(expected);
      expect(lines.map(([, o]) => o)).toEqual(offsets);
      expect(end).toEqual({ handedBytes: Buffer.byteLength(text), trailingBytes: 0 });
    }
  });

  it('counts a last line without its newline, or hands it over when asked', async () => {
    const cut = written('cut.txt', `${text}partial €`);
    for (const chunkBytes of [3, 1 << 20]) {
      const kept = await linesOf(cut, { chunkBytes });
      expect(kept.lines.map(([t]) => t)).toEqual(expected);
      expect(kept.end).toEqual({ handedBytes: Buffer.byteLength(text), trailingBytes: Buffer.byteLength('partial €') });
      const handed = await linesOf(cut, { chunkBytes, unterminatedLast: true });
      expect(handed.lines.map(([t]) => t)).toEqual([...expected, 'partial €']);
      expect(handed.end).toEqual({ handedBytes: Buffer.byteLength(`${text}partial €`), trailingBytes: 0 });
    }
  });

  it('never takes what an earlier chunk left in its buffer for a line', async () => {
    // The second read gives one byte; the rest of the buffer still holds the first chunk, newline included.
    const short = written('short.txt', 'aaaaaaa\nb');
    expect((await linesOf(short, { chunkBytes: 8 })).lines).toEqual([['aaaaaaa', 8]]);
    expect((await linesOf(short, { chunkBytes: 8, unterminatedLast: true })).lines).toEqual([['aaaaaaa', 8], ['b', 9]]);
    const two = written('two.txt', 'aaaaaaa\nb\n');
    expect((await linesOf(two, { chunkBytes: 8 })).lines).toEqual([['aaaaaaa', 8], ['b', 10]]);
  });

  it('stops when told, saying where, and what is left', async () => {
    const { lines, end } = await linesOf(path, { chunkBytes: 4 }, 2);
    expect(lines.map(([t]) => t)).toEqual(expected.slice(0, 2));
    expect(end).toEqual({ handedBytes: offsets[1], trailingBytes: Buffer.byteLength(text) - offsets[1]! });
  });

  it('gives nothing for an empty file, and throws what the file system says', async () => {
    expect(await linesOf(written('empty.txt', ''), { unterminatedLast: true })).toEqual({ lines: [], end: { handedBytes: 0, trailingBytes: 0 } });
    await expect(fileLines(join(dir, 'missing.txt'), () => true)).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(fileLines(dir, () => true)).rejects.toMatchObject({ code: 'EISDIR' });
  });

  it('passes on what onLine throws', async () => {
    await expect(fileLines(path, () => { throw new Error('no'); })).rejects.toThrow('no');
  });
});
