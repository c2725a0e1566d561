import { describe, expect, it } from 'vitest';
import { type FileIdentity, FilesDigest } from '../../src/core/fileIdentity.js';

const base: FileIdentity = { size: 1_234_567, mtimeMs: 1_764_629_000_123.457, ino: 987_654 };

describe('FilesDigest', () => {
  it('tells apart files that differ in any of path, size, mtime or inode, down to a fraction of a millisecond and beyond 32 bits', () => {
    const variants: [string, FileIdentity][] = [
      ['/h/sessions/a.jsonl', base],
      ['/h/sessions/b.jsonl', base],
      ['/h/sessions/a.jsonl ', base],
      ['/h/sessions/a.jsonl', { ...base, size: base.size + 1 }],
      ['/h/sessions/a.jsonl', { ...base, size: base.size + 2 ** 32 }],
      ['/h/sessions/a.jsonl', { ...base, mtimeMs: base.mtimeMs + 0.001 }],
      ['/h/sessions/a.jsonl', { ...base, mtimeMs: Math.floor(base.mtimeMs) }],
      ['/h/sessions/a.jsonl', { ...base, ino: base.ino + 1 }],
      ['/h/sessions/a.jsonl', { ...base, ino: base.ino + 2 ** 40 }],
      ['/h/sessions/a.jsonl', { size: base.ino, mtimeMs: base.mtimeMs, ino: base.size }],
    ];
    const digests = variants.map(([path, identity]) => FilesDigest.of([[path, identity]]).stamp.digest);
    expect(new Set(digests).size).toBe(variants.length);
    for (const d of digests) expect(d).toMatch(/^[0-9a-f]{16}$/);
  });

  it('is of the set: the same in any order, and as it was once a file added is taken out again', () => {
    const files: [string, FileIdentity][] = Array.from({ length: 50 }, (_, i) => [`/h/sessions/2026/11/${i}.jsonl`, { size: i * 1000, mtimeMs: 1e12 + i / 3, ino: 100 + i }]);
    const forward = FilesDigest.of(files);
    const backward = FilesDigest.of([...files].reverse());
    expect(backward.stamp).toEqual(forward.stamp);
    expect(forward.stamp.count).toBe(50);
    const before = forward.stamp;
    forward.add('/h/late.jsonl', base);
    expect(forward.stamp.digest).not.toBe(before.digest);
    forward.remove('/h/late.jsonl', base);
    expect(forward.stamp).toEqual(before);
    expect(new FilesDigest().stamp).toEqual({ count: 0, digest: '0000000000000000' });
  });
});
