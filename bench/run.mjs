// Speed and memory, measured side by side with baselines in one run (medians of several runs):
// cold scan of codex-meter vs `ccusage codex session --json --offline` vs `grep -c token_count`,
// warm restart with persisted state, append → updated ledger in a watching process, peak RSS, and
// growth with the home's size. Not part of `npm test`.
// usage: node bench/run.mjs [--sizes 0.25GB,1GB] [--runs 5] [--large] [--big-rollout] [--write docs/performance.md]
import { execFileSync, spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readdirSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { cpus, homedir, totalmem, tmpdir } from 'node:os';
import { performance } from 'node:perf_hooks';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import { generateHome, parseSize } from './generateHome.mjs';
import { usageRecordLine } from './usageRecordLine.mjs';

const repo = resolve(import.meta.dirname, '..');
const arg = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : fallback;
};
const runs = Number(arg('--runs', '5'));
const sizes = arg('--sizes', process.argv.includes('--large') ? '0.25GB,1GB,10GB' : '0.25GB,1GB').split(',');
const cache = process.env.CODEX_METER_CACHE ?? join(homedir(), '.cache', 'codex-token-meter');
const cli = join(repo, 'dist', 'cli.js');

function ensureBuilt() {
  execFileSync(process.execPath, [join(repo, 'esbuild.mjs'), '--production'], { cwd: repo, stdio: 'ignore' });
}

function ensureCcusage() {
  const dir = join(cache, 'ccusage');
  const bin = join(dir, 'node_modules', '.bin', 'ccusage');
  if (!existsSync(bin)) {
    mkdirSync(dir, { recursive: true });
    execFileSync('npm', ['install', '--prefix', dir, '--no-audit', '--no-fund', '--loglevel=error', 'ccusage@20.0.24'], { stdio: 'inherit' });
  }
  return bin;
}

/** Wall time as this process sees it (to the millisecond; /usr/bin/time's %e has 10 ms steps), and peak RSS from /usr/bin/time. */
function timed(command, args, env = {}) {
  const start = performance.now();
  const r = spawnSync('/usr/bin/time', ['-f', '%e %M', command, ...args], { env: { ...process.env, ...env }, maxBuffer: 1 << 30, encoding: 'utf8' });
  const seconds = (performance.now() - start) / 1000;
  if (r.status !== 0) throw new Error(`${command} ${args.slice(0, 8).join(' ')} failed: ${r.error?.message ?? r.stderr.slice(-500)}`);
  const kb = Number(r.stderr.trim().split('\n').pop().split(' ')[1]);
  return { seconds, rssMB: kb / 1024, stdout: r.stdout };
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

/** The median time of the runs, their peak RSS, the first run's output, and each run's time in order. */
function summary(results) {
  const times = results.map((r) => r.seconds);
  return { seconds: median(times), rssMB: Math.max(...results.map((r) => r.rssMB)), stdout: results[0].stdout, times };
}

function series(n, fn) {
  return summary(Array.from({ length: n }, fn));
}

/**
 * The commands run round by round, each once a round in turn, so that all are timed in the same
 * minutes: this machine's speed wanders by 5–10 % from one minute to the next, which, series after
 * series, went into the ratios between them. Each round starts one command further on (round r with
 * command r mod n, then on in order, round the list), so that no command always comes after the same
 * one: ccusage, always run right after the cold scan in one thread, took 0.99 s there against 0.68–0.70
 * s after itself or after grep (7 alternated runs, round 12).
 */
function interleaved(n, fns) {
  const results = fns.map(() => []);
  for (let round = 0; round < n; round += 1) {
    for (let i = 0; i < fns.length; i += 1) {
      const k = (round + i) % fns.length;
      results[k].push(fns[k]());
    }
  }
  return results.map(summary);
}

/** The median of the ratios of a's and b's runs of the same round (both from `interleaved`). */
const pairedRatio = (a, b) => median(a.times.map((t, i) => t / b.times[i]));

function rolloutFiles(dir) {
  const out = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...rolloutFiles(path));
    else if (entry.name.endsWith('.jsonl')) out.push(path);
  }
  return out;
}

