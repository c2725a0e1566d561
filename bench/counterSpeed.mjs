// Speed of the o200k token counter on a few MB of realistic text, in MB/s (UTF-8 bytes, 1 MB =
// 10^6), side by side: the plain RegExp split loop (O200kCounter.countByRegex), the counter's
// `count`, and gpt-tokenizer's countTokens (the oracle), with the counts checked to be equal.
// Medians of several runs; each method has its own counter (and so its own piece cache), warmed by
// one run that is not timed. Timed by the process's CPU time unless --wall. Needs the token table:
// node esbuild.mjs. Not part of `npm test`.
// usage: node bench/counterSpeed.mjs [--runs 7] [--only prose,code] [--wall] [--dump DIR (writes the texts)]
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { brotliDecompressSync } from 'node:zlib';
import { build } from 'esbuild';
import { countTokens } from 'gpt-tokenizer/encoding/o200k_base';

const repo = resolve(import.meta.dirname, '..');
const arg = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : fallback;
};
const runs = Number(arg('--runs', '7'));
/** Wall-clock time instead of the process's CPU time (which a busy machine disturbs less). */
const wall = process.argv.includes('--wall');
const only = arg('--only', '')
  .split(',')
  .filter((s) => s);

/** Loads src/core/o200kCounter.ts through esbuild (bundled in memory, imported from a data: URL). */
async function loadCounterClass() {
  const out = await build({ entryPoints: [join(repo, 'src/core/o200kCounter.ts')], bundle: true, format: 'esm', platform: 'node', write: false, logLevel: 'error' });
  const code = out.outputFiles[0].text;
  return (await import(`data:text/javascript;base64,${Buffer.from(code).toString('base64')}`)).O200kCounter;
}

function rng(seed) {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    return x / 4294967296;
  };
}

// bench/generateHome.mjs exports no text generator (its content is a lorem-ipsum filler), so the
// text here is generated: English-like prose in Markdown, JSON tool output, shell output, and code
// read from this repository's sources and TypeScript's lib/*.d.ts.
const WORDS = (
  'the of and to in is that it for was on are as with be at this have from or one had by word but not what all were we when your can said there ' +
  'use an each which she do how their if will up other about out many then them these so some her would make like him into time has look two more ' +
  'write go see number no way could people my than first water been call who oil its now find long down day did get come made may part file ' +
  'function value error token request response because however configuration repository directory implementation performance estimate counter ' +
  'session thread model output input cached reasoning budget ledger scanner worker extension terminal command process memory buffer stream'
).split(' ');
const CONTRACTIONS = ["don't", "it's", "we're", "they've", "I'm", "you'll", "he'd", "can't", "isn't", "that's", "WON'T", "I'LL"];

function prose(size, r) {
  const pick = (list) => list[Math.floor(r() * list.length)];
  const sentence = () => {
    const n = 4 + Math.floor(r() * 18);
    const words = [];
    for (let i = 0; i < n; i += 1) {
      const x = r();
      if (x < 0.04) words.push(pick(CONTRACTIONS));
      else if (x < 0.07) words.push(String(Math.floor(r() * 10 ** (1 + Math.floor(r() * 5)))));
      else if (x < 0.09) words.push(`\`${pick(WORDS)}${pick(['()', '.ts', 'Id', '_count', ''])}\``);
      else if (x < 0.11) words.push(pick(WORDS).toUpperCase());
      else words.push(pick(WORDS) + (r() < 0.08 ? ',' : ''));
    }
    words[0] = words[0][0].toUpperCase() + words[0].slice(1);
    return words.join(' ') + pick(['.', '.', '.', '?', '!', ':', '...']);
  };
  const parts = [];
  let length = 0;
  while (length < size) {
    const x = r();
    let block;
    if (x < 0.1) block = `## ${sentence()}\n\n`;
    else if (x < 0.3) block = Array.from({ length: 2 + Math.floor(r() * 4) }, () => `- ${sentence()}\n`).join('') + '\n';
    else block = Array.from({ length: 2 + Math.floor(r() * 6) }, sentence).join(' ') + '\n\n';
    parts.push(block);
    length += block.length;
  }
  return parts.join('');
}

