// Runs test/integration/suite.ts under @vscode/test-electron with a desktop VS Code that is already
// installed (these machines cannot download one): VSCODE_EXECUTABLE=/path/to/code node test/integration/runTestElectron.mjs
import { resolve } from 'node:path';
import { build } from 'esbuild';
import { runTests } from '@vscode/test-electron';

const repo = resolve(import.meta.dirname, '..', '..');
const executable = process.env.VSCODE_EXECUTABLE;
if (!executable) {
  console.error('Set VSCODE_EXECUTABLE to a desktop VS Code (e.g. /usr/share/code/code); @vscode/test-electron cannot download one here.');
  process.exit(2);
}
const suite = resolve(repo, 'dist', 'integration', 'suite.js');
await build({ entryPoints: [resolve(repo, 'test', 'integration', 'suite.ts')], bundle: true, platform: 'node', format: 'cjs', target: 'node20', external: ['vscode'], outfile: suite, logLevel: 'error' });
await runTests({ vscodeExecutablePath: executable, extensionDevelopmentPath: repo, extensionTestsPath: suite, launchArgs: ['--disable-extensions'] });