async function main() {
  const caBundle = process.env.NODE_EXTRA_CA_CERTS || undefined;
  // Every home of this run is generated for the day it started: one that runs past midnight (UTC)
  // measures the homes it began with.
  const today = new Date().toISOString().slice(0, 10);
  ensureBuilt();
  const ccusage = ensureCcusage();
  const driverPath = join(tmpdir(), 'codex-meter-append-driver.mjs');
  await build({
    entryPoints: [join(repo, 'bench', 'appendDriver.ts')], bundle: true, platform: 'node', format: 'esm', target: 'node20', outfile: driverPath, logLevel: 'error',
    define: { __dirname: JSON.stringify(join(repo, 'dist')) }, // where the token table is
    banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url); const __filename = new URL(import.meta.url).pathname;" },
  });
  const paintPath = join(tmpdir(), 'codex-meter-panel-paint.cjs');
  await build({
    entryPoints: [join(repo, 'bench', 'panelPaint.ts')], bundle: true, platform: 'node', format: 'cjs', target: 'node20', outfile: paintPath, logLevel: 'error',
    external: ['playwright-core'], nodePaths: [join(repo, 'node_modules')], define: { __dirname: JSON.stringify(join(repo, 'test', 'e2e')) },
  });
  const codeServer = existsSync(join(cache, 'code-server-4.100.3', '.installed'));
  const rows = [];
  // The extension host's memory with the extension running on an empty Codex home: the baseline
  // the growth on each home is measured from.
  let hostBaseline;
  if (codeServer) {
    const empty = join(tmpdir(), 'codex-meter-bench-empty-home');
    mkdirSync(join(empty, 'sessions'), { recursive: true });
    const out = spawnSync(process.execPath, [paintPath, empty, '--memory-only'], { encoding: 'utf8', env: { ...process.env, NODE_PATH: join(repo, 'node_modules') }, timeout: 600_000 });
    hostBaseline = out.status === 0 ? JSON.parse(out.stdout.trim().split('\n').pop()) : undefined;
    if (!hostBaseline) console.error(`extension host baseline failed: ${out.stderr.slice(-400)}`);
  }
  for (const size of sizes) {
    const home = await generateHome({ size: parseSize(size), seed: 42, bigRollout: process.argv.includes('--big-rollout'), today });
    const files = rolloutFiles(join(home.dir, 'sessions'));
    const state = join(tmpdir(), `codex-meter-bench-state-${size}`);
    rmSync(state, { recursive: true, force: true });
    timed(process.execPath, [cli, 'threads', '--json', '--codex-home', home.dir, '--state', state]);
    // Once more, answered from the report cache, which keeps what it printed: the warm runs below
    // print it again (with --runs 1 the one warm run would otherwise be this one).
    timed(process.execPath, [cli, 'threads', '--json', '--codex-home', home.dir, '--state', state]);
    // The cold scans, the warm restart and the floor of any warm run (Node starting and exiting with
    // nothing to do), interleaved. -r over the folder: a 10 GB home's 25k paths are more than one
    // command line holds.
    // When this environment names NODE_EXTRA_CA_CERTS, every Node process reads and parses that
    // bundle as it starts (Node 20 does it before any script runs): the warm run, ccusage's launcher
    // and node -e 0 also run without it, as on a machine that does not set it.
    const withoutCa = { NODE_EXTRA_CA_CERTS: undefined };
    const bare = caBundle !== undefined;
    // Each run without the variable right after its run with it, so both follow runs of the same weight.
    const results = interleaved(runs, [
      () => timed('grep', ['-rc', 'token_count', join(home.dir, 'sessions')]),
      () => timed(process.execPath, [cli, 'threads', '--json', '--codex-home', home.dir]),
      () => timed(process.execPath, [cli, 'threads', '--json', '--codex-home', home.dir], { CODEX_METER_READER_THREADS: '0' }),
      () => timed(ccusage, ['codex', 'session', '--json', '--offline'], { CODEX_HOME: home.dir }),
      ...(bare ? [() => timed(ccusage, ['codex', 'session', '--json', '--offline'], { CODEX_HOME: home.dir, ...withoutCa })] : []),
      () => timed(process.execPath, [cli, 'threads', '--json', '--codex-home', home.dir, '--state', state]),
      ...(bare ? [() => timed(process.execPath, [cli, 'threads', '--json', '--codex-home', home.dir, '--state', state], withoutCa)] : []),
      () => timed(process.execPath, ['-e', '0']),
      ...(bare ? [() => timed(process.execPath, ['-e', '0'], withoutCa)] : []),
    ]);
    const [grep, ours, oneThread, theirs] = results.splice(0, 4);
    const theirsBare = bare ? results.shift() : undefined;
    const warm = results.shift();
    const warmBare = bare ? results.shift() : undefined;
    const nodeStart = results.shift();
    const nodeStartBare = bare ? results.shift() : undefined;
    // The warm run above prints again what the same command printed from the report cache (the first
    // warm run wrote it: printedOutputCache.ts); here the printed outputs are removed before each run,
    // so the report cache answers (what a run of another command line costs).
    const forgetPrinted = () => {
      for (const name of readdirSync(state)) if (name.startsWith('printed-output-')) rmSync(join(state, name), { force: true });
    };
    const warmReport = series(runs, () => {
      forgetPrinted();
      return timed(process.execPath, [cli, 'threads', '--json', '--codex-home', home.dir, '--state', state]);
    });
    // The same with the report cache (and the printed outputs) removed before each run: the scan state loaded and every file checked.
    const warmState = series(runs, () => {
      rmSync(join(state, 'report-cache.json'), { force: true });
      forgetPrinted();
      return timed(process.execPath, [cli, 'threads', '--json', '--codex-home', home.dir, '--state', state]);
    });
    // `budget`, as a shell prompt or a status line would run it: printed again (the report cache, written
    // again by the last run above, answers the first run, which keeps what it printed), from the report
    // cache (the printed outputs removed before each run), and from the state (the cache removed before each run).
    timed(process.execPath, [cli, 'budget', '--json', '--codex-home', home.dir, '--state', state]); // keeps what it printed
    const warmBudget = series(runs, () => timed(process.execPath, [cli, 'budget', '--json', '--codex-home', home.dir, '--state', state]));
    const budgetReport = series(runs, () => {
      forgetPrinted();
      return timed(process.execPath, [cli, 'budget', '--json', '--codex-home', home.dir, '--state', state]);
    });
    const budgetState = series(runs, () => {
      rmSync(join(state, 'report-cache.json'), { force: true });
      forgetPrinted();
      return timed(process.execPath, [cli, 'budget', '--json', '--codex-home', home.dir, '--state', state]);
    });
    // A run after a change: one usage record (a new response) appended to a rollout before each run, as
    // Codex writes while it works; the state is loaded, the record read, and the state saved (a journal entry).
    const target = files.find((f) => statSync(f).size > 100_000) ?? files[0];
    const originalSize = statSync(target).size;
    let afterAppend;
    try {
      afterAppend = series(runs, () => {
        appendFileSync(target, usageRecordLine(`bench-${performance.now()}`));
        return timed(process.execPath, [cli, 'threads', '--json', '--codex-home', home.dir, '--state', state]);
      });
    } finally {
      truncateSync(target, originalSize); // keep the cached home as generated
    }
    const ourTotal = JSON.parse(ours.stdout).threads.filter((t) => !t.estimated).reduce((n, t) => n + t.totalTokens, 0);
    const theirTotal = JSON.parse(theirs.stdout.slice(0, theirs.stdout.lastIndexOf('}') + 1)).totals.totalTokens;
    let append;
    try {
      append = JSON.parse(execFileSync(process.execPath, [driverPath, home.dir, target], { encoding: 'utf8' }).trim().split('\n').pop());
    } finally {
      truncateSync(target, originalSize); // keep the cached home as generated
    }
    let paint;
    if (codeServer) {
      const out = spawnSync(process.execPath, [paintPath, home.dir], { encoding: 'utf8', env: { ...process.env, NODE_PATH: join(repo, 'node_modules') }, timeout: 600_000 });
      paint = out.status === 0 ? JSON.parse(out.stdout.trim().split('\n').pop()) : undefined;
      if (!paint) console.error(`panel paint failed: ${out.stderr.slice(-400)}`);
    }
    rows.push({ size, bytes: home.bytes, paint, files: home.files, grep, ours, oneThread, theirs, warm, warmReport, warmState, warmBudget, budgetReport, budgetState, afterAppend, nodeStart, warmBare, theirsBare, nodeStartBare, append, ourTotal, theirTotal, expected: home.expected.totalTokens, stateBytes: statSync(join(state, 'scan-state.json')).size });
    console.log(`${size}: codex-meter ${ours.seconds.toFixed(3)}s / ${ours.rssMB.toFixed(0)} MB, ccusage ${theirs.seconds.toFixed(3)}s / ${theirs.rssMB.toFixed(0)} MB, grep -c ${grep.seconds.toFixed(3)}s, warm ${warm.seconds.toFixed(3)}s (from the report cache ${warmReport.seconds.toFixed(3)}s; state only ${warmState.seconds.toFixed(3)}s; budget ${warmBudget.seconds.toFixed(3)}s, from the report cache ${budgetReport.seconds.toFixed(3)}s, from the state ${budgetState.seconds.toFixed(3)}s; after an appended record ${afterAppend.seconds.toFixed(3)}s / ${afterAppend.rssMB.toFixed(0)} MB; node -e 0 ${nodeStart.seconds.toFixed(3)}s), append→ledger ${append.appendToLedgerMillis.toFixed(1)} ms (refresh ${append.refreshMillis.toFixed(1)} ms), then saved as a journal entry in ${append.saveJournalMillis.toFixed(1)} ms (${append.journalBytes} B) against ${append.saveWholeMillis.toFixed(0)} ms whole (${append.stateBytes} B), idle CPU ${append.idleCpuMillis.toFixed(1)} ms in 5 s; after a change, the meter ${append.figures.meterLiveMillis.toFixed(1)} ms (summed again ${append.figures.meterSummedMillis.toFixed(1)} ms), the panel ${append.figures.panelLiveMillis.toFixed(1)} ms (to the first thread ${append.figures.panelLiveFirstThreadMillis.toFixed(1)} ms; summed again ${append.figures.panelSummedMillis.toFixed(1)} ms)`);
  }
  const lines = [];
  lines.push(`Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}. Medians of ${runs} runs; page cache warm (the same files are read repeatedly). The cold scans, ccusage, grep, the warm restart and node -e 0 ran round by round, each once a round, and their ratios are the medians of each round's ratio.`, '');
  lines.push('| Home | Files | codex-meter cold (one thread) | ccusage cold | grep -c | ratio to ccusage (one thread): the median of the ratios of each round | warm restart: printed again (from the report cache; state only; after an appended record, its peak RSS; node -e 0) | warm ÷ ccusage | append → ledger (refresh work; CPU while idle 5 s after) | peak RSS codex-meter (one thread) / ccusage | state file | totals agree |');
  lines.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|');
  for (const r of rows) {
    lines.push(`| ${r.size} (${(r.bytes / 2 ** 20).toFixed(0)} MiB) | ${r.files} | ${r.ours.seconds.toFixed(2)} s (${r.oneThread.seconds.toFixed(2)} s) | ${r.theirs.seconds.toFixed(2)} s | ${r.grep.seconds.toFixed(2)} s | ${pairedRatio(r.ours, r.theirs).toFixed(2)}× (${pairedRatio(r.oneThread, r.theirs).toFixed(2)}×) | ${r.warm.seconds.toFixed(3)} s (${r.warmReport.seconds.toFixed(3)} s; ${r.warmState.seconds.toFixed(2)} s; ${r.afterAppend.seconds.toFixed(2)} s, ${r.afterAppend.rssMB.toFixed(0)} MiB; ${r.nodeStart.seconds.toFixed(3)} s) | ${(pairedRatio(r.warm, r.theirs) * 100).toFixed(0)} % | ${r.append.appendToLedgerMillis.toFixed(1)} ms (${r.append.refreshMillis.toFixed(1)} ms; ${r.append.idleCpuMillis.toFixed(1)} ms) | ${r.ours.rssMB.toFixed(0)} (${r.oneThread.rssMB.toFixed(0)}) / ${r.theirs.rssMB.toFixed(0)} MiB | ${(r.stateBytes / 2 ** 20).toFixed(1)} MiB | ${r.ourTotal === r.expected ? 'yes' : `no (${r.ourTotal} vs ${r.expected})`}${r.theirTotal === r.expected ? '' : `; ccusage ${r.theirTotal}`} |`);
  }
  if (caBundle !== undefined) {
    lines.push('', `This environment sets NODE_EXTRA_CA_CERTS (${caBundle}), which every Node process reads as it starts. The same round's runs without it:`, '', '| Home | warm restart: printed again | ccusage cold | node -e 0 | printed again ÷ ccusage | node -e 0 ÷ ccusage |', '|---|---:|---:|---:|---:|---:|');
    for (const r of rows) lines.push(`| ${r.size} | ${r.warmBare.seconds.toFixed(3)} s | ${r.theirsBare.seconds.toFixed(2)} s | ${r.nodeStartBare.seconds.toFixed(3)} s | ${(pairedRatio(r.warmBare, r.theirsBare) * 100).toFixed(0)} % | ${(pairedRatio(r.nodeStartBare, r.theirsBare) * 100).toFixed(1)} % |`);
  }
  lines.push('', '| Home | `budget --json --state`, nothing new: printed again | from the report cache (the printed outputs removed before each run) | from the state (the report cache and the printed outputs removed before each run) | printed again ÷ ccusage |', '|---|---:|---:|---:|---:|');
  for (const r of rows) lines.push(`| ${r.size} | ${r.warmBudget.seconds.toFixed(3)} s | ${r.budgetReport.seconds.toFixed(3)} s | ${r.budgetState.seconds.toFixed(3)} s | ${((r.warmBudget.seconds / r.theirs.seconds) * 100).toFixed(0)} % |`);
  lines.push('', '| Home | The watching process\'s save after the appended line: a journal entry (its size) | the whole state saved instead, same run (its size) |', '|---|---:|---:|');
  for (const r of rows) lines.push(`| ${r.size} | ${r.append.saveJournalMillis.toFixed(1)} ms (${(r.append.journalBytes / 1024).toFixed(1)} KiB) | ${r.append.saveWholeMillis.toFixed(0)} ms (${(r.append.stateBytes / 2 ** 20).toFixed(1)} MiB) |`);
  lines.push('', '| Home | After each change, the status bar\'s figures (an all-time budget): live cells | summed again from the whole ledger | the token panel\'s (All time): live cells, a response to a new thread (to the view\'s first thread) | summed again | cells |', '|---|---:|---:|---:|---:|---:|');
  for (const r of rows) {
    const f = r.append.figures;
    lines.push(`| ${r.size} | ${f.meterLiveMillis.toFixed(1)} ms | ${f.meterSummedMillis.toFixed(1)} ms | ${f.panelLiveMillis.toFixed(1)} ms (${f.panelLiveFirstThreadMillis.toFixed(1)} ms) | ${f.panelSummedMillis.toFixed(1)} ms | ${f.cells} |`);
  }
  if (rows.some((r) => r.paint)) {
    lines.push('', '| Home | Token panel: first paint after opening (threads shown) | switch to All time, until every thread is listed | extension host after the first scan: resident / peak (growth of the peak over an empty home) | the extension\'s warm restart: from activation until the meter shows the last session\'s figures / until they are checked (from the worker\'s start; of which the check of every rollout) / the first scan\'s own time (the state loaded; the rollouts were checked at the start) | activation (the extension\'s own log): first start / restart |', '|---|---:|---:|---:|---:|---:|');
    if (hostBaseline) lines.push(`| empty | — | — | ${hostBaseline.hostRssMiB} / ${hostBaseline.hostPeakMiB} MiB | — | — |`);
    for (const r of rows) {
      if (!r.paint) continue;
      const growth = hostBaseline ? ` (+${r.paint.hostPeakMiB - hostBaseline.hostPeakMiB} MiB)` : '';
      lines.push(`| ${r.size} | ${r.paint.openPaintMillis} ms (${r.paint.openThreads}) | ${r.paint.allTimeMillis} ms (${r.paint.allTimeThreads}) | ${r.paint.hostRssMiB} / ${r.paint.hostPeakMiB} MiB${growth} | ${r.paint.restartShownMillis} ms / ${r.paint.restartCheckedMillis} ms (${r.paint.restartCachedMillis} ms; ${r.paint.restartLookupMillis} ms) / ${r.paint.restartScanMillis} ms | ${r.paint.activationMillis} / ${r.paint.restartActivationMillis} ms |`);
    }
  }
  execFileSync('npx', ['--no-install', 'vsce', 'package', '--no-dependencies', '--no-rewrite-relative-links', '--out', join(tmpdir(), 'codex-meter-bench.vsix')], { cwd: repo, stdio: 'ignore' });
  const vsix = statSync(join(tmpdir(), 'codex-meter-bench.vsix')).size;
  lines.push('', `VSIX (\`vsce package\` of this build): ${(vsix / 2 ** 20).toFixed(2)} MiB (${vsix} bytes).`);
  const table = lines.join('\n');
  console.log(`\n${table}`);
  const out = arg('--write', undefined);
  if (out) writeFileSync(resolve(repo, out), table + '\n');
}

await main();
