import { join } from 'node:path';
import { build } from 'esbuild';

/**
 * Bundles the reader threads' test script (fileReaderEntry.ts: the tests' word-counting tokenizer,
 * or a crash on purpose) into `dir` and returns its path.
 */
export async function bundleReaderScript(dir: string): Promise<string> {
  const script = join(dir, 'reader.cjs');
  await build({ entryPoints: [join(__dirname, 'fileReaderEntry.ts')], bundle: true, platform: 'node', format: 'cjs', target: 'node20', outfile: script, logLevel: 'error' });
  return script;
}
