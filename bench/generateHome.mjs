// Writes a realistic Codex home of a given size for benchmarks: many threads over months, shapes of
// several Codex versions (0.44 snapshots with repeats and restarts, 0.130 compaction, 0.169 records
// with "ordinal"), a few legacy files without usage, sub-agents and forks; conversation content and
// tool output make up most bytes. Deterministic from a seed; reused when it already exists.
// usage: node bench/generateHome.mjs [--size 1GB] [--seed 1] [--out DIR] [--big-rollout]
import { createWriteStream, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function parseSize(text) {
  const m = /^([\d.]+)\s*(GB|MB|KB)?$/i.exec(text);
  if (!m) throw new Error(`not a size: ${text}`);
  const unit = { GB: 1024 ** 3, MB: 1024 ** 2, KB: 1024 }[(m[2] ?? 'MB').toUpperCase()];
  return Math.round(Number(m[1]) * unit);
}

function rng(seed) {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    return x / 4294967296;
  };
}

const uuid = (r) => {
  const h = () => Math.floor(r() * 65536).toString(16).padStart(4, '0');
  return `${h()}${h()}-${h()}-7${h().slice(1)}-8${h().slice(1)}-${h()}${h()}${h()}`;
};

function write(stream, text) {
  return stream.write(text) ? Promise.resolve() : new Promise((resolve) => stream.once('drain', resolve));
}

