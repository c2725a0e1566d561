import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CodeServerSession, E2eSandbox } from './harness.js';

/** Rollout lines in the 0.169 shape, built here so the test owns its fixture. */
let clock = Date.now() - 3_600_000;
const ts = () => new Date((clock += 10)).toISOString();
const line = (type: string, payload: unknown) => `${JSON.stringify({ timestamp: ts(), type, payload })}\n`;
const usage = (input: number, output: number) => ({ input_tokens: input, cached_input_tokens: 0, cache_write_input_tokens: 0, output_tokens: output, reasoning_output_tokens: 0, total_tokens: input + output });

const THREADS = 60;
/** Each thread: two responses of 50,000 + 10,000 tokens, recorded and snapshotted. */
function rollout(id: string): string {
  let text = line('session_meta', { id, timestamp: ts(), cwd: '/work/project', originator: 'codex_cli_rs', cli_version: '0.169.0', source: 'cli', model_provider: 'openai' })
    + line('turn_context', { turn_id: `${id}-t1`, cwd: '/work/project', model: 'gpt-5.1-codex' });
  for (let n = 1; n <= 2; n += 1) {
    text += line('token_usage_record', { thread_id: id, turn_id: `${id}-t1`, response_id: `resp_${id}_${n}`, usage: usage(50_000, 10_000) })
      + line('event_msg', { type: 'token_count', info: { total_token_usage: usage(50_000 * n, 10_000 * n), last_token_usage: usage(50_000, 10_000), model_context_window: 258400 }, rate_limits: null })
      + line('response_item', { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'x'.repeat(20_000) }] });
  }
  return text;
}

/**
 * A first start over a home of many files: the scan worker shares them with reader threads (started
 * from the shipped dist/scanWorker.js inside VS Code's extension host), and every token counts once.
 */
describe('a cold first scan of many rollouts in a real VS Code', () => {
  let sandbox: E2eSandbox;
  let session: CodeServerSession;

  beforeAll(async () => {
    sandbox = await E2eSandbox.create('codex-meter-e2e-cold-');
    const day = new Date().toISOString().slice(0, 10).split('-');
    const dir = join(sandbox.codexHome, 'sessions', day[0]!, day[1]!, day[2]!);
    await mkdir(dir, { recursive: true });
    for (let i = 0; i < THREADS; i += 1) {
      const id = `cold-${String(i).padStart(3, '0')}`;
      await writeFile(join(dir, `rollout-2026-11-24T10-00-00-${id}.jsonl`), rollout(id));
    }
    await writeFile(join(sandbox.codexHome, 'config.toml'), '[token_budget]\ntotal_budget = 10_000_000\nperiod = "all"\n');
    session = sandbox.session({ env: { CODEX_METER_READER_THREADS: '2' } });
    await session.start();
  }, 180_000);

  afterAll(async () => sandbox?.dispose(), 60_000);

  it('reads them with reader threads and counts every response once', async () => {
    const item = session.statusBarItem('codexTokenMeter.status');
    await expect.poll(async () => item.innerText(), { timeout: 60_000 }).toMatch(/72%/);
    const text = await session.hoverTooltip(item);
    expect(text).toContain(`${(THREADS * 120_000).toLocaleString('en-US')} of 10,000,000 tokens`);
    const log = await session.extensionLog();
    expect(log).toContain(`Reading ${THREADS} files never read before with reader threads beside this one.`);
    expect(log).toMatch(new RegExp(`Scanned ${THREADS} rollout files`));
    expect(log).not.toMatch(/Could not start reader threads|reader thread stopped|\[error\]/);
  });
});
