import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { MockModelServer } from './mockModelServer.js';

const run = promisify(execFile);

/** The cache of Codex CLI installs, outside the repository (machines start bare: install on demand). */
export function codexCacheDir(): string {
  return join(process.env.CODEX_METER_CACHE ?? join(homedir(), '.cache', 'codex-token-meter'), 'codex');
}

/** Installs `@openai/codex@version` into the cache when it is not there yet; returns the binary. */
export async function ensureCodex(version: string): Promise<string> {
  const prefix = join(codexCacheDir(), version);
  const bin = join(prefix, 'node_modules', '.bin', 'codex');
  if (existsSync(bin)) return bin;
  await mkdir(prefix, { recursive: true });
  await run('npm', ['install', '--prefix', prefix, '--no-audit', '--no-fund', '--loglevel=error', `@openai/codex@${version}`], { timeout: 600_000 });
  if (!existsSync(bin)) throw new Error(`npm installed @openai/codex@${version} but ${bin} is missing`);
  return bin;
}

export interface ScenarioRun {
  name: string;
  args: string[];
  exitCode: number | null;
  sessionId: string | undefined;
  output: string;
}

export interface CorpusResult {
  version: string;
  codexHome: string;
  runs: ScenarioRun[];
  server: MockModelServer;
}

/**
 * Drives one Codex version through the scenarios users hit: plain, tool call, model switch, resume,
 * fork, local compaction, parallel sessions, sub-agents (with and without fork_context), context
 * overflow, and remote compaction through the OpenAI provider. A version that lacks a command
 * (e.g. `exec fork`) just fails that run; the runs say which succeeded.
 */
export async function generateCorpus(version: string, root: string, seed: number): Promise<CorpusResult> {
  const codex = await ensureCodex(version);
  const codexHome = join(root, 'codex-home');
  const work = join(root, 'work');
  await mkdir(codexHome, { recursive: true });
  await mkdir(work, { recursive: true });
  const server = new MockModelServer({ seed, truthFile: join(root, 'truth.jsonl') });
  const port = await server.start();
  const baseUrl = `http://127.0.0.1:${port}/v1`;
  await writeFile(join(codexHome, 'config.toml'), [
    'model = "gpt-5.1-codex"',
    'model_provider = "mock"',
    '[model_providers.mock]',
    'name = "mock"',
    `base_url = "${baseUrl}"`,
    'wire_api = "responses"',
    'env_key = "MOCK_API_KEY"',
    '',
  ].join('\n'));
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    CODEX_HOME: codexHome,
    MOCK_API_KEY: 'offline',
    OPENAI_API_KEY: 'offline',
    CODEX_API_KEY: 'offline',
    RUST_LOG: 'error',
  };
  const runs: ScenarioRun[] = [];
  const exec = async (name: string, args: string[], extraEnv: NodeJS.ProcessEnv = {}): Promise<ScenarioRun> => {
    const result = await runCodex(codex, ['exec', '--skip-git-repo-check', '--dangerously-bypass-approvals-and-sandbox', ...args], work, { ...env, ...extraEnv });
    const record: ScenarioRun = { name, args, ...result };
    runs.push(record);
    return record;
  };
  const compact = ['-c', 'model_auto_compact_token_limit=4000'];
  const openai = ['-c', 'model_provider=openai', '-c', `openai_base_url="${baseUrl}"`, ...compact];
  const openaiEnv = { OPENAI_BASE_URL: baseUrl };
  try {
    await exec('plain', ['plain hello']);
    await exec('tool call', ['@tool please run a command']);
    const resumed = await exec('model switch', ['-m', 'gpt-5.1-codex-mini', 'first turn of a resumed thread']);
    if (resumed.sessionId) {
      await exec('resume', ['resume', resumed.sessionId, 'second turn after resume']);
      await exec('resume with tool', ['resume', resumed.sessionId, '@tool third turn after resume']);
      await exec('fork', ['fork', resumed.sessionId, 'a forked turn']);
    }
    const compacted = await exec('local compaction', [...compact, 'compaction thread turn one']);
    if (compacted.sessionId) {
      await exec('local compaction resume', [...compact, 'resume', compacted.sessionId, 'compaction thread turn two']);
      await exec('local compaction resume 2', [...compact, 'resume', compacted.sessionId, 'compaction thread turn three']);
    }
    await Promise.all([exec('parallel A', ['parallel A @tool']), exec('parallel B', ['parallel B'])]);
    await exec('sub-agent', ['@spawn delegate a task to a sub-agent']);
    const parent = await exec('fork_context parent', ['first turn before a forked sub-agent']);
    if (parent.sessionId) await exec('fork_context sub-agent', ['resume', parent.sessionId, '@forkspawn hand the work to a forked sub-agent']);
    const overflow = await exec('overflow before', ['a turn before an overflow']);
    if (overflow.sessionId) {
      await exec('overflow', ['resume', overflow.sessionId, '@overflow this one is too long']);
      await exec('overflow after', ['resume', overflow.sessionId, 'a turn after the overflow']);
    }
    const remote = await exec('remote compaction', [...openai, 'remote compaction thread, turn one'], openaiEnv);
    if (remote.sessionId) {
      await exec('remote compaction resume', [...openai, 'resume', remote.sessionId, 'remote compaction thread, turn two'], openaiEnv);
      await exec('remote compaction resume 2', [...openai, 'resume', remote.sessionId, 'remote compaction thread, turn three'], openaiEnv);
    }
  } finally {
    await server.stop();
  }
  await writeFile(join(root, 'runs.json'), JSON.stringify(runs.map(({ output, ...r }) => ({ ...r, outputTail: output.slice(-400) })), null, 2));
  return { version, codexHome, runs, server };
}

function runCodex(bin: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<{ exitCode: number | null; sessionId: string | undefined; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(bin, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (output += c.toString('utf8')));
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }, 120_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      const sessionId = /session id:\s*([0-9a-f-]{36})/i.exec(output)?.[1];
      resolve({ exitCode: code, sessionId, output });
    });
  });
}