/** Generates the home; returns { dir, bytes, files, expected: { totalTokens, responses } }. */
export async function generateHome({ size, seed = 1, out, bigRollout = false, today = new Date().toISOString().slice(0, 10) }) {
  // Threads span the 240 days up to the day the home is generated for (YYYY-MM-DD, UTC; by default
  // today), so "this month" has real usage.
  const dir = out ?? join(tmpdir(), `codex-meter-bench-${size}-${seed}${bigRollout ? '-big' : ''}-${today}`);
  const manifest = join(dir, 'expected.json');
  if (existsSync(manifest)) return { dir, ...JSON.parse(readFileSync(manifest, 'utf8')) };
  rmSync(dir, { recursive: true, force: true });
  const r = rng(seed);
  let bytes = 0;
  let files = 0;
  let totalTokens = 0;
  let responses = 0;
  const start = Date.parse(`${today}T00:00:00Z`) - 239 * 86400000;
  const filler = 'lorem ipsum dolor sit amet consectetur adipiscing elit '.repeat(40000);
  const text = (n) => filler.slice(0, n);
  while (bytes < size) {
    const big = bigRollout && files === 0;
    const version = big ? '0.169' : ['0.44', '0.130', '0.169', '0.169', 'legacy'][Math.floor(r() * 5)];
    const when = new Date(start + Math.floor(r() * 240) * 86400000 + Math.floor(r() * 86400000));
    const day = when.toISOString().slice(0, 10).split('-');
    const id = uuid(r);
    const folder = join(dir, 'sessions', ...day);
    mkdirSync(folder, { recursive: true });
    const path = join(folder, `rollout-${when.toISOString().slice(0, 19).replace(/:/g, '-')}-${id}.jsonl`);
    const stream = createWriteStream(path);
    let t = when.getTime();
    let ordinal = 0;
    const ts = () => new Date((t += 1000 + Math.floor(r() * 20000))).toISOString();
    const line = async (type, payload) => {
      const o = version === '0.169' ? { timestamp: ts(), ordinal: ordinal++, type, payload } : { timestamp: ts(), type, payload };
      const s = `${JSON.stringify(o)}\n`;
      bytes += Buffer.byteLength(s);
      await write(stream, s);
    };
    const turns = big ? 4000 : 3 + Math.floor(r() * 25);
    if (version === 'legacy') {
      const s = `${JSON.stringify({ id, timestamp: when.toISOString(), instructions: text(2000) })}\n`;
      bytes += s.length;
      await write(stream, s);
      for (let i = 0; i < turns; i += 1) {
        const u = `${JSON.stringify({ type: 'message', role: 'user', content: [{ type: 'input_text', text: text(200 + Math.floor(r() * 2000)) }] })}\n`;
        const a = `${JSON.stringify({ type: 'message', role: 'assistant', content: [{ type: 'output_text', text: text(100 + Math.floor(r() * 1500)) }] })}\n`;
        bytes += u.length + a.length;
        await write(stream, u + a);
      }
    } else {
      const sub = r() < 0.15 ? { subagent: { thread_spawn: { parent_thread_id: uuid(r), depth: 1, agent_path: null, agent_nickname: 'Avicenna', agent_role: 'explorer' } } } : 'cli';
      await line('session_meta', { id, timestamp: when.toISOString(), cwd: `/home/dev/project-${Math.floor(r() * 12)}`, originator: r() < 0.5 ? 'codex_cli_rs' : 'codex_vscode', cli_version: `${version}.0`, source: sub, model_provider: 'openai', base_instructions: { text: text(8000) } });
      const total = [0, 0, 0, 0];
      for (let i = 0; i < turns; i += 1) {
        await line('turn_context', { turn_id: `${id}-${i}`, cwd: '/home/dev/project', model: r() < 0.8 ? 'gpt-5.1-codex' : 'gpt-5.1-codex-mini', approval_policy: 'on-request' });
        await line('response_item', { type: 'message', role: 'user', content: [{ type: 'input_text', text: text(100 + Math.floor(r() * 3000)) }] });
        const tools = Math.floor(r() * 4);
        for (let k = 0; k < tools; k += 1) {
          await line('response_item', { type: 'function_call', name: 'exec_command', arguments: JSON.stringify({ cmd: 'rg -n foo' }), call_id: `c${i}${k}` });
          await line('response_item', { type: 'function_call_output', call_id: `c${i}${k}`, output: text(500 + Math.floor(r() * (r() < 0.05 ? 400000 : 20000))) });
        }
        const input = 2000 + Math.floor(r() * 60000);
        const last = [input, Math.floor(input * r() * 0.9), 50 + Math.floor(r() * 3000), 0];
        last[3] = Math.floor(last[2] * r() * 0.6);
        const restart = version === '0.44' && i > 0 && r() < 0.1;
        for (let j = 0; j < 4; j += 1) total[j] = (restart ? 0 : total[j]) + last[j];
        const usage = (u) => ({ input_tokens: u[0], cached_input_tokens: u[1], output_tokens: u[2], reasoning_output_tokens: u[3], total_tokens: u[0] + u[2] });
        if (version === '0.169') await line('token_usage_record', { thread_id: id, turn_id: `${id}-${i}`, response_id: `resp_${id}_${i}`, usage: usage(last) });
        await line('event_msg', { type: 'token_count', info: { total_token_usage: usage(total), last_token_usage: usage(last), model_context_window: 272000 }, rate_limits: { primary: { used_percent: r() * 100, window_minutes: 300, resets_at: Math.floor(t / 1000) + 3600 }, secondary: null } });
        if (r() < 0.4) await line('event_msg', { type: 'token_count', info: { total_token_usage: usage(total), last_token_usage: usage(last), model_context_window: 272000 }, rate_limits: null });
        await line('response_item', { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: text(100 + Math.floor(r() * 2000)) }] });
        totalTokens += last[0] + last[2];
        responses += 1;
      }
    }
    await new Promise((resolve) => stream.end(resolve));
    files += 1;
  }
  const result = { bytes, files, expected: { totalTokens, responses } };
  writeFileSync(manifest, JSON.stringify(result));
  return { dir, ...result };
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop())) {
  const arg = (name, fallback) => {
    const i = process.argv.indexOf(name);
    return i >= 0 ? process.argv[i + 1] : fallback;
  };
  const result = await generateHome({ size: parseSize(arg('--size', '1GB')), seed: Number(arg('--seed', '1')), out: arg('--out', undefined), bigRollout: process.argv.includes('--big-rollout') });
  console.log(JSON.stringify(result));
}
