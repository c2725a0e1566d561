/**
 * Finds the line of a key in TOML source text, for messages that name file, line and key.
 * It understands enough TOML for that: [table] and [table.sub] headers, bare and quoted keys,
 * dotted keys, comments. It is only used after a value failed validation.
 */
export function findKeyLine(source: string, tablePath: string[], key: string): number | undefined {
  const lines = source.split(/\r?\n/);
  let currentTable: string[] = [];
  const wanted = tablePath.join('.');
  for (let i = 0; i < lines.length; i += 1) {
    const line = stripComment(lines[i]!).trim();
    if (line === '') continue;
    const header = /^\[\[?\s*([^\]]+?)\s*\]\]?$/.exec(line);
    if (header) {
      currentTable = splitDotted(header[1]!);
      continue;
    }
    const assignment = /^((?:[A-Za-z0-9_-]+|"(?:[^"\\]|\\.)*"|'[^']*')(?:\s*\.\s*(?:[A-Za-z0-9_-]+|"(?:[^"\\]|\\.)*"|'[^']*'))*)\s*=/.exec(line);
    if (!assignment) continue;
    const full = [...currentTable, ...splitDotted(assignment[1]!)];
    if (full.slice(0, -1).join('.') === wanted && full[full.length - 1] === key) return i + 1;
  }
  return undefined;
}

/** The line of a table header, e.g. `[token_budget.per_agent_limits]`. */
export function findTableLine(source: string, tablePath: string[]): number | undefined {
  const lines = source.split(/\r?\n/);
  const wanted = tablePath.join('.');
  for (let i = 0; i < lines.length; i += 1) {
    const header = /^\s*\[\s*([^\]]+?)\s*\]\s*$/.exec(stripComment(lines[i]!));
    if (header && splitDotted(header[1]!).join('.') === wanted) return i + 1;
  }
  return undefined;
}

function stripComment(line: string): string {
  let quote: string | undefined;
  for (let i = 0; i < line.length; i += 1) {
    const c = line[i];
    if (quote) {
      if (c === '\\' && quote === '"') i += 1;
      else if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '#') return line.slice(0, i);
  }
  return line;
}

function splitDotted(text: string): string[] {
  const parts: string[] = [];
  const re = /\s*(?:"((?:[^"\\]|\\.)*)"|'([^']*)'|([A-Za-z0-9_-]+))\s*(?:\.|$)/gy;
  let match: RegExpExecArray | null;
  while ((match = re.exec(text)) !== null && match[0] !== '') parts.push(match[1] ?? match[2] ?? match[3] ?? '');
  return parts;
}
