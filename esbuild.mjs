// Builds the bundles: the extension host (node/cjs, vscode external), its scan worker, the webview
// (browser/iife) and the CLI, and writes dist/o200k_base.bin.br, the token table the scan worker and
// the CLI read to estimate files without usage. Flags: --production (minify, no sourcemaps), --watch.
import * as esbuild from 'esbuild';
import { readFileSync } from 'node:fs';
import { chmod } from 'node:fs/promises';
import { writeTokenTable } from './scripts/tokenTable.mjs';

const production = process.argv.includes('--production');
const watch = process.argv.includes('--watch');

const common = {
  bundle: true,
  minify: production,
  sourcemap: production ? false : 'linked',
  logLevel: 'info',
  legalComments: 'none',
};

/**
 * The build identity of the CLI, the extension host and its scan worker, for their caches (src/core/cacheStamp.ts):
 * a cache written by another version of the code or of the price data is not used.
 */
const packageVersion = (path) => JSON.parse(readFileSync(path, 'utf8')).version;
const build = `codex-meter ${packageVersion('package.json')}; genai-prices ${packageVersion('node_modules/@pydantic/genai-prices/package.json')}`;

const nodeTarget = { ...common, platform: 'node', format: 'cjs', target: 'node20' };
/** For the bundles that read or write a cache: the build identity above, as CODEX_METER_BUILD. */
const withBuild = { define: { CODEX_METER_BUILD: JSON.stringify(build) } };

const builds = [
  { ...nodeTarget, entryPoints: { extension: 'src/extension/activate.ts' }, outdir: 'dist', external: ['vscode'], ...withBuild },
  // The scan worker is two bundles too: scanWorker.js checks the last session's meter cache, then
  // loads scanWorkerMain.js (the scanner, the state, the price data); the reader threads it starts
  // for a cold scan run scanReader.js (the reader and the tokenizer alone).
  { ...nodeTarget, entryPoints: { scanWorker: 'src/extension/scanWorkerEntry.ts' }, outdir: 'dist', external: ['vscode'], ...withBuild },
  { ...nodeTarget, entryPoints: { scanWorkerMain: 'src/extension/scanWorkerMainEntry.ts' }, outdir: 'dist', external: ['vscode'], ...withBuild },
  { ...nodeTarget, entryPoints: { scanReader: 'src/extension/readerEntry.ts' }, outdir: 'dist', external: ['vscode'] },
  // The CLI is three bundles: cli.js answers from the report cache when nothing is new, and loads
  // cliScan.js (the scanner, the state, the price data) otherwise; a cold scan's reader threads run
  // cliReader.js (the reader and the tokenizer alone).
  { ...nodeTarget, entryPoints: { cli: 'src/cli/bin.ts' }, outdir: 'dist', banner: { js: '#!/usr/bin/env node' }, ...withBuild },
  { ...nodeTarget, entryPoints: { cliScan: 'src/cli/scanEntry.ts' }, outdir: 'dist' },
  { ...nodeTarget, entryPoints: { cliReader: 'src/cli/readerEntry.ts' }, outdir: 'dist' },
  { ...common, platform: 'browser', format: 'iife', target: 'es2022', entryPoints: { panel: 'src/webview/main.ts' }, outdir: 'dist/webview' },
];

async function main() {
  writeTokenTable('dist/o200k_base.bin.br');
  const present = [];
  const { existsSync } = await import('node:fs');
  for (const b of builds) {
    const entries = Object.values(b.entryPoints);
    if (entries.every((e) => existsSync(e))) present.push(b);
    else console.warn(`esbuild: skipping ${entries.join(', ')} (not written yet)`);
  }
  if (watch) {
    const contexts = await Promise.all(present.map((b) => esbuild.context(b)));
    await Promise.all(contexts.map((c) => c.watch()));
    return;
  }
  await Promise.all(present.map((b) => esbuild.build(b)));
  await chmod('dist/cli.js', 0o755).catch(() => undefined);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
