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

  it('is as earlier versions computed it (caches written by them stay current), whatever the separators and characters of the paths', () => {
    // The digests as the code of round 12 computed them: a change to the hash would leave every cache stale once.
    const files: [string, FileIdentity][] = [
      ['/h/sessions/2026/11/20/rollout-a.jsonl', { size: 1, mtimeMs: 1764629000123.457, ino: 5 }],
      ['/h/sessions/2026/11/20/rollout-b.jsonl', { size: 2 ** 33, mtimeMs: 1, ino: 2 ** 40 }],
      ['/h/sessions/2026/11/21/rollout-a.jsonl', { size: 0, mtimeMs: 0, ino: 0 }],
      ['C:\\Users\\dev\\.codex\\sessions\\2026\\11\\20\\rollout-c.jsonl', { size: 7, mtimeMs: 8.5, ino: 9 }],
      ['rollout-no-folder.jsonl', { size: 3, mtimeMs: 4, ino: 5 }],
      ['/h/archived_sessions/rollout-ü-€-😀.jsonl', { size: 10, mtimeMs: 11, ino: 12 }],
      ['/h/mixed/sub\\dir/rollout-d.jsonl', { size: 13, mtimeMs: 14, ino: 15 }],
    ];
    const each = ['ac2b355fb3542018', 'ee775e6d8185ca1c', '44fb00639173cc81', '9d955100fb4cf602', '0b1d79a826060106', '3103eead6e984396', '53138453a4f378d8'];
    expect(files.map((f) => FilesDigest.of([f]).stamp.digest)).toEqual(each);
    for (const order of [files, [...files].reverse(), [files[0]!, files[3]!, files[1]!, files[6]!, files[2]!, files[5]!, files[4]!]]) {
      expect(FilesDigest.of(order).stamp).toEqual({ count: 7, digest: '0c67d1d7fb2c6a2b' });
    }
    // Taken out in another order than added, files of the same folder and of others alike.
    const digest = FilesDigest.of(files);
    for (const f of [files[2]!, files[0]!, files[4]!, files[1]!]) digest.remove(...f);
    expect(digest.stamp).toEqual(FilesDigest.of([files[3]!, files[5]!, files[6]!]).stamp);
  });
});
