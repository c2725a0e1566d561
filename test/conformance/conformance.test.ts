import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { appendFile, copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileAccount, newFileAccountState } from '../../src/core/fileAccount.js';
import { decodeUsageLine, usageLineFromEnvelope } from '../../src/core/usageLines.js';
import { type CorpusResult, generateCorpus } from './codexScenarios.js';
import { type HandedOutUsage } from './mockModelServer.js';

const run = promisify(execFile);
const repo = resolve(__dirname, '..', '..');
const cli = join(repo, 'dist', 'cli.js');

/** Versions checked: the first with rollout envelopes and restarts, one with sub-agent replay, the newest. */
const VERSIONS = ['0.44.0', '0.130.0', '0.169.0'];

interface Figures {
  uncachedInputTokens: number;
  cachedInputTokens: number;
  outputTokens: number;
  reasoningOutputTokens: number;
  totalTokens: number;
}
const FIELDS: (keyof Figures)[] = ['uncachedInputTokens', 'cachedInputTokens', 'outputTokens', 'reasoningOutputTokens', 'totalTokens'];

function add(target: Figures, u: HandedOutUsage['usage']): void {
  const cached = u.input_tokens_details.cached_tokens;
  target.uncachedInputTokens += u.input_tokens - cached;
  target.cachedInputTokens += cached;
  target.outputTokens += u.output_tokens;
  target.reasoningOutputTokens += u.output_tokens_details.reasoning_tokens;
  target.totalTokens += u.input_tokens + u.output_tokens;
}

const zero = (): Figures => ({ uncachedInputTokens: 0, cachedInputTokens: 0, outputTokens: 0, reasoningOutputTokens: 0, totalTokens: 0 });

/**
 * Usage that no rollout file records, per the format notes: remote compaction through the older
 * `/responses/compact` endpoint. Everything else the server handed out must be counted exactly.
 */
function isUnrecordable(u: HandedOutUsage): boolean {
  return u.kind === 'remote_compaction';
}

interface ThreadsOutput {
  threads: (Figures & { threadId: string; estimated: boolean })[];
  warnings: unknown[];
  diagnostics: Record<string, number>;
}

async function threadsJson(args: string[]): Promise<ThreadsOutput> {
  const { stdout } = await run(process.execPath, [cli, 'threads', '--json', ...args], { maxBuffer: 64 << 20 });
  return JSON.parse(stdout) as ThreadsOutput;
}

/** The traps each version's files must have shown, so a passing comparison means they were met. */
const TRAPS_SEEN: Record<string, (d: Record<string, number>, unrecordable: number) => void> = {
  '0.44.0': (d) => {
    expect(d.totalsRestarts, 'totals restarting on resume').toBeGreaterThan(0);
    expect(d.repeatedSnapshots, 'repeated snapshots').toBeGreaterThan(0);
  },
  '0.130.0': (d, unrecordable) => {
    expect(d.replayedSnapshots, 'a fork_context sub-agent replaying its parent').toBeGreaterThan(0);
    expect(d.repeatedSnapshots, 'repeated snapshots').toBeGreaterThan(0);
    expect(d.compactions, 'compactions').toBeGreaterThan(0);
    expect(unrecordable, 'remote compactions through /responses/compact').toBeGreaterThan(0);
  },
  '0.169.0': (d) => {
    expect(d.usageRecords, 'token_usage_record lines').toBeGreaterThan(0);
    expect(d.sourceDisagreements, 'remote compactions found in records but not in totals').toBeGreaterThan(0);
    expect(d.compactions, 'compactions').toBeGreaterThan(0);
  },
};

function table(expected: Map<string, Figures>, got: Map<string, Figures>): string {
  const rows: string[] = [];
  for (const id of new Set([...expected.keys(), ...got.keys()])) {
    const want = expected.get(id) ?? zero();
    const have = got.get(id) ?? zero();
    const diff = FIELDS.filter((f) => want[f] !== have[f]).map((f) => `${f} want ${want[f]} got ${have[f]}`);
    rows.push(`${diff.length === 0 ? 'ok  ' : 'MISS'} ${id} ${diff.join('; ')}`);
  }
  return rows.join('\n');
}

