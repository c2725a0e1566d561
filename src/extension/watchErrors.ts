import { type Logger } from '../core/logger.js';

/** Error codes of a watcher that hit a system limit: the file is not watched, and the next one will fail too. */
const LIMIT_CODES = new Set(['ENOSPC', 'EMFILE', 'ENFILE']);

/**
 * Logs the watcher's errors without flooding the log: a system limit (inotify's
 * fs.inotify.max_user_watches on Linux, open files elsewhere) fails once per entry beyond it, so it is
 * explained once, with what it means and how to lift it, and the further failures are only counted
 * (`summary`). Other errors are logged as they come.
 */
export class WatchErrorReporter {
  private limitFailures = 0;

  constructor(private readonly logger: Logger) {}

  report(err: Error): void {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === undefined || !LIMIT_CODES.has(code)) {
      this.logger.warn(`Watching the Codex folders failed: ${err.message}`);
      return;
    }
    this.limitFailures += 1;
    if (this.limitFailures > 1) return;
    const advice = code === 'ENOSPC'
      ? 'Raise the limit of file watchers, e.g. `sudo sysctl fs.inotify.max_user_watches=524288` (and in /etc/sysctl.conf to keep it)'
      : 'Raise the limit of open files (ulimit -n)';
    this.logger.warn(`The system's limit of file watchers is reached (${err.message}): folders beyond it are not watched live; what Codex writes there is counted at the next "Rescan Codex Logs" or start. ${advice}, then reload the window.`);
  }

  /** How many folders or files could not be watched because of a system limit. */
  get filesOverLimit(): number {
    return this.limitFailures;
  }

  /** A line for the log once the watcher is ready, when the limit was hit more than once. */
  summary(): string | undefined {
    return this.limitFailures > 1 ? `${this.limitFailures} folders or files could not be watched live (the system's limit of file watchers).` : undefined;
  }
}
