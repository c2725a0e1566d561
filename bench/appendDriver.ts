// A watching process in miniature (what the extension's worker does): scan a home, watch its
// sessions/ folders with chokidar as the worker does (folders only; their raw events name the file
// that changed), append one token event to a rollout, and time append → updated ledger; then stay
// idle, watching, for five seconds and report the CPU time the process used meanwhile. It also saves
// the state as the worker does after a change (a journal entry, stateStore.ts), beside a save of the
// whole state, timed in the same run; and the figures the worker computes after a change for the
// status bar and the token panel (workerFigures.ts).
// Prints JSON: { scanMillis, appendToLedgerMillis, refreshMillis, bytesRead, saveJournalMillis,
// journalBytes, saveWholeMillis, stateBytes, figures, idleCpuMillis, rssMB }.
import { appendFileSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { watch } from 'chokidar';
import { MemoryLogger } from '../src/core/logger.js';
import { UsageScanner } from '../src/core/scanner.js';
import { ScanStateStore } from '../src/core/stateStore.js';
import { usageRecordLine } from './usageRecordLine.mjs';
import { countTextTokens } from '../src/core/tokenizer.js';
import { timeFiguresAfterChange } from './workerFigures.js';

async function main(): Promise<void> {
  const [home, file] = process.argv.slice(2) as [string, string];
  const scanner = new UsageScanner({ roots: [home], logger: new MemoryLogger(), countTokens: countTextTokens });
  const t0 = performance.now();
  await scanner.scanAll();
  const scanMillis = performance.now() - t0;
  const stateDir = mkdtempSync(join(tmpdir(), 'codex-meter-append-state-'));
  const store = new ScanStateStore(join(stateDir, 'scan-state.json'), new MemoryLogger());
  await store.saveChanges(scanner.takeChanges(), () => scanner.toState()); // the first save: whole
  const before = scanner.ledger.incrementCount;
  const watcher = watch(join(home, 'sessions'), { ignoreInitial: true, ignored: (_path, stats) => stats?.isFile() === true });
  await new Promise<void>((resolve) => watcher.on('ready', () => resolve()));
  const line = usageRecordLine(`bench-${Date.now()}`);
  let appendedAt = 0;
  const done = new Promise<{ appendToLedgerMillis: number; refreshMillis: number; bytesRead: number }>((resolve) => {
    watcher.on('raw', async (_event: string, name: string | null, details: unknown) => {
      const folder = (details as { watchedPath?: string } | undefined)?.watchedPath;
      if (!name || !folder || join(folder, name) !== file) return;
      const r0 = performance.now();
      const refresh = await scanner.refreshFile(file);
      const r1 = performance.now();
      if (scanner.ledger.incrementCount > before) resolve({ appendToLedgerMillis: r1 - appendedAt, refreshMillis: r1 - r0, bytesRead: refresh.bytesRead });
    });
  });
  appendedAt = performance.now();
  appendFileSync(file, line);
  const result = await done;
  const s0 = performance.now();
  const kind = await store.saveChanges(scanner.takeChanges(), () => scanner.toState());
  const saveJournalMillis = performance.now() - s0;
  if (kind !== 'journal') throw new Error(`the save after the append wrote the ${kind} state`);
  const journalBytes = statSync(store.journalPath).size;
  const s1 = performance.now();
  await store.save(scanner.toState());
  const saveWholeMillis = performance.now() - s1;
  const stateBytes = statSync(store.path).size;
  rmSync(stateDir, { recursive: true, force: true });
  const figures = await timeFiguresAfterChange(scanner, 9);
  await new Promise((r) => setTimeout(r, 500)); // let chokidar's own follow-up settle
  const cpu0 = process.cpuUsage();
  await new Promise((r) => setTimeout(r, 5000));
  const cpu = process.cpuUsage(cpu0);
  const idleCpuMillis = (cpu.user + cpu.system) / 1000;
  await watcher.close();
  console.log(JSON.stringify({ scanMillis, ...result, saveJournalMillis, journalBytes, saveWholeMillis, stateBytes, figures, idleCpuMillis, rssMB: Math.round(process.memoryUsage().rss / 1048576) }));
}

void main();
