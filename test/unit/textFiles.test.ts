import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readIfPresent } from '../../src/core/textFiles.js';

describe('readIfPresent', () => {
  const dir = mkdtempSync(join(tmpdir(), 'codex-meter-text-'));
  writeFileSync(join(dir, 'config.toml'), '[token_budget]\ntotal_budget = 5\n');
  // A workspace whose `.codex` is a file: its config.toml is not there, as if there were no folder.
  writeFileSync(join(dir, '.codex'), 'not a folder');
  mkdirSync(join(dir, 'folder.toml'));

  it('gives a file\'s text, and undefined where there is none or a part of the path is a file', async () => {
    await expect(readIfPresent(join(dir, 'config.toml'))).resolves.toBe('[token_budget]\ntotal_budget = 5\n');
    await expect(readIfPresent(join(dir, 'missing.toml'))).resolves.toBeUndefined();
    await expect(readIfPresent(join(dir, '.codex', 'config.toml'))).resolves.toBeUndefined();
  });

  it('rejects on any other failure (a folder where the file should be)', async () => {
    await expect(readIfPresent(join(dir, 'folder.toml'))).rejects.toMatchObject({ code: 'EISDIR' });
  });
});