function json(size, r) {
  const parts = [];
  let length = 0;
  const hex = (n) => Array.from({ length: n }, () => Math.floor(r() * 16).toString(16)).join('');
  while (length < size) {
    const o = {
      timestamp: new Date(1.7e12 + Math.floor(r() * 3e10)).toISOString(),
      type: 'response_item',
      payload: {
        type: 'function_call_output',
        call_id: `call_${hex(24)}`,
        output: JSON.stringify({ output: prose(200 + Math.floor(r() * 600), r), metadata: { exit_code: Math.floor(r() * 2), duration_seconds: Math.round(r() * 1000) / 100 } }),
      },
      usage: { input_tokens: Math.floor(r() * 90000), cached_input_tokens: Math.floor(r() * 50000), output_tokens: Math.floor(r() * 4000), id: `${hex(8)}-${hex(4)}-${hex(4)}-${hex(4)}-${hex(12)}` },
    };
    const line = `${JSON.stringify(o)}\n`;
    parts.push(line);
    length += line.length;
  }
  return parts.join('');
}

function shell(size, r) {
  const dirs = ['src', 'src/core', 'src/extension', 'test/unit', 'node_modules/typescript/lib', 'docs', 'bench', '/home/dev/.codex/sessions/2025/11/03'];
  const names = ['scanner.ts', 'ledger.ts', 'o200kCounter.ts', 'README.md', 'package.json', 'rollout-2025-11-03T10-22-31-0199.jsonl', 'lib.dom.d.ts'];
  const pick = (list) => list[Math.floor(r() * list.length)];
  const parts = [];
  let length = 0;
  while (length < size) {
    const x = r();
    let line;
    if (x < 0.3) line = `-rw-r--r--  1 dev  staff  ${String(Math.floor(r() * 1e6)).padStart(8)} Nov ${1 + Math.floor(r() * 28)} ${10 + Math.floor(r() * 13)}:${String(Math.floor(r() * 60)).padStart(2, '0')} ${pick(names)}`;
    else if (x < 0.6) line = `${pick(dirs)}/${pick(names)}:${1 + Math.floor(r() * 900)}:    const ${pick(WORDS)}Count = await ${pick(WORDS)}(${pick(WORDS)}, { limit: ${Math.floor(r() * 100)} });`;
    else if (x < 0.75) line = `commit ${Array.from({ length: 40 }, () => Math.floor(r() * 16).toString(16)).join('')}\nAuthor: Dev <dev@example.com>\n\n    ${prose(60, r).trim()}\n`;
    else if (x < 0.9) line = `${pick(dirs)}/${pick(names)}(${1 + Math.floor(r() * 900)},${1 + Math.floor(r() * 80)}): error TS2345: Argument of type 'string | undefined' is not assignable to parameter of type 'string'.`;
    else line = `$ ${pick(['npm test', 'git status', 'rg -n token src', 'ls -la', 'npx tsc --noEmit'])}\r\n\t${pick(WORDS)}\t${Math.floor(r() * 100)}%\t[${'#'.repeat(Math.floor(r() * 30))}${' '.repeat(4)}]`;
    parts.push(line, '\n');
    length += line.length + 1;
  }
  return parts.join('');
}

function code(size) {
  const files = [];
  const walk = (dir) => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (name.endsWith('.ts')) files.push(path);
    }
  };
  walk('/work/main/src');
  const lib = join(repo, 'node_modules/typescript/lib');
  for (const name of ['lib.es5.d.ts', 'lib.es2015.core.d.ts', 'typescript.d.ts', 'lib.dom.d.ts']) files.push(join(lib, name));
  let text = '';
  for (const path of files) {
    if (text.length >= size) break;
    text += readFileSync(path, 'utf8');
  }
  return text.slice(0, size);
}

/** Prose with some accented words, CJK and emoji: the fallback to the RegExp is taken now and then. */
function mixed(size, r) {
  const extra = ['café', 'naïve', 'Größe', 'Ångström', '漢字かなカナ', '中文文本測試，包含標點符號。', '👍🏽', '🚀', '—', '“quoted”', 'e\u0301'];
  return prose(size, r)
    .split(' ')
    .map((w) => (r() < 0.05 ? extra[Math.floor(r() * extra.length)] : w))
    .join(' ');
}

