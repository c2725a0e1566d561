/** Command-line arguments of `codex-meter`, parsed without a library (the grammar is small). */

export const COMMANDS = ['threads', 'daily', 'agents', 'models', 'projects', 'budget'] as const;
export type CommandName = (typeof COMMANDS)[number];

export interface CliArguments {
  command: CommandName;
  codexHomes: string[];
  roots: string[];
  stateDir?: string;
  since?: string;
  until?: string;
  timeZone?: string;
  json: boolean;
  verbose: boolean;
  workspace?: string;
}

export class UsageError extends Error {}

export const USAGE = `Usage: codex-meter <command> [options]

Commands:
  threads    usage per thread (agent, models, buckets, cost)
  daily      usage per day (local days)
  agents     usage per agent (Codex CLI, codex exec, Codex IDE, sub-agents)
  models     usage per model
  projects   usage per project (working directory)
  budget     where usage stands against the [token_budget] configuration

Options:
  --codex-home DIR  Codex home to read (default: $CODEX_HOME or ~/.codex); may be repeated
  --root DIR        a further folder with rollout files; may be repeated
  --state DIR       keep the scan state (and a report cache) in DIR: the next run reads
                    only new bytes, and one with nothing new prints from the cache
  --since DATE      from this day (YYYY-MM-DD, local midnight) or ISO time
  --until DATE      up to (not including) this day or time
  --tz ZONE         IANA time zone for days (default: the system's)
  --workspace DIR   also read DIR/.codex/config.toml for the budget (a trusted workspace)
  --json            print one JSON object
  --verbose         log what is read to stderr
  -h, --help        this text
  --version         the version of codex-meter and of its price data
`;

export function parseArguments(argv: readonly string[]): CliArguments | 'help' | 'version' {
  if (argv.length === 0 || argv.includes('-h') || argv.includes('--help')) return 'help';
  if (argv.includes('--version')) return 'version';
  const [command, ...rest] = argv;
  if (!COMMANDS.includes(command as CommandName)) throw new UsageError(`unknown command "${command}" (expected one of: ${COMMANDS.join(', ')})`);
  const args: CliArguments = { command: command as CommandName, codexHomes: [], roots: [], json: false, verbose: false };
  for (let i = 0; i < rest.length; i += 1) {
    const flag = rest[i]!;
    const [name, inline] = flag.startsWith('--') && flag.includes('=') ? [flag.slice(0, flag.indexOf('=')), flag.slice(flag.indexOf('=') + 1)] : [flag, undefined];
    const value = (): string => {
      if (inline !== undefined) return inline;
      const next = rest[i + 1];
      if (next === undefined || next.startsWith('--')) throw new UsageError(`${name} needs a value`);
      i += 1;
      return next;
    };
    switch (name) {
      case '--codex-home': args.codexHomes.push(value()); break;
      case '--root': args.roots.push(value()); break;
      case '--state': args.stateDir = value(); break;
      case '--since': args.since = value(); break;
      case '--until': args.until = value(); break;
      case '--tz': args.timeZone = value(); break;
      case '--workspace': args.workspace = value(); break;
      case '--json': args.json = true; break;
      case '--verbose': args.verbose = true; break;
      default: throw new UsageError(`unknown option "${flag}"`);
    }
  }
  return args;
}
