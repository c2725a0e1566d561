import { describe, expect, it } from 'vitest';
import { MemoryLogger } from '../../../src/core/logger.js';
import { WatchErrorReporter } from '../../../src/extension/watchErrors.js';

const error = (code: string | undefined, message: string): Error => Object.assign(new Error(message), code ? { code } : {});

describe('the watcher\'s errors in the log', () => {
  it('explains a reached limit of file watchers once, with what it means and how to lift it, and counts the rest', () => {
    const logger = new MemoryLogger();
    const reporter = new WatchErrorReporter(logger);
    for (let i = 0; i < 500; i += 1) reporter.report(error('ENOSPC', `ENOSPC: System limit for number of file watchers reached, watch '/h/sessions/f${i}.jsonl'`));
    expect(logger.messages).toHaveLength(1);
    expect(logger.messages[0]!.level).toBe('warn');
    expect(logger.messages[0]!.message).toMatch(/limit of file watchers is reached \(ENOSPC.*not watched live.*Rescan Codex Logs.*fs\.inotify\.max_user_watches=524288/);
    expect(reporter.filesOverLimit).toBe(500);
    expect(reporter.summary()).toBe('500 folders or files could not be watched live (the system\'s limit of file watchers).');
  });

  it('logs other errors as they come, and has nothing to sum up without a limit reached', () => {
    const logger = new MemoryLogger();
    const reporter = new WatchErrorReporter(logger);
    reporter.report(error('EACCES', 'EACCES: permission denied'));
    reporter.report(error(undefined, 'something else'));
    reporter.report(error('EMFILE', 'EMFILE: too many open files'));
    expect(logger.messages.map((m) => m.message)).toEqual([
      'Watching the Codex folders failed: EACCES: permission denied',
      'Watching the Codex folders failed: something else',
      expect.stringContaining('(EMFILE: too many open files)') as unknown as string,
    ]);
    expect(logger.messages[2]!.message).toContain('ulimit -n');
    expect(reporter.summary()).toBeUndefined();
  });
});