const r = rng(7);
const MB = 1_000_000;
const corpora = { prose: prose(1.5 * MB, r), code: code(1.5 * MB), json: json(1 * MB, r), shell: shell(1 * MB, r), mixed: mixed(0.5 * MB, r) };
corpora.all = Object.values(corpora).join('\n');
// As the scanner calls it: one item's text at a time, each a string of its own from JSON.parse
// (here `all` cut into strings of 2,000 chars; a slice would be a view into `all`).
corpora['all/2k'] = corpora.all.match(/[^]{1,2000}/g).map((chunk) => JSON.parse(JSON.stringify(chunk)));
if (arg('--dump', undefined)) {
  // For profiling: node --cpu-prof … on one of these files.
  mkdirSync(arg('--dump'), { recursive: true });
  for (const [name, text] of Object.entries(corpora)) if (typeof text === 'string') writeFileSync(join(arg('--dump'), `${name}.txt`), text);
}

const O200kCounter = await loadCounterClass();
const table = brotliDecompressSync(readFileSync(join(repo, 'dist', 'o200k_base.bin.br')));
const regexCounter = new O200kCounter(table);
const counter = new O200kCounter(table);
const methods = {
  'regex loop': (text) => regexCounter.countByRegex(text),
  count: (text) => counter.count(text),
  'gpt-tokenizer': (text) => countTokens(text, { disallowedSpecial: new Set() }),
};
/** A method over one text or a list of texts (the sum). */
const countAll = (f, texts) => {
  if (typeof texts === 'string') return f(texts);
  let total = 0;
  for (const text of texts) total += f(text);
  return total;
};

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const rows = [];
for (const [name, text] of Object.entries(corpora)) {
  if (only.length > 0 && !only.includes(name)) continue;
  const bytes = typeof text === 'string' ? Buffer.byteLength(text) : text.reduce((sum, t) => sum + Buffer.byteLength(t), 0);
  const counts = Object.fromEntries(Object.entries(methods).map(([m, f]) => [m, countAll(f, text)])); // also the warm-up
  if (new Set(Object.values(counts)).size !== 1) throw new Error(`${name}: the counts differ: ${JSON.stringify(counts)}`);
  const speeds = Object.fromEntries(Object.keys(methods).map((m) => [m, []]));
  for (let run = 0; run < runs; run += 1) {
    for (const [m, f] of Object.entries(methods)) {
      const t0 = process.hrtime.bigint();
      const c0 = process.cpuUsage();
      countAll(f, text);
      const c = process.cpuUsage(c0);
      const seconds = wall ? Number(process.hrtime.bigint() - t0) / 1e9 : (c.user + c.system) / 1e6;
      speeds[m].push(bytes / MB / seconds);
    }
  }
  const mbs = Object.fromEntries(Object.entries(speeds).map(([m, xs]) => [m, median(xs)]));
  rows.push({ name, mb: bytes / MB, tokens: counts.count, ...mbs, ratio: mbs.count / mbs['regex loop'] });
}

const fmt = (x) => x.toFixed(1).padStart(8);
console.log(`node ${process.version}, median of ${runs} runs, MB/s (10^6 UTF-8 bytes per ${wall ? 'wall-clock' : 'CPU'} second)`);
console.log(`${'text'.padEnd(8)}${'MB'.padStart(6)}${'tokens'.padStart(10)}${'regex loop'.padStart(12)}${'count'.padStart(9)}${'gpt-tok.'.padStart(10)}${'count/regex'.padStart(13)}`);
for (const row of rows) {
  console.log(`${row.name.padEnd(8)}${row.mb.toFixed(2).padStart(6)}${String(row.tokens).padStart(10)}${fmt(row['regex loop']).padStart(12)}${fmt(row.count).padStart(9)}${fmt(row['gpt-tokenizer']).padStart(10)}${`${row.ratio.toFixed(2)}×`.padStart(13)}`);
}
