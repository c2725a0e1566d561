import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CodeServerSession, E2eSandbox } from './harness.js';

/** More threads than a panel snapshot holds (PANEL_THREAD_ROWS, 1,000). */
const THREADS = 1_010;
/**
 * The lines' times, 100 ms apart (the 4,040 of them span under 7 minutes), from 10 minutes ago or
 * from local midnight if that is later: every thread is of today, which the test's last view shows
 * (starting an hour back, a run in the first hour after midnight had threads of yesterday).
 */
const midnight = new Date();
midnight.setHours(0, 0, 0, 0);
let clock = Math.max(Date.now() - 600_000, midnight.getTime());
const ts = () => new Date((clock += 100)).toISOString();
const line = (type: string, payload: unknown) => `${JSON.stringify({ timestamp: ts(), type, payload })}\n`;

function rollout(id: string, input: number): string {
  return line('session_meta', { id, timestamp: ts(), cwd: '/work/long-view', originator: 'codex_cli_rs', cli_version: '0.169.0', source: 'cli' })
    + line('turn_context', { turn_id: `${id}-t`, cwd: '/work/long-view', model: 'gpt-5.1-codex' })
    + line('token_usage_record', { thread_id: id, turn_id: `${id}-t`, response_id: `${id}-r`, usage: { input_tokens: input, cached_input_tokens: 0, output_tokens: 1, reasoning_output_tokens: 0, total_tokens: input + 1 } });
}

describe('a token panel view with more threads than a snapshot holds', () => {
  let sandbox: E2eSandbox;
  let session: CodeServerSession;

  beforeAll(async () => {
    sandbox = await E2eSandbox.create('codex-meter-long-');
    const [y, m, d] = new Date().toISOString().slice(0, 10).split('-');
    const dir = join(sandbox.codexHome, 'sessions', y!, m!, d!);
    await mkdir(dir, { recursive: true });
    // The first thread written is the oldest and by far the largest: cut off in the default order (most recent first).
    await writeFile(join(dir, 'rollout-2026-12-01T00-00-00-whale.jsonl'), rollout('whale-thread', 9_000_000));
    for (let i = 0; i < THREADS - 1; i += 1) await writeFile(join(dir, `rollout-2026-12-01T00-00-01-small-${i}.jsonl`), rollout(`small-${i}`, 10));
    session = sandbox.session();
    await session.start();
    await session.statusBarItem('codexTokenMeter.status').filter({ hasText: 'tokens' }).waitFor({ timeout: 120_000 });
  }, 240_000);

  afterAll(async () => sandbox?.dispose(), 60_000);

  it('shows the first 1,000 threads with a note, counts them all, asks for the top ones again when sorted, and shows more when asked', async () => {
    await session.runCommand('Codex Token Meter: Open Token Panel');
    const frame = session.webviewFrame();
    await frame.locator('#filter-period').waitFor({ timeout: 30_000 });
    await frame.locator('#filter-period').selectOption('all');
    const heading = frame.locator('#threads-heading');
    await expect.poll(async () => heading.innerText(), { timeout: 30_000 }).toBe('Threads (1,010)');
    expect(await frame.locator('#threads-cut-text').innerText()).toBe('Showing the first 1,000 of 1,010 threads in this order; Export Usage… writes them all.');
    const firstRow = frame.locator('#threads-table tbody tr:not(.spacer)').first();
    expect(await firstRow.innerText()).not.toContain('whale-thread');
    await frame.locator('#threads-table th').filter({ hasText: 'Total' }).locator('button').click();
    // The host picks the view's threads in the new order: the largest, cut off before, now comes first.
    await expect.poll(async () => firstRow.innerText(), { timeout: 10_000 }).toContain('whale-thread'.slice(0, 13));
    expect(await frame.locator('#threads-table th').filter({ hasText: 'Total' }).getAttribute('aria-sort')).toBe('descending');
    await session.screenshot('panel-long-view');

    // "Show 1,000 more": the view holds all 1,010, in the same order.
    const scroller = frame.locator('.virtual:has(#threads-table)');
    const heightOf1000 = await scroller.evaluate((el) => el.scrollHeight);
    expect(await frame.locator('#threads-more').innerText()).toBe('Show 1,000 more');
    await frame.locator('#threads-more').click();
    await expect.poll(async () => frame.locator('#threads-cut').count(), { timeout: 10_000 }).toBe(0);
    expect(await firstRow.innerText()).toContain('whale-thread'.slice(0, 13));
    // Ten rows more (26 px each) to scroll through, and the last of them drawn at the bottom.
    expect(await scroller.evaluate((el) => el.scrollHeight) - heightOf1000).toBeGreaterThanOrEqual(10 * 26 - 2);
    await scroller.evaluate((el) => { el.scrollTop = el.scrollHeight; });
    await expect.poll(async () => frame.locator('#threads-table tbody tr:not(.spacer)').last().innerText(), { timeout: 10_000 }).toMatch(/small-\d+/);

    // Another period starts the view again with the first 1,000.
    await frame.locator('#filter-period').selectOption('today');
    await expect.poll(async () => frame.locator('#threads-cut-text').count(), { timeout: 10_000 }).toBe(1);
    expect(await frame.locator('#threads-cut-text').innerText()).toContain('Showing the first 1,000 of 1,010 threads');
  });
});
