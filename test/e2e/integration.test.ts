import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CodeServerSession, REPO } from './harness.js';

/**
 * Runs the integration suite (test/integration/suite.ts) inside code-server's extension host, via a
 * test-only extension that calls its run() on start-up and writes the results to a file.
 */
describe('the integration suite inside the extension host', () => {
  let root: string;
  let session: CodeServerSession;
  let resultFile: string;

  beforeAll(async () => {
    if (!CodeServerSession.available()) throw new Error('code-server or Chromium is missing: run scripts/setup-e2e.sh (npm test does)');
    root = await mkdtemp(join(tmpdir(), 'codex-meter-integration-'));
    const runner = join(REPO, 'test', 'integration', 'runnerExtension');
    await build({ entryPoints: [join(runner, 'runner.ts')], bundle: true, platform: 'node', format: 'cjs', target: 'node20', external: ['vscode'], outfile: join(runner, 'out', 'runner.js'), logLevel: 'error' });
    resultFile = join(root, 'results.json');
    const workspace = join(root, 'workspace');
    await mkdir(workspace, { recursive: true });
    session = new CodeServerSession({
      extensionPath: REPO, extraExtensions: [runner], codexHome: join(root, 'codex-home'), workspace,
      userDataDir: join(root, 'user-data'), extensionsDir: join(root, 'extensions'), env: { CODEX_METER_INTEGRATION_RESULT: resultFile },
    });
    await session.start();
  }, 180_000);

  afterAll(async () => {
    await session?.stop();
    if (root) await rm(root, { recursive: true, force: true });
  }, 60_000);

  it('passes every case', async () => {
    await expect.poll(() => existsSync(resultFile), { timeout: 60_000, interval: 250 }).toBe(true);
    const outcome = JSON.parse(readFileSync(resultFile, 'utf8')) as { results?: { name: string; ok: boolean; error?: string }[]; error?: string };
    expect(outcome.error).toBeUndefined();
    expect(outcome.results!.length).toBeGreaterThanOrEqual(5);
    expect(outcome.results!.filter((r) => !r.ok)).toEqual([]);
  });
});
