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
