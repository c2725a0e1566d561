// Work, not time: the instructions each program runs for a cold scan of the same generated home,
// counted by valgrind's callgrind over all the threads of the process. In one thread, the counts of
// one build agree within ~1–2 % from run to run, busy machine or not, where the wall times of
// run.mjs wander by ±5–10 % between minutes; two builds that differ by less than ~3 % are not told
// apart: when V8 optimizes a function shifts with how its threads interleave (0.15 G more
// instructions in the interpreter and baseline code of a 1 GB scan, between two builds that differ
// in no hot code). With a reader thread they wander far more: 12.9 and 14.4 G for the same build at
// 1 GB, two runs apart (how valgrind, which runs one thread at a time, interleaves the two decides
// how many files each reads, and so how much each one's V8 interprets and optimizes). Compare
// builds on the one-thread figures; take the reader-thread ones from several runs.
// Side by side in one run: codex-meter in one thread and with a reader thread, ccusage's native
// binary (the one its launcher starts), and `grep -c` over the same files. Instructions are not
// time: a thread that waits costs none, and the kernel's reads are not counted. Not part of
// `npm test`.
// usage: node bench/instructions.mjs [--size 0.25GB] [--cli dist/cli.js [--cli other/cli.js]]
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, homedir, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { generateHome, parseSize } from './generateHome.mjs';

const repo = resolve(import.meta.dirname, '..');
const size = valueOf('--size', '0.25GB');
const clis = valuesOf('--cli');
const cache = process.env.CODEX_METER_CACHE ?? join(homedir(), '.cache', 'codex-token-meter');

function valueOf(name, fallback) {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

function valuesOf(name) {
  return process.argv.flatMap((a, i) => (a === name && process.argv[i + 1] ? [process.argv[i + 1]] : []));
}

function requireValgrind() {
  try {
    return execFileSync('valgrind', ['--version'], { encoding: 'utf8' }).trim();
  } catch {
    console.error('bench/instructions.mjs needs valgrind (Debian: apt-get install valgrind).');
    process.exit(2);
  }
}

/** ccusage's native binary for this platform, installed by bench/run.mjs (its launcher only starts it). */
function ccusageBinary() {
  const bin = join(cache, 'ccusage', 'node_modules', '@ccusage', `ccusage-${process.platform}-${process.arch}`, 'bin', 'ccusage');
  return existsSync(bin) ? bin : undefined;
}

/** Runs `command` under callgrind; resolves to its instruction count. */
function instructions(label, command, args, env = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'codex-meter-callgrind-'));
  return new Promise((done, fail) => {
    const child = spawn('valgrind', ['--tool=callgrind', `--callgrind-out-file=${join(dir, 'out')}`, command, ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => {
      rmSync(dir, { recursive: true, force: true });
      const refs = /I\s+refs:\s+([\d,]+)/.exec(stderr);
      if (code !== 0 || !refs) fail(new Error(`${label} failed under valgrind (exit ${code}): ${stderr.slice(-600)}`));
      else done({ label, instructions: Number(refs[1].replaceAll(',', '')) });
    });
  });
}

/** Runs the jobs two at a time (callgrind runs a process on one core). */
async function twoAtATime(jobs) {
  const results = [];
  for (let i = 0; i < jobs.length; i += 2) results.push(...(await Promise.all(jobs.slice(i, i + 2).map((job) => job()))));
  return results;
}

async function main() {
  const valgrind = requireValgrind();
  if (clis.length === 0) {
    execFileSync(process.execPath, [join(repo, 'esbuild.mjs'), '--production'], { cwd: repo, stdio: 'ignore' });
    clis.push(join(repo, 'dist', 'cli.js'));
  }
  const home = await generateHome({ size: parseSize(size), seed: 42 });
  const sessions = join(home.dir, 'sessions');
  const jobs = [];
  for (const cli of clis) {
    const name = clis.length > 1 ? ` (${cli})` : '';
    const args = [cli, 'threads', '--json', '--codex-home', home.dir];
    jobs.push(() => instructions(`codex-meter, one thread${name}`, process.execPath, args, { CODEX_METER_READER_THREADS: '0' }));
    jobs.push(() => instructions(`codex-meter, one reader thread beside it${name}`, process.execPath, args, { CODEX_METER_READER_THREADS: '1' }));
  }
  const ccusage = ccusageBinary();
  if (ccusage) jobs.push(() => instructions('ccusage 20.0.24 (native binary)', ccusage, ['codex', 'session', '--json', '--offline'], { CODEX_HOME: home.dir }));
  else console.error('ccusage is not installed for this platform (bench/run.mjs installs it); left out.');
  jobs.push(() => instructions('grep -rc token_count', 'grep', ['-rc', 'token_count', sessions]));
  const results = await twoAtATime(jobs);
  const base = results.find((r) => r.label.startsWith('ccusage'));
  console.log(`\n${size} home (${home.dir}), ${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}, ${valgrind}\n`);
  console.log(`| Program | Instructions | ÷ ccusage |\n|---|---:|---:|`);
  for (const r of results) {
    console.log(`| ${r.label} | ${(r.instructions / 1e9).toFixed(3)} G | ${base ? `${(r.instructions / base.instructions).toFixed(2)}×` : '-'} |`);
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
