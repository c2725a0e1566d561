// Opens the token panel in a real VS Code (code-server + Chromium, as in test/e2e) over a Codex home,
// and reports: the first paint after opening (logged by the extension), and the time until the
// panel shows every thread after switching the period to "All time".
// Prints JSON: { scanMillis, openPaintMillis, openThreads, allTimeMillis, allTimeThreads }.
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CodeServerSession, REPO } from '../test/e2e/harness.js';

async function main(): Promise<void> {
  const home = process.argv[2]!;
  const root = await mkdtemp(join(tmpdir(), 'codex-meter-paint-'));
  await mkdir(join(root, 'workspace'));
  const session = new CodeServerSession({ extensionPath: REPO, codexHome: home, workspace: join(root, 'workspace'), userDataDir: join(root, 'user-data'), extensionsDir: join(root, 'extensions') });
  try {
    const started = Date.now();
    await session.start();
    await session.statusBarItem('codexTokenMeter.status').filter({ hasText: /tokens|%/ }).waitFor({ timeout: 300_000 });
    const scanMillis = Date.now() - started;
    await session.runCommand('Codex Token Meter: Open Token Panel');
    let log = '';
    for (let i = 0; i < 300 && !/Token panel painted/.test(log); i += 1) {
      await new Promise((r) => setTimeout(r, 100));
      log = await session.extensionLog();
    }
    const painted = /Token panel painted (\d+) ms after opening \((\d+) threads\)/.exec(log);
    const frame = session.webviewFrame();
    await frame.locator('#filter-period').waitFor();
    const t0 = Date.now();
    await frame.locator('#filter-period').selectOption('all');
    await frame.locator('#threads-heading').filter({ hasNotText: `Threads (${painted?.[2] ?? '0'})` }).waitFor({ timeout: 60_000 });
    const allTimeMillis = Date.now() - t0;
    const heading = await frame.locator('#threads-heading').innerText();
    console.log(JSON.stringify({ scanMillis, openPaintMillis: Number(painted?.[1]), openThreads: Number(painted?.[2]), allTimeMillis, allTimeThreads: Number(/\((\d[\d,]*)\)/.exec(heading)?.[1]?.replace(/,/g, '')) }));
  } finally {
    await session.stop();
    await rm(root, { recursive: true, force: true });
  }
}

void main().then(() => process.exit(0), (err: unknown) => {
  console.error(err);
  process.exit(1);
});
