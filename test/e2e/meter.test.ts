import { appendFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CodeServerSession, E2eSandbox } from './harness.js';

/** Rollout lines in the 0.169 shape (records and snapshots), built here so the test owns its fixture. */
let clock = Date.now() - 60_000;
const ts = () => new Date((clock += 10)).toISOString();
const line = (type: string, payload: unknown) => `${JSON.stringify({ timestamp: ts(), type, payload })}\n`;
const usage = (input: number, cached: number, output: number) => ({ input_tokens: input, cached_input_tokens: cached, cache_write_input_tokens: 0, output_tokens: output, reasoning_output_tokens: Math.floor(output / 2), total_tokens: input + output });
const HOSTILE_CWD = '/work/<img src=x onerror="document.title=1">';

function thread(id: string, originator: string, source: unknown, cwd: string): string {
  return line('session_meta', { id, timestamp: ts(), cwd, originator, cli_version: '0.169.0', source, model_provider: 'openai' })
    + line('turn_context', { turn_id: `${id}-t1`, cwd, model: 'gpt-5.1-codex' });
}
function response(threadId: string, n: number, input: number, cached: number, output: number, total: { input: number; cached: number; output: number }): string {
  return line('token_usage_record', { thread_id: threadId, turn_id: `${threadId}-t1`, response_id: `resp_${threadId}_${n}`, usage: usage(input, cached, output) })
    + line('event_msg', { type: 'token_count', info: { total_token_usage: usage(total.input, total.cached, total.output), last_token_usage: usage(input, cached, output), model_context_window: 258400 }, rate_limits: { primary: { used_percent: 42, window_minutes: 300, resets_at: Math.floor(Date.now() / 1000) + 3600 }, secondary: { used_percent: 12, window_minutes: 10080, resets_at: Math.floor(Date.now() / 1000) + 86400 } } });
}

