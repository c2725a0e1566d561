// Opens the token panel in a real VS Code (code-server + Chromium, as in test/e2e) over a Codex home,
// and reports: the first paint after opening (logged by the extension), and the time until the
// panel shows every thread after switching the period to "All time"; and the extension host's
// memory (resident now and at its peak, from /proc) once the first scan is done; then VS Code is
// stopped and started again on the same user data, nothing new in the logs: the extension's warm
// restart, as the extension logs it: from activation until the meter shows the last session's
// figures (the meter cache, not yet checked) and until they are checked (the worker's check of
// every rollout, and how long that took from the worker's start); then the scan's own time, until
// the state is loaded and every rollout checked.
// Prints JSON: { scanMillis, workerScanMillis, hostRssMiB, hostPeakMiB, openPaintMillis, openThreads, allTimeMillis, allTimeThreads, cutNote (the note above a cut thread list, or null),
// hostPeakAfterAllTimeMiB, restartShownMillis, restartCheckedMillis, restartLookupMillis, restartCachedMillis, restartScanMillis }.
// With --memory-only it stops after the scan (for a baseline on an empty home).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CodeServerSession, REPO } from '../test/e2e/harness.js';

/**
 * VmRSS and VmHWM of the extension host processes (code-server's `--type=extensionHost`) in the given
 * process group, in MiB: those of this session only, not of another VS Code running on the machine.
 */
function extensionHostMemory(processGroup: number | undefined): { rssMiB: number; peakMiB: number } {
  let rss = 0;
  let peak = 0;
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      if (!readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('--type=extensionHost')) continue;
      // /proc/PID/stat: "pid (comm) state ppid pgrp …"; comm may hold spaces, so split after its ')'.
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]) !== processGroup) continue;
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      rss += Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
      peak += Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
    } catch {
      // the process ended meanwhile
    }
  }
  return { rssMiB: Math.round(rss), peakMiB: Math.round(peak) };
}

async function main(): Promise<void> {
  const home = process.argv[2]!;
  const memoryOnly = process.argv.includes('--memory-only');
  const manifest = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { publisher: string; name: string };
  const root = await mkdtemp(join(tmpdir(), 'codex-meter-paint-'));
  await mkdir(join(root, 'workspace'));
  const session = new CodeServerSession({ extensionPath: REPO, codexHome: home, workspace: join(root, 'workspace'), userDataDir: join(root, 'user-data'), extensionsDir: join(root, 'extensions') });
  try {
    const started = Date.now();
    await session.start();
    await session.statusBarItem('codexTokenMeter.status').filter({ hasText: /tokens|%/ }).waitFor({ timeout: 300_000 });
    const scanMillis = Date.now() - started;
    let log = '';
    for (let i = 0; i < 600 && !/Scanned \d+ rollout files/.test(log); i += 1) {
      await new Promise((r) => setTimeout(r, 100));
      log = await session.extensionLog();
    }
    // The worker saves its state right after the scan, and its watcher lists the folders meanwhile; the
    // peak is read once both are done (the state file appears by a rename at the end of the save), so
    // that it includes them.
    const statePath = join(root, 'user-data', 'User', 'globalStorage', `${manifest.publisher}.${manifest.name}`, 'scan-state.json');
    for (let i = 0; i < 600 && !(existsSync(statePath) && /Watching \d+ folders/.test(log)); i += 1) {
      await new Promise((r) => setTimeout(r, 100));
      log = await session.extensionLog();
    }
    if (!existsSync(statePath)) throw new Error(`the worker did not save its state to ${statePath}`);
    if (!/Watching \d+ folders/.test(log)) throw new Error('the worker did not report that it watches the Codex folders');
    const memory = extensionHostMemory(session.processGroup);
    // The scan's own time, as the worker logs it (without code-server's start and the status bar's refresh).
    const workerScanMillis = Number(/Scanned \d+ rollout files.* in (\d+) ms\./.exec(log)?.[1]);
    if (memoryOnly) {
      console.log(JSON.stringify({ scanMillis, workerScanMillis, hostRssMiB: memory.rssMiB, hostPeakMiB: memory.peakMiB }));
      return;
    }
    await session.runCommand('Codex Token Meter: Open Token Panel');
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
    // A view with more threads than a snapshot holds says so above the table.
    const cut = frame.locator('#threads-cut');
    const cutNote = (await cut.count()) > 0 ? await cut.innerText() : null;
    await frame.locator('#threads-heading').scrollIntoViewIfNeeded();
    await session.screenshot('bench-all-time');
    const afterPanel = extensionHostMemory(session.processGroup);
    await session.restart();
    const scans = (): number[] => [...log.matchAll(/Scanned \d+ rollout files.* read (\d+) new bytes.* in (\d+) ms\./g)].map((m) => Number(m[2]));
    for (let i = 0; i < 600 && scans().length < 2; i += 1) {
      await new Promise((r) => setTimeout(r, 100));
      log = await session.extensionLog();
    }
    const restartScanMillis = scans()[1];
    if (restartScanMillis === undefined) throw new Error('the worker did not log its scan after the restart');
    const lastRun = log.slice(log.lastIndexOf('Activated in'));
    const cached = /Nothing new in the \d+ rollout files since the last session \(checked in (\d+) ms, (\d+) ms after the worker was started\)/.exec(lastRun);
    if (!cached) throw new Error('the worker did not find its meter cache current after the restart');
    const restartLookupMillis = Number(cached[1]);
    const restartCachedMillis = Number(cached[2]);
    const shown = /Showing the last session's figures (\d+) ms after activation/.exec(lastRun);
    const checked = /The last session's figures are current: .* (\d+) ms after activation\)/.exec(lastRun);
    if (!shown || !checked) throw new Error('the extension did not log when it showed and checked the last session\'s figures');
    const restartShownMillis = Number(shown[1]);
    // Activation as the extension logs it (activate()'s own time), at the first start and the restart.
    const activated = [...log.matchAll(/Activated in (\d+) ms/g)].map((m) => Number(m[1]));
    if (activated.length < 2) throw new Error('the extension did not log its activation at both starts');
    const [activationMillis] = activated;
    const restartActivationMillis = activated[activated.length - 1];
    const restartCheckedMillis = Number(checked[1]);
    console.log(JSON.stringify({
      scanMillis, workerScanMillis, hostRssMiB: memory.rssMiB, hostPeakMiB: memory.peakMiB, openPaintMillis: Number(painted?.[1]), openThreads: Number(painted?.[2]),
      allTimeMillis, allTimeThreads: Number(/\((\d[\d,]*)\)/.exec(heading)?.[1]?.replace(/,/g, '')), hostPeakAfterAllTimeMiB: afterPanel.peakMiB, cutNote, restartShownMillis, restartCheckedMillis, restartLookupMillis, restartCachedMillis, restartScanMillis, activationMillis, restartActivationMillis,
    }));
  } finally {
    await session.stop();
    await rm(root, { recursive: true, force: true });
  }
}

void main().then(() => process.exit(0), (err: unknown) => {
  console.error(err);
  process.exit(1);
});
