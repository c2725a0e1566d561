import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

const repo = resolve(__dirname, '..', '..');

beforeAll(() => {
  if (!existsSync(join(repo, 'dist', 'cli.js')) || !existsSync(join(repo, 'dist', 'cliScan.js')) || !existsSync(join(repo, 'dist', 'cliReader.js')) || !existsSync(join(repo, 'dist', 'scanReader.js')) || !existsSync(join(repo, 'dist', 'webview', 'panel.js'))) {
    execFileSync(process.execPath, [join(repo, 'esbuild.mjs')], { cwd: repo, stdio: 'ignore' });
  }
});

describe('what ships', () => {
  it('the VSIX holds the extension and nothing else (vsce accepts the manifest and .vscodeignore)', () => {
    const listed = execFileSync('npx', ['--no-install', 'vsce', 'ls', '--no-dependencies'], { cwd: repo, encoding: 'utf8' });
    expect(listed.trim().split('\n').sort()).toEqual([
      'LICENSE', 'README.md', 'dist/extension.js', 'dist/o200k_base.bin.br', 'dist/scanReader.js', 'dist/scanWorker.js', 'dist/scanWorkerMain.js', 'dist/webview/panel.js', 'media/icon.svg', 'media/panel.css', 'package.json',
    ]);
  }, 60_000);

  // Its size (under 1 MiB for the production build) is measured by the bench; here the build may be a development one.
  it('vsce packages it (it refuses a package.json "files" beside .vscodeignore)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'codex-meter-vsix-'));
    try {
      const vsix = join(dir, 'test.vsix');
      execFileSync('npx', ['--no-install', 'vsce', 'package', '--no-dependencies', '--no-rewrite-relative-links', '--out', vsix], { cwd: repo, stdio: 'pipe' });
      expect(statSync(vsix).size).toBeGreaterThan(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it('the npm package holds the CLI (its two bundles) and its token table', () => {
    const packed = JSON.parse(execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: repo, encoding: 'utf8' })) as { files: { path: string }[] }[];
    expect(packed[0]!.files.map((f) => f.path).sort()).toEqual(['LICENSE', 'README.md', 'dist/cli.js', 'dist/cliReader.js', 'dist/cliScan.js', 'dist/o200k_base.bin.br', 'package.json']);
  }, 60_000);
});
