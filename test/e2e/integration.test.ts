import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { E2eSandbox, REPO } from './harness.js';

/**
 * Runs the integration suite (test/integration/suite.ts) inside code-server's extension host, via a
 * test-only extension that calls its run() on start-up and writes the results to a file.
 */
describe('the integration suite inside the extension host', () => {
  let sandbox: E2eSandbox;
  let resultFile: string;

  beforeAll(async () => {
    sandbox = await E2eSandbox.create('codex-meter-integration-');
    const runner = join(REPO, 'test', 'integration', 'runnerExtension');
    await build({ entryPoints: [join(runner, 'runner.ts')], bundle: true, platform: 'node', format: 'cjs', target: 'node20', external: ['vscode'], outfile: join(runner, 'out', 'runner.js'), logLevel: 'error' });
    resultFile = join(sandbox.root, 'results.json');
    await sandbox.session({ extraExtensions: [runner], env: { CODEX_METER_INTEGRATION_RESULT: resultFile } }).start();
  }, 180_000);

  afterAll(async () => sandbox?.dispose(), 60_000);

  it('passes every case', async () => {
    await expect.poll(() => existsSync(resultFile), { timeout: 60_000, interval: 250 }).toBe(true);
    const outcome = JSON.parse(readFileSync(resultFile, 'utf8')) as { results?: { name: string; ok: boolean; error?: string }[]; error?: string };
    expect(outcome.error).toBeUndefined();
    expect(outcome.results!.length).toBeGreaterThanOrEqual(5);
    expect(outcome.results!.filter((r) => !r.ok)).toEqual([]);
  });
});