describe('the extension in a real VS Code (code-server + Chromium)', () => {
  let sandbox: E2eSandbox;
  let session: CodeServerSession;
  let codexHome: string;
  let rollout: string;

  beforeAll(async () => {
    sandbox = await E2eSandbox.create('codex-meter-e2e-');
    codexHome = sandbox.codexHome;
    const day = new Date().toISOString().slice(0, 10).split('-');
    const dir = join(codexHome, 'sessions', day[0]!, day[1]!, day[2]!);
    await mkdir(dir, { recursive: true });
    rollout = join(dir, 'rollout-2026-11-24T10-00-00-parent-thread.jsonl');
    // 800k tokens of a 1M budget: 80 % = the warning threshold.
    await writeFile(rollout, thread('parent-thread', 'codex_cli_rs', 'cli', HOSTILE_CWD) + response('parent-thread', 1, 500_000, 100_000, 100_000, { input: 500_000, cached: 100_000, output: 100_000 }));
    await writeFile(join(dir, 'rollout-2026-11-24T10-00-01-child-thread.jsonl'),
      thread('child-thread', 'codex_cli_rs', { subagent: { thread_spawn: { parent_thread_id: 'parent-thread', depth: 1, agent_nickname: 'Avicenna', agent_role: 'explorer' } } }, HOSTILE_CWD)
      + response('child-thread', 1, 190_000, 0, 10_000, { input: 190_000, cached: 0, output: 10_000 }));
    await writeFile(join(codexHome, 'config.toml'), '[token_budget]\ntotal_budget = 1_000_000\nwarning_threshold = 80\nperiod = "all"\n\n[token_budget.per_agent_limits]\n"Avicenna (explorer)" = 250_000\n');
    session = sandbox.session({ settings: { 'workbench.colorTheme': 'Default Dark Modern' } });
    await session.start();
  }, 180_000);

  afterAll(async () => sandbox?.dispose(), 60_000);

  it('shows the meter at the warning threshold, with the warning colour', async () => {
    const item = session.statusBarItem('codexTokenMeter.status');
    await expect.poll(async () => item.innerText(), { timeout: 60_000 }).toMatch(/80% · 800k\/1M/);
    const background = await item.evaluate((el) => el.ownerDocument.defaultView!.getComputedStyle(el).backgroundColor);
    expect(background).not.toMatch(/rgba\(0, 0, 0, 0\)|transparent/);
    expect(await item.getAttribute('class')).toMatch(/warning-kind/);
    await session.screenshot('meter-warning');
  });

  it('explains the figures in the tooltip', async () => {
    const text = await session.hoverTooltip(session.statusBarItem('codexTokenMeter.status'));
    expect(text).toContain('800,000 of 1,000,000 tokens');
    expect(text).toContain('Cached input');
    expect(text).toContain('100,000');
    expect(text).toContain('Avicenna (explorer)');
    expect(text).toMatch(/5-hour: 42% used/);
    expect(text).toMatch(/Weekly: 12% used/);
    expect(text).toContain('Open Token Panel');
    await session.screenshot('meter-tooltip');
    await session.page.mouse.move(700, 450);
  });

  it('reaches the meter within 2 s of an append, and announces the crossing of 100 %', async () => {
    const item = session.statusBarItem('codexTokenMeter.status');
    const before = Date.now();
    await appendFile(rollout, response('parent-thread', 2, 240_000, 0, 10_000, { input: 740_000, cached: 100_000, output: 110_000 }));
    await expect.poll(async () => item.innerText(), { timeout: 2_000, interval: 50 }).toMatch(/105% · 1\.05M\/1M/);
    const elapsed = Date.now() - before;
    expect(elapsed).toBeLessThan(2_000);
    expect(await item.getAttribute('class')).toMatch(/error-kind/);
    const toast = session.notifications().filter({ hasText: 'Codex token budget exceeded: 1,050,000 of 1,000,000 tokens' });
    await toast.first().waitFor({ timeout: 10_000 });
    expect(await toast.first().innerText()).toContain('Open Token Panel');
    await session.screenshot('meter-exceeded');
  });

  it('names file, line and key of a broken budget file, and keeps the last good budget', async () => {
    await writeFile(join(codexHome, 'config.toml'), '[token_budget]\ntotal_budget = 1_000_000\nwarning_threshold = "high"\nperiod = "all"\n');
    const toast = session.notifications().filter({ hasText: 'config.toml:3: token_budget.warning_threshold must be a number from 0 to 100' });
    await toast.first().waitFor({ timeout: 15_000 });
    expect(await session.statusBarItem('codexTokenMeter.status').innerText()).toMatch(/105% · 1\.05M\/1M/);
    await session.screenshot('budget-broken-toml');
  });

  it('opens the token panel from the status bar, with agents, sub-agents and a hostile cwd shown as text', async () => {
    await session.statusBarItem('codexTokenMeter.status').click();
    const frame = session.webviewFrame();
    await frame.locator('#agents-table').waitFor({ timeout: 30_000 });
    const agents = await frame.locator('#agents-table').innerText();
    expect(agents).toContain('Codex CLI');
    expect(await frame.locator('#projects-table').innerText()).toContain(HOSTILE_CWD);
    expect(await frame.locator('#projects-table img').count()).toBe(0);
    expect(session.consoleMessages.filter((m) => /Content Security Policy|Refused to/.test(m))).toEqual([]);
    await session.screenshot('panel');
  });

  it('reads only the bytes written while VS Code was closed after a restart', async () => {
    await new Promise((r) => setTimeout(r, 1500)); // let the worker persist its state
    const added = response('parent-thread', 3, 40_000, 30_000, 10_000, { input: 780_000, cached: 130_000, output: 120_000 });
    await session.restart(() => appendFile(rollout, added));
    const item = session.statusBarItem('codexTokenMeter.status');
    await expect.poll(async () => item.innerText(), { timeout: 60_000 }).toMatch(/110% · 1\.1M\/1M/);
    const log = await session.extensionLog();
    const lastRun = log.slice(log.lastIndexOf('Activated in'));
    // The changes read since the first scan were saved as journal entries, and made again on loading.
    expect(lastRun).toMatch(/Loaded the scan state \(2 files, and [1-9]\d* saves from its journal\)/);
    expect(lastRun).toContain(`read ${Buffer.byteLength(added)} new bytes, 1 new responses`);
    // Meanwhile the meter showed the last session's figures, known to be behind once the worker had
    // checked (the meter cache follows every save, so the appended rollout is what it names).
    expect(lastRun).toMatch(/Showing the last session's figures \d+ ms after activation/);
    expect(lastRun).toContain('The last session\'s figures are out of date (a rollout file changed)');
    await session.screenshot('after-restart');
  });

  it('after a restart with nothing new, shows the last session\'s figures at once, checked before the scan state is loaded', async () => {
    await new Promise((r) => setTimeout(r, 1500)); // let the worker persist its state and meter cache
    await session.restart();
    const item = session.statusBarItem('codexTokenMeter.status');
    await expect.poll(async () => item.innerText(), { timeout: 60_000 }).toMatch(/110% · 1\.1M\/1M/);
    let lastRun = '';
    await expect.poll(async () => {
      const log = await session.extensionLog();
      lastRun = log.slice(log.lastIndexOf('Activated in'));
      return lastRun;
    }, { timeout: 30_000 }).toMatch(/Scanned 2 rollout files .* read 0 new bytes/);
    // The host showed the meter cache as soon as it was read; the worker checked every rollout
    // against it, and the host said so, all before the state was loaded.
    const shown = lastRun.search(/Showing the last session's figures \d+ ms after activation/);
    const checked = lastRun.search(/Nothing new in the 2 rollout files since the last session \(checked in \d+ ms, \d+ ms after the worker was started\)/);
    const current = lastRun.search(/The last session's figures are current: nothing new in 2 rollout files \(checked by the worker in \d+ ms, \d+ ms after activation\)/);
    const loaded = lastRun.search(/Loaded the scan state/);
    expect(shown).toBeGreaterThan(-1);
    expect(checked).toBeGreaterThan(-1);
    expect(current).toBeGreaterThan(-1);
    expect(loaded).toBeGreaterThan(Math.max(checked, current));
  });

  it('starts a new budget period on "Reset Budget Period", back to the normal colour', async () => {
    await session.runCommand('Codex Token Meter: Reset Budget Period');
    const item = session.statusBarItem('codexTokenMeter.status');
    await expect.poll(async () => item.innerText(), { timeout: 10_000 }).toMatch(/0% · 0\/1M/);
    expect(await item.getAttribute('class')).not.toMatch(/warning-kind|error-kind/);
    await session.screenshot('after-reset');
  });
});
