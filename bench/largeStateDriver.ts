// The two halves of bench/largeState.mjs, each in a process of its own:
//   make <path> <increments>: writes a scan state of that many increments (15 per thread, one
//     rollout file per thread, the shapes a real home's state holds) with the state store, as the
//     CLI and the worker save it; prints JSON { increments, threads, saveMillis, bytes }.
//   load <path>: loads it as the CLI and the worker do at their start; prints JSON
//     { increments, files, loadMillis, heapMB }.
import { statSync } from 'node:fs';
import { type UsageIncrement, type ThreadInfo } from '../src/core/ledgerTypes.js';
import { MemoryLogger } from '../src/core/logger.js';
import { type FileRecord, type PersistedScanState, SCAN_STATE_VERSION } from '../src/core/scanState.js';
import { ScanStateStore } from '../src/core/stateStore.js';
import { snapshotEntries } from '../src/core/ledger.js';

const PER_THREAD = 15;

function threadIdOf(t: number): string {
  const hex = t.toString(16).padStart(12, '0');
  return `019a2b3c-4d5e-7f60-8123-${hex}`;
}

function stateOf(increments: number): PersistedScanState {
  const threadCount = Math.ceil(increments / PER_THREAD);
  const files: Record<string, FileRecord> = {};
  const threads: ThreadInfo[] = [];
  const entries: [UsageIncrement, string[]][] = [];
  for (let t = 0; t < threadCount; t += 1) {
    const threadId = threadIdOf(t);
    const day = new Date(Date.UTC(2025, 6, 1) + (t % 500) * 86_400_000).toISOString();
    const file = `/home/dev/.codex/sessions/${day.slice(0, 4)}/${day.slice(5, 7)}/${day.slice(8, 10)}/rollout-${day.slice(0, 10)}T10-00-00-${threadId}.jsonl`;
    const cwd = `/home/dev/src/project-${t % 40}`;
    files[file] = {
      position: { offset: 400_000 + t, lineCount: 300 }, size: 400_000 + t, mtimeMs: 1_790_000_000_000 + t, ino: 2_000_000 + t, sampleDigest: 'XDziLfdzGQ3JhJ9JNWjeIPt1f4g=',
      account: {
        format: 'envelope', inReplay: false, segment: 0, hasRecords: false, shadowSnapshotTotal: 0, recordTotal: 0,
        counters: { badLines: 0, unknownLineTypes: 0, repeatedSnapshots: 0, replayedSnapshots: 0, totalsRestarts: 0, sourceDisagreements: 0, compactions: 0, oversizedLines: 0, usageRecords: 0, snapshots: PER_THREAD },
        threadId, cwd, model: 'gpt-5.1-codex', previousTotal: { uncachedInput: 120_000, cachedInput: 900_000, cacheWriteInput: 0, output: 9_000, reasoningOutput: 3_000 },
      } as unknown as FileRecord['account'],
      problems: [],
    };
    threads.push({ threadId, agent: { id: 'originator:codex_cli_rs', name: 'Codex CLI', kind: 'top-level' }, file, startedAt: day, cwd, originator: 'codex_cli_rs', cliVersion: '0.130.0', modelProvider: 'openai', source: 'cli' } as ThreadInfo);
    for (let i = 0; i < PER_THREAD && entries.length < increments; i += 1) {
      const buckets = { uncachedInput: 8_000 + i, cachedInput: 60_000 + t % 1000, cacheWriteInput: 0, output: 600 + i, reasoningOutput: 200 };
      const raw = { input_tokens: buckets.uncachedInput + buckets.cachedInput, cached_input_tokens: buckets.cachedInput, output_tokens: buckets.output, reasoning_output_tokens: buckets.reasoningOutput, total_tokens: buckets.uncachedInput + buckets.cachedInput + buckets.output };
      const timestamp = new Date(Date.parse(day) + i * 60_000).toISOString();
      entries.push([{ key: `s:${threadId}:0:${i * 68_800}`, threadId, timestamp, model: 'gpt-5.1-codex', cwd, buckets, raw, source: 'snapshot' } as UsageIncrement, [file]]);
    }
  }
  return { version: SCAN_STATE_VERSION, savedAt: new Date().toISOString(), files, ledger: { increments: entries, threads, rateLimits: undefined } };
}

async function main(): Promise<void> {
  const [mode, path, count] = process.argv.slice(2) as [string, string, string?];
  const store = new ScanStateStore(path, new MemoryLogger());
  if (mode === 'make') {
    const state = stateOf(Number(count));
    const s = performance.now();
    await store.save(state);
    const saveMillis = performance.now() - s;
    console.log(JSON.stringify({ increments: Number(count), threads: state.ledger.threads.length, saveMillis, bytes: statSync(path).size }));
    return;
  }
  const logger = new MemoryLogger();
  const loader = new ScanStateStore(path, logger);
  const s = performance.now();
  const state = await loader.load();
  const loadMillis = performance.now() - s;
  if (!state) throw new Error(`the state did not load: ${logger.messages.map((m) => m.message).join(' ')}`);
  let increments = 0;
  for (const _ of snapshotEntries(state.ledger.increments)) increments += 1;
  console.log(JSON.stringify({ increments, files: Object.keys(state.files).length, loadMillis, heapMB: process.memoryUsage().heapUsed / 2 ** 20 }));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
