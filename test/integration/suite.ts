/**
 * An integration suite that runs INSIDE a VS Code extension host, against the installed extension:
 * under code-server through test/integration/runnerExtension (see test/e2e/integration.test.ts),
 * and under @vscode/test-electron where a desktop VS Code exists (test/integration/runTestElectron.mjs).
 * It exports `run()`, the shape @vscode/test-electron expects.
 */
import assert from 'node:assert/strict';
import * as vscode from 'vscode';

const EXTENSION_ID = 'tokenmeter.codex-token-meter';

export interface CaseResult {
  name: string;
  ok: boolean;
  error?: string;
}

const cases: [string, () => Promise<void>][] = [
  ['the extension is installed and activates', async () => {
    const extension = vscode.extensions.getExtension(EXTENSION_ID);
    assert.ok(extension, `${EXTENSION_ID} is not installed`);
    await extension.activate();
    assert.equal(extension.isActive, true);
  }],
  ['every contributed command is registered', async () => {
    const extension = vscode.extensions.getExtension(EXTENSION_ID)!;
    const contributed = (extension.packageJSON.contributes.commands as { command: string }[]).map((c) => c.command);
    const registered = new Set(await vscode.commands.getCommands(true));
    assert.deepEqual(contributed.filter((c) => !registered.has(c)), []);
  }],
  ['Open Token Panel opens the panel as an editor tab', async () => {
    await vscode.commands.executeCommand('codexTokenMeter.openPanel');
    const deadline = Date.now() + 10_000;
    const hasTab = () => vscode.window.tabGroups.all.some((g) => g.tabs.some((t) => t.label === 'Codex Tokens'));
    while (!hasTab() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    assert.ok(hasTab(), 'no "Codex Tokens" tab');
  }],
  ['Reset Budget Period and Rescan run without error', async () => {
    await vscode.commands.executeCommand('codexTokenMeter.resetBudgetPeriod');
    await vscode.commands.executeCommand('codexTokenMeter.rescan');
  }],
  ['settings declare every budget key with its schema', async () => {
    const config = vscode.workspace.getConfiguration('codexTokenMeter');
    for (const key of ['totalBudget', 'warningThreshold', 'perAgentLimits', 'budgetPeriod', 'costBudgetUsd', 'extraRoots', 'priceOverrides', 'timeZone']) {
      assert.ok(config.inspect(key) !== undefined, `setting ${key} is not declared`);
    }
  }],
];

/** Runs every case; resolves with the results, rejects (for test-electron) when any failed. */
export async function run(): Promise<CaseResult[]> {
  const results: CaseResult[] = [];
  for (const [name, test] of cases) {
    try {
      await test();
      results.push({ name, ok: true });
    } catch (err) {
      results.push({ name, ok: false, error: err instanceof Error ? err.message : String(err) });
    }
  }
  const failed = results.filter((r) => !r.ok);
  if (failed.length > 0 && process.env.CODEX_METER_INTEGRATION_RESULT === undefined) {
    throw new Error(`${failed.length} integration case(s) failed: ${failed.map((f) => `${f.name}: ${f.error}`).join('; ')}`);
  }
  return results;
}
