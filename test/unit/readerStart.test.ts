import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STATE_FILE } from '../../src/cli/cachedRun.js';
import { type Invocation, resolveInvocation } from '../../src/cli/invocation.js';
import { type CliIo } from '../../src/cli/io.js';
import { scanReaders } from '../../src/cli/readerStart.js';
import { ThreadFileReadPool } from '../../src/core/fileReadPool.js';
import { bundleReaderScript } from './helpers/readerScript.js';

let dir: string;
let script: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'codex-meter-reader-start-'));
  script = await bundleReaderScript(dir);
});
afterAll(async () => rm(dir, { recursive: true, force: true }));

/** A Codex home of `files` small rollouts. */
async function home(name: string, files: number): Promise<string> {
  const root = join(dir, name);
  const day = join(root, 'sessions', '2026', '11', '20');
  await mkdir(day, { recursive: true });
  for (let i = 0; i < files; i += 1) await writeFile(join(day, `rollout-2026-11-20T10-00-00-t${i}.jsonl`), '{}\n');
  return root;
}

function invocation(codexHome: string, argv: string[], io: CliIo): Invocation {
  const inv = resolveInvocation(['threads', '--codex-home', codexHome, ...argv], io);
  if (typeof inv === 'number') throw new Error(`usage error ${inv}`);
  return inv;
}

const io = (env: NodeJS.ProcessEnv, withScript = true): CliIo => ({ out: () => undefined, err: () => undefined, env, ...(withScript ? { readerThreadScript: script } : {}) });

describe('reader threads of the CLI', () => {
  it('are started before the scan when it will start cold (no --state, or none saved there yet) over enough files', async () => {
    const many = await home('many', 40);
    for (const argv of [[], ['--state', join(dir, 'empty-state')]]) {
      const cli = io({ CODEX_METER_READER_THREADS: '1' });
      const readers = await scanReaders(invocation(many, argv, cli), cli);
      expect(readers.started, argv.join(' ')).toBeInstanceOf(ThreadFileReadPool);
      expect(readers.openReadPool?.()).toBe(readers.started);
      expect(readers.poolThresholdBytes).toBe(0);
      await readers.started!.close();
    }
  });

  it('are not started early for fewer files or bytes than the scan would start them for', async () => {
    const few = await home('few', 10);
    const many = await home('many-small', 40);
    const asked = io({ CODEX_METER_READER_THREADS: '1' });
    const automatic = io({});
    for (const [codexHome, cli] of [[few, asked], [many, automatic]] as const) {
      const readers = await scanReaders(invocation(codexHome, [], cli), cli);
      expect(readers.started).toBeUndefined();
      expect(readers.openReadPool).toBeTypeOf('function');
    }
  });

  it('are left to the scan to start when a state was saved, and not started without a script or with CODEX_METER_READER_THREADS=0', async () => {
    const many = await home('many-warm', 40);
    const stateDir = join(dir, 'warm-state');
    await mkdir(stateDir, { recursive: true });
    await writeFile(join(stateDir, STATE_FILE), '{}');
    const warm = io({ CODEX_METER_READER_THREADS: '1' });
    const readers = await scanReaders(invocation(many, ['--state', stateDir], warm), warm);
    expect(readers.started).toBeUndefined();
    expect(readers.openReadPool).toBeTypeOf('function');
    for (const cli of [io({ CODEX_METER_READER_THREADS: '0' }), io({ CODEX_METER_READER_THREADS: '1' }, false)]) {
      const none = await scanReaders(invocation(many, [], cli), cli);
      expect(none.started).toBeUndefined();
      expect(none.openReadPool).toBeUndefined();
    }
  });
});
