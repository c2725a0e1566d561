import { readFileSync } from 'node:fs';

/**
 * A small file's text, undefined when there is none (no such file, or a part of its path is a file,
 * as a workspace's `.codex` can be); any other failure is thrown (as a rejection). How the budget's
 * configuration files are read, by the CLI and by the extension, and how a printed output's check
 * reads it again to compare.
 *
 * Read synchronously: at the extension host's start its thread pool is busy with the editor's own
 * reads, and an asynchronous read of a budget file waited 50–100 ms there, holding back the status
 * bar's first figures; and node:fs/promises would add eleven of Node's own modules to a CLI run that
 * prints from a cache.
 */
export async function readIfPresent(path: string): Promise<string | undefined> {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw err;
  }
}
