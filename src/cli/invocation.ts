import { resolve } from 'node:path';
import { defaultCodexHome } from '../core/discovery.js';
import { isValidTimeZone, parseDateBoundary, systemTimeZone, usableTimeZone } from '../core/timeZones.js';
import { type CliArguments, parseArguments, USAGE, UsageError } from './args.js';
import { type CliIo } from './io.js';

/** A command line, checked: its arguments with the time zone, the period and the roots resolved. */
export interface Invocation {
  args: CliArguments;
  /** The --tz zone, checked; else the system's, read without Intl where it can be (systemTimeZone). */
  timeZone: string;
  since: Date | undefined;
  until: Date | undefined;
  codexHomes: string[];
  /** Every folder read: the Codex homes, then the --root folders. */
  roots: string[];
}

/** The invocation of `argv`, or the exit code when there is nothing to run (help or the version printed: 0; a usage error printed: 2). */
export function resolveInvocation(argv: readonly string[], io: CliIo): Invocation | number {
  let args: CliArguments | 'help' | 'version';
  try {
    args = parseArguments(argv);
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`codex-meter: ${err.message}\n\n${USAGE}`);
      return 2;
    }
    throw err;
  }
  if (args === 'help') {
    io.out(USAGE);
    return 0;
  }
  if (args === 'version') {
    io.out(`${io.version ?? 'codex-meter (version unknown)'}\n`);
    return 0;
  }
  if (args.timeZone !== undefined && !isValidTimeZone(args.timeZone)) {
    io.err(`codex-meter: unknown time zone "${args.timeZone}"\n`);
    return 2;
  }
  // The system's zone is not checked here: that would start ICU, which a run answered from the
  // report cache needs not, and this module computes in any zone systemTimeZone gives (usableTimeZone).
  let timeZone = args.timeZone ?? systemTimeZone();
  let since: Date | undefined;
  let until: Date | undefined;
  try {
    if (args.since || args.until) timeZone = usableTimeZone(timeZone);
    if (args.since) since = parseDateBoundary(args.since, timeZone);
    if (args.until) until = parseDateBoundary(args.until, timeZone);
  } catch (err) {
    io.err(`codex-meter: ${(err as Error).message}\n`);
    return 2;
  }
  const codexHomes = args.codexHomes.length > 0 ? args.codexHomes : [defaultCodexHome(io.env)];
  return { args, timeZone, since, until, codexHomes, roots: [...codexHomes, ...args.roots].map((r) => resolve(r)) };
}
