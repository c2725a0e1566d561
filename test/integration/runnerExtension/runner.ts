/**
 * A test-only extension: on start-up it runs the integration suite inside the extension host and
 * writes the results where the harness (test/e2e/integration.test.ts) reads them.
 */
import { writeFileSync } from 'node:fs';
import { run } from '../suite.js';

export async function activate(): Promise<void> {
  const target = process.env.CODEX_METER_INTEGRATION_RESULT;
  if (!target) return;
  try {
    const results = await run();
    writeFileSync(target, JSON.stringify({ results }));
  } catch (err) {
    writeFileSync(target, JSON.stringify({ error: err instanceof Error ? err.stack ?? err.message : String(err) }));
  }
}

export function deactivate(): void {
  /* nothing to release */
}
