import { type Stats, statSync } from 'node:fs';

/** A file as `stat` saw it: its size, mtime and inode, what tells a file with nothing new (or replaced). */
export interface FileIdentity {
  size: number;
  mtimeMs: number;
  ino: number;
}

export function identityFromStats(info: Stats): FileIdentity {
  return { size: info.size, mtimeMs: info.mtimeMs, ino: info.ino };
}

/** The file's identity now, or undefined when it cannot be stat'ed (gone, unreadable). */
export function identityOf(path: string): FileIdentity | undefined {
  try {
    return identityFromStats(statSync(path));
  } catch {
    return undefined;
  }
}

/** Whether two identities are of the same file unchanged: same size, mtime and inode. */
export function sameIdentity(a: FileIdentity, b: FileIdentity): boolean {
  return a.size === b.size && a.mtimeMs === b.mtimeMs && a.ino === b.ino;
}

/** A set of files' paths and identities as their number and a digest of them (see FilesDigest). */
export interface FilesStamp {
  count: number;
  digest: string;
}

/**
 * An order-free digest of a set of files' paths and identities, kept up to date file by file: the
 * sum, in two 32-bit lanes, of a hash of each file's path, size, mtime and inode. Adding or taking
 * out a file costs the hash of that file alone, so a scanner that keeps one pays nothing per save
 * for the files that did not change (a sorted SHA-1 of every file took 33–49 ms at 25,000 files).
 * It tells files that changed from files that did not, by chance only with odds of 2^-64; it is no
 * defence against files made to collide, which nothing here needs.
 */
export class FilesDigest {
  private count = 0;
  private low = 0;
  private high = 0;

  static of(files: Iterable<readonly [string, FileIdentity]>): FilesDigest {
    const digest = new FilesDigest();
    for (const [path, identity] of files) digest.add(path, identity);
    return digest;
  }

  add(path: string, identity: FileIdentity): void {
    this.combine(path, identity, 1);
  }

  remove(path: string, identity: FileIdentity): void {
    this.combine(path, identity, -1);
  }

  get stamp(): FilesStamp {
    return { count: this.count, digest: hex32(this.low) + hex32(this.high) };
  }

  private combine(path: string, f: FileIdentity, sign: 1 | -1): void {
    const text = `${path}\u0000${f.size}\u0000${f.mtimeMs}\u0000${f.ino}`;
    let a = 0x811c9dc5;
    let b = 0x3c6ef372;
    for (let i = 0; i < text.length; i += 1) {
      const c = text.charCodeAt(i);
      a = Math.imul(a ^ c, 0x01000193);
      b = Math.imul(b ^ c, 0x5bd1e995);
      b ^= b >>> 13;
    }
    this.count += sign;
    this.low = (this.low + sign * finalMix(a)) >>> 0;
    this.high = (this.high + sign * finalMix(b ^ text.length)) >>> 0;
  }
}

/** MurmurHash3's finalizer: every input bit reaches every output bit. */
function finalMix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

const hex32 = (n: number): string => n.toString(16).padStart(8, '0');
