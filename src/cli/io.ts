import { type Logger } from '../core/logger.js';

/** Where the CLI writes and what it runs in; injected so tests can capture it. */
export interface CliIo {
  out: (text: string) => void;
  /** Writes bytes of UTF-8 text as they are (a printed output read again); without it they are decoded and given to `out`. */
  outBytes?: (bytes: Uint8Array) => void;
  err: (text: string) => void;
  env: NodeJS.ProcessEnv;
  /** A script that can serve as a reader thread (see fileReadPool.ts); without it every file is read in this thread. */
  readerThreadScript?: string;
  /**
   * The identity of this build, its price data included (see reportCache.ts): a report cache is read
   * and written only with one, and only one written by the same build is used.
   */
  reportCacheBuild?: string;
  /** What `--version` prints: this package's version and its price data's. */
  version?: string;
}

/** Logs to stderr: errors always, the rest with --verbose. */
export function stderrLogger(io: CliIo, verbose: boolean): Logger {
  const write = (level: string) => (message: string) => io.err(`[${level}] ${message}\n`);
  const quiet = () => undefined;
  return {
    trace: quiet,
    debug: verbose ? write('debug') : quiet,
    info: verbose ? write('info') : quiet,
    warn: verbose ? write('warn') : quiet,
    error: write('error'),
  };
}