beforeAll(async () => {
  if (!existsSync(cli)) await run(process.execPath, [join(repo, 'esbuild.mjs')], { cwd: repo });
}, 120_000);

describe.each(VERSIONS)('Codex %s against the mock model server', (version) => {
  let root: string;
  let corpus: CorpusResult;
  const expected = new Map<string, Figures>();
  const unrecordable: HandedOutUsage[] = [];

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), `codex-conformance-${version}-`));
    corpus = await generateCorpus(version, root, 7 + VERSIONS.indexOf(version));
    for (const u of corpus.server.handedOut) {
      if (isUnrecordable(u)) {
        unrecordable.push(u);
        continue;
      }
      const id = u.threadId ?? '(no thread id)';
      if (!expected.has(id)) expected.set(id, zero());
      add(expected.get(id)!, u.usage);
    }
  }, 900_000);

  afterAll(async () => {
    if (root && !process.env.KEEP_CONFORMANCE_HOMES) await rm(root, { recursive: true, force: true });
  });

  it('ran the basic scenarios against the real CLI', () => {
    const byName = new Map(corpus.runs.map((r) => [r.name, r]));
    for (const name of ['plain', 'tool call', 'model switch', 'resume', 'local compaction', 'parallel A', 'parallel B']) {
      const r = byName.get(name);
      expect(r, `scenario ${name}`).toBeDefined();
      expect(r!.exitCode, `scenario ${name} failed:\n${r!.output.slice(-800)}`).toBe(0);
    }
    expect(corpus.server.handedOut.length).toBeGreaterThanOrEqual(15);
    expect(corpus.server.handedOut.filter((u) => u.threadId === null), 'every request names its thread').toEqual([]);
  });

  it('counts exactly what the server handed out, per thread', async () => {
    const result = await threadsJson(['--codex-home', corpus.codexHome]);
    const got = new Map(result.threads.map((t) => [t.threadId, t] as const));
    const report = table(expected, got);
    for (const [id, want] of expected) {
      const have = got.get(id);
      expect(have, `thread ${id} missing\n${report}`).toBeDefined();
      for (const f of FIELDS) expect(have![f], `${id} ${f}\n${report}`).toBe(want[f]);
    }
    const extra = result.threads.filter((t) => !expected.has(t.threadId) && !t.estimated && t.totalTokens > 0);
    expect(extra.map((t) => t.threadId), `threads the server never served\n${report}`).toEqual([]);
    expect(result.warnings).toEqual([]);
    TRAPS_SEEN[version]!(result.diagnostics, unrecordable.length);
  });

  it('leaves out only usage that no file records (remote compaction via /responses/compact)', () => {
    // The exception is explicit: these are the only requests allowed to be missing, and they are
    // exactly the ones the server answered on the /responses/compact endpoint.
    for (const u of unrecordable) expect(u.kind).toBe('remote_compaction');
    if (version === '0.169.0') expect(unrecordable, 'Codex 0.169 compacts remotely through /responses, which its records count').toEqual([]);
  });

  it('classifies and decodes every usage line the real CLI writes from its bytes, to what JSON.parse and the schemas give', async () => {
    const seen = new Map<string, number>();
    for (const path of await listFiles(join(corpus.codexHome, 'sessions'))) {
      const account = new FileAccount(path, newFileAccountState(), () => 0);
      const bytes = await readFile(path);
      for (let start = 0, end = bytes.indexOf(10); end >= 0; start = end + 1, end = bytes.indexOf(10, start)) {
        const json = JSON.parse(bytes.toString('utf8', start, end)) as { type?: string; timestamp?: string; payload?: { type?: string } };
        const kind = json.type === 'event_msg' ? `event_msg/${json.payload?.type}` : String(json.type);
        seen.set(kind, (seen.get(kind) ?? 0) + 1);
        const quick = account.quickClassify(bytes, start, end);
        if (json.type === 'response_item' || json.type === 'world_state') expect(quick, kind).toBe('skip');
        const usage = json.type === 'turn_context' || json.type === 'token_usage_record' || kind === 'event_msg/token_count' || kind === 'event_msg/thread_settings_applied';
        if (!usage) continue;
        expect(quick, kind).toBe('parse');
        const decoded = decodeUsageLine(bytes.subarray(start, end));
        expect(decoded, `${kind} at ${path}:${start}`).toBeDefined();
        expect(decoded).toStrictEqual({ timestamp: json.timestamp, line: usageLineFromEnvelope(json.type!, json.payload) });
      }
    }
    expect(seen.get('event_msg/token_count') ?? 0).toBeGreaterThan(0);
    expect(seen.get('turn_context') ?? 0, `${version} writes turn_context`).toBeGreaterThan(0);
    if (version === '0.169.0') expect(seen.get('token_usage_record') ?? 0).toBeGreaterThan(0);
  });

  it('gives the same figures when run again with persisted state, and counts an archived copy once', async () => {
    const stateDir = join(root, 'state');
    const first = await threadsJson(['--codex-home', corpus.codexHome, '--state', stateDir]);
    const second = await threadsJson(['--codex-home', corpus.codexHome, '--state', stateDir]);
    expect(second.threads).toEqual(first.threads);
    const sessions = join(corpus.codexHome, 'sessions');
    const files = await listFiles(sessions);
    const archived = join(corpus.codexHome, 'archived_sessions');
    await mkdir(archived, { recursive: true });
    await copyFile(files[0]!, join(archived, files[0]!.split('/').pop()!));
    const withCopy = await threadsJson(['--codex-home', corpus.codexHome, '--state', stateDir]);
    const strip = (t: ThreadsOutput["threads"]) => t.map((row) => ({ ...row, firstSeen: undefined, lastSeen: undefined }));
    expect(strip(withCopy.threads)).toEqual(strip(first.threads));
    // Nothing new since: answered from the report cache the last run wrote (reportCache.ts), with the same figures.
    expect(existsSync(join(stateDir, 'report-cache.json'))).toBe(true);
    const cached = await run(process.execPath, [cli, 'threads', '--json', '--verbose', '--codex-home', corpus.codexHome, '--state', stateDir], { maxBuffer: 64 << 20 });
    expect(cached.stderr).toMatch(/the report comes from .*report-cache\.json/);
    expect((JSON.parse(cached.stdout) as ThreadsOutput).threads).toEqual(withCopy.threads);
  });

  it('counts the same when the rollouts grow between two runs with persisted state: the second goes on from the first one\'s cells', async () => {
    // Each of Codex's rollouts cut after about half its lines, in a home of its own; then the rest appended.
    const grown = join(root, 'grown-home');
    const rests: [string, string][] = [];
    for (const path of await listFiles(join(corpus.codexHome, 'sessions'))) {
      const lines = (await readFile(path, 'utf8')).split('\n');
      const cut = Math.ceil((lines.length - 1) / 2);
      const target = join(grown, relative(corpus.codexHome, path));
      await mkdir(dirname(target), { recursive: true });
      await writeFile(target, `${lines.slice(0, cut).join('\n')}\n`);
      rests.push([target, lines.slice(cut).join('\n')]);
    }
    const stateDir = join(root, 'grown-state');
    await threadsJson(['--codex-home', grown, '--state', stateDir]);
    for (const [target, rest] of rests) await appendFile(target, rest);
    const after = await run(process.execPath, [cli, 'threads', '--json', '--verbose', '--codex-home', grown, '--state', stateDir], { maxBuffer: 64 << 20 });
    expect(after.stderr).toMatch(/The cells of all time are the report cache's, with the [1-9]\d* increment\(s\) added since\./);
    // What a run without state gives for the same files (which the test above holds to what the server handed out).
    const whole = await threadsJson(['--codex-home', grown]);
    expect((JSON.parse(after.stdout) as ThreadsOutput).threads).toEqual(whole.threads);
    expect(whole.threads.length).toBeGreaterThanOrEqual(5);
  });
});

async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await listFiles(path)));
    else if (entry.name.endsWith('.jsonl')) out.push(path);
  }
  return out.sort();
}
