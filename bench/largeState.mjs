#!/usr/bin/env node
// A scan state past V8's longest string (~512 MiB, 2^29 - 24 characters): what a home of ~60 GB of
// rollouts gives (~9 MB of state per GB; users report homes of 6–61 GB). Writes one with the state
// store, then loads it in a fresh process as the CLI and the worker do, and beside it, over the same
// file: `wc -l` (reading its bytes) and Node reading it as one string (how a state of one JSON text
// was read, and failed). Not part of `npm run bench`: it takes ~1 min and ~3 GiB of memory.
//   node bench/largeState.mjs [--increments 3000000] [--keep]
import { spawnSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const arg = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return i === -1 ? fallback : process.argv[i + 1];
};
const increments = Number(arg('--increments', '3000000'));

/** Wall time and peak RSS (/usr/bin/time) of a command, with its stdout. */
function timed(command, args) {
  const start = performance.now();
  const r = spawnSync('/usr/bin/time', ['-f', '%M', command, ...args], { encoding: 'utf8', maxBuffer: 1 << 26 });
  const seconds = (performance.now() - start) / 1000;
  const rssMB = Number(r.stderr.trim().split('\n').pop()) / 1024;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, seconds, rssMB };
}

const driver = join(tmpdir(), 'codex-meter-large-state-driver.mjs');
await build({ entryPoints: [join(repo, 'bench', 'largeStateDriver.ts')], bundle: true, platform: 'node', format: 'esm', target: 'node20', outfile: driver, logLevel: 'error' });
const dir = mkdtempSync(join(tmpdir(), 'codex-meter-large-state-'));
const path = join(dir, 'scan-state.json');
try {
  const made = timed(process.execPath, ['--max-old-space-size=8192', driver, 'make', path, String(increments)]);
  if (made.status !== 0) throw new Error(`making the state failed: ${made.stderr.slice(-500)}`);
  const facts = JSON.parse(made.stdout);
  const loaded = timed(process.execPath, ['--max-old-space-size=8192', driver, 'load', path]);
  if (loaded.status !== 0) throw new Error(`loading the state failed: ${loaded.stderr.slice(-800)}`);
  const load = JSON.parse(loaded.stdout);
  const wc = timed('wc', ['-l', path]);
  const whole = timed(process.execPath, ['-e', `require('node:fs').readFileSync(${JSON.stringify(path)}, 'utf8')`]);
  const wholeError = whole.status === 0 ? 'read' : (/Error: (.*)/.exec(whole.stderr)?.[1] ?? 'failed');
  console.log(`A state of ${facts.increments.toLocaleString('en')} increments, ${facts.threads.toLocaleString('en')} threads and rollout files: ${(facts.bytes / 2 ** 20).toFixed(0)} MiB (${facts.bytes > 0x1fffffe8 ? 'more' : 'fewer'} bytes than V8's longest string has characters), saved in ${(facts.saveMillis / 1000).toFixed(1)} s.`);
  console.log('');
  console.log('| Over the same file | wall time | peak RSS | result |');
  console.log('|---|---:|---:|---|');
  console.log(`| ScanStateStore.load (a fresh process) | ${loaded.seconds.toFixed(2)} s (the load itself ${(load.loadMillis / 1000).toFixed(2)} s) | ${loaded.rssMB.toFixed(0)} MiB (heap after ${load.heapMB.toFixed(0)} MiB) | ${load.increments === facts.increments && load.files === facts.threads ? `all ${load.increments.toLocaleString('en')} increments and ${load.files.toLocaleString('en')} file records` : `${load.increments} increments, ${load.files} files: WRONG`} |`);
  console.log(`| wc -l | ${wc.seconds.toFixed(2)} s | ${wc.rssMB.toFixed(0)} MiB | ${wc.stdout.trim().split(/\s+/)[0]} lines |`);
  console.log(`| node: readFileSync(path, 'utf8'), the file as one string | ${whole.seconds.toFixed(2)} s | ${whole.rssMB.toFixed(0)} MiB | ${wholeError} |`);
  if (load.increments !== facts.increments || load.files !== facts.threads) process.exitCode = 1;
} finally {
  if (!process.argv.includes('--keep')) rmSync(dir, { recursive: true, force: true });
  else console.log(`kept ${path}`);
}
