import { readFileSync } from 'node:fs';

/**
 * A file's text, undefined when there is none; any other failure is thrown (as a rejection). How the
 * budget command reads its configuration, and how a printed output's check reads it again to
 * compare. Read synchronously (a few small files): node:fs/promises would add eleven of Node's own
 * modules to a run that prints from a cache.
 */
export async function readIfPresent(path: string): Promise<string | undefined> {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}
