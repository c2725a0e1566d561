import { existsSync, readFileSync } from 'node:fs';
import { appendFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CodeServerSession, E2eSandbox } from './harness.js';

/** From a minute ago, or from local midnight if that is later: every line is of this month, which the panel shows first. */
const midnight = new Date();
midnight.setHours(0, 0, 0, 0);
let clock = Math.max(Date.now() - 60_000, midnight.getTime());
const ts = () => new Date((clock += 10)).toISOString();
const line = (type: string, payload: unknown) => `${JSON.stringify({ timestamp: ts(), type, payload })}\n`;
const usage = (input: number, output: number) => ({ input_tokens: input, cached_input_tokens: Math.floor(input / 4), output_tokens: output, reasoning_output_tokens: 0, total_tokens: input + output });
const HOSTILE_MODEL = '<script>alert(1)</script>-model';

function rollout(id: string, source: unknown, model: string, responses: [number, number][]): string {
  let text = line('session_meta', { id, timestamp: ts(), cwd: '/work/panel-project', originator: 'codex_cli_rs', cli_version: '0.169.0', source })
    + line('turn_context', { turn_id: `${id}-t`, cwd: '/work/panel-project', model });
  responses.forEach(([input, output], i) => {
    text += line('token_usage_record', { thread_id: id, turn_id: `${id}-t`, response_id: `${id}-r${i}`, usage: usage(input, output) });
  });
  return text;
}

describe('the token panel in a real VS Code (light theme)', () => {
  let sandbox: E2eSandbox;
  let session: CodeServerSession;
  let parentFile: string;

  beforeAll(async () => {
    sandbox = await E2eSandbox.create('codex-meter-panel-');
    const codexHome = sandbox.codexHome;
    const [y, m, d] = new Date().toISOString().slice(0, 10).split('-');
    const dir = join(codexHome, 'sessions', y!, m!, d!);
    await mkdir(dir, { recursive: true });
    parentFile = join(dir, 'rollout-2026-11-24T09-00-00-lead.jsonl');
    await writeFile(parentFile, rollout('lead', 'cli', 'gpt-5.1-codex', [[10_000, 500], [20_000, 700]]));
    await writeFile(join(dir, 'rollout-2026-11-24T09-00-01-helper.jsonl'), rollout('helper', { subagent: { thread_spawn: { parent_thread_id: 'lead', depth: 1, agent_nickname: 'Curie', agent_role: 'reviewer' } } }, 'gpt-5.1-codex-mini', [[4_000, 300]]));
    await writeFile(join(dir, 'rollout-2026-11-24T09-00-02-odd.jsonl'), rollout('odd', 'exec', HOSTILE_MODEL, [[1_000, 10]]));
    for (let i = 0; i < 60; i += 1) {
      await writeFile(join(dir, `rollout-2026-11-24T08-00-${String(i).padStart(2, '0')}-many-${i}.jsonl`), rollout(`many-${i}`, 'exec', 'gpt-5.1-codex', [[100 + i, 1]]));
    }
    session = sandbox.session({ settings: { 'workbench.colorTheme': 'Default Light Modern', 'files.simpleDialog.enable': true } });
    await session.start();
    await session.statusBarItem('codexTokenMeter.status').filter({ hasText: 'tokens' }).waitFor({ timeout: 60_000 });
  }, 180_000);

  afterAll(async () => sandbox?.dispose(), 60_000);

  it('opens from the command palette with agent rows and the sub-agent nested under its parent', async () => {
    await session.runCommand('Codex Token Meter: Open Token Panel');
    const frame = session.webviewFrame();
    const agents = frame.locator('#agents-table');
    await agents.waitFor({ timeout: 30_000 });
    expect(await agents.innerText()).toContain('Codex CLI');
    expect(await agents.innerText()).not.toContain('Curie (reviewer)');
    await frame.locator('#agents-table button.twisty').first().click();
    await expect.poll(async () => agents.innerText()).toContain('Curie (reviewer)');
    expect(await frame.locator('#threads-heading').innerText()).toBe('Threads (63)');
    expect(await frame.locator('#models-table').innerText()).toContain(HOSTILE_MODEL);
    expect(await frame.locator('#models-table script').count()).toBe(0); // the hostile name is text, not markup
    await session.screenshot('panel-light');
  });

  it('updates live on an append without losing the filter, the sort or the scroll position', async () => {
    const frame = session.webviewFrame();
    const outputHeader = frame.locator('#threads-table th').filter({ hasText: 'Last' });
    await outputHeader.locator('button').click();
    await expect.poll(async () => outputHeader.getAttribute('aria-sort')).toBe('ascending');
    await frame.locator('#filter-model').selectOption('gpt-5.1-codex');
    await expect.poll(async () => frame.locator('#models-table').innerText(), { timeout: 10_000 }).not.toContain('gpt-5.1-codex-mini');
    const totalCell = frame.locator('#models-table tbody tr').first();
    expect(await totalCell.innerText()).toContain('39,030');
    const threads = frame.locator('#threads .virtual');
    await threads.evaluate((el) => {
      el.scrollTop = 300;
      el.dispatchEvent(new Event('scroll'));
    });
    await expect.poll(async () => threads.evaluate((el) => el.scrollTop)).toBe(300);
    const before = Date.now();
    await appendFile(parentFile, line('token_usage_record', { thread_id: 'lead', turn_id: 'lead-t', response_id: 'lead-r9', usage: usage(5_000, 100) }));
    await expect.poll(async () => totalCell.innerText(), { timeout: 2_000, interval: 50 }).toContain('44,130');
    expect(Date.now() - before).toBeLessThan(2_000);
    expect(await frame.locator('#filter-model').inputValue()).toBe('gpt-5.1-codex');
    expect(await frame.locator('#threads-table th').filter({ hasText: 'Last' }).getAttribute('aria-sort')).toBe('ascending');
    await expect.poll(async () => frame.locator('#threads .virtual').evaluate((el) => el.scrollTop)).toBe(300);
    await session.screenshot('panel-light-filtered');
  });

  it('exports the current view as CSV through "Export Usage…"', async () => {
    const target = join(sandbox.root, 'export.csv');
    await session.runCommand('Codex Token Meter: Export Usage…');
    const pick = session.page.locator('.quick-input-widget .quick-input-list .monaco-list-row').filter({ hasText: 'CSV' }).first();
    await pick.waitFor({ timeout: 10_000 });
    await pick.click();
    // code-server's save dialog is VS Code's simple file dialog: a path in the quick input.
    const input = session.page.locator('.quick-input-widget input');
    await expect.poll(async () => input.inputValue(), { timeout: 10_000 }).toMatch(/codex-usage-.*\.csv$/);
    await input.fill(target);
    await expect.poll(async () => input.inputValue()).toBe(target);
    // The dialog validates the typed path asynchronously; an Enter before that is ignored.
    await session.page.waitForTimeout(500);
    await session.page.keyboard.press('Enter');
    await expect.poll(() => existsSync(target), { timeout: 10_000 }).toBe(true);
    await session.screenshot('panel-exported');
    const csv = readFileSync(target, 'utf8');
    expect(csv.split('\r\n')[0]).toMatch(/^kind,key,label,uncached_input/);
    expect(csv).toContain('model,gpt-5.1-codex,gpt-5.1-codex');
    expect(csv).not.toContain('gpt-5.1-codex-mini'); // the current view is filtered to one model
  });

  it('runs under its content security policy without violations', () => {
    expect(session.consoleMessages.filter((m) => /Content Security Policy|Refused to (load|execute|apply)/.test(m))).toEqual([]);
  });
});
