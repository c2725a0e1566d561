import { execFileSync } from 'node:child_process';
import net from 'node:net';
import { writeFile } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { runCli } from '../../src/cli/main.js';
import { file, resetClock, sessionMeta, tokenCount, turnContext } from './helpers/rolloutBuilder.js';
import { TempHome } from './helpers/tempHome.js';

let home: TempHome;
beforeEach(async () => {
  home = await TempHome.create();
  resetClock();
  await home.write('s1', file(sessionMeta('s1'), turnContext('gpt-5.1-codex'), tokenCount([1000, 0, 10, 0], [1000, 0, 10, 0])));
  await writeFile(home.path('config.toml'), '[token_budget]\ntotal_budget = 5000\n');
});
afterEach(async () => {
  vi.restoreAllMocks();
  await home.dispose();
});

async function runAll(): Promise<void> {
  const io = { out: () => undefined, err: () => undefined, env: {} };
  for (const command of ['threads', 'daily', 'agents', 'models', 'projects', 'budget']) {
    expect(await runCli([command, '--json', '--codex-home', home.root, '--state', home.path('state')], io)).toBe(0);
  }
}

describe('privacy and network', () => {
  it('makes no network request while scanning, pricing and reporting', async () => {
    const connect = vi.spyOn(net.Socket.prototype, 'connect');
    const fetchSpy = vi.spyOn(globalThis, 'fetch');
    await runAll();
    expect(connect).not.toHaveBeenCalled();
    expect(fetchSpy).not.toHaveBeenCalled();
  });

  it('never opens Codex credentials (auth.json)', async () => {
    // A named pipe with no writer: any attempt to read it would block, and the test would time out.
    execFileSync('mkfifo', [home.path('auth.json')]);
    execFileSync('mkfifo', [home.path('sessions/auth.json')]);
    await runAll();
  }, 10_000);
});
