import { threadSpawnSchema } from './rolloutSchemas.js';

/** Who ran a thread: a stable id and a display name. */
export interface AgentIdentity {
  /** Stable id: `originator:<name>`, `subagent:<nickname|role>`, `subagent-kind:<kind>`. */
  id: string;
  /** Name people read, e.g. "Codex CLI", "codex exec", "Avicenna (explorer)". */
  name: string;
  /** 'top-level' for a thread a person started; otherwise the sub-agent kind (thread_spawn, review, ...). */
  kind: string;
  /** The thread that spawned this one, for sub-agents. */
  parentThreadId?: string;
  nickname?: string;
  role?: string;
  depth?: number;
}

const ORIGINATOR_NAMES: Record<string, string> = {
  codex_cli_rs: 'Codex CLI',
  codex_exec: 'codex exec',
  codex_vscode: 'Codex IDE',
};

/** Derives a thread's agent from its session_meta `originator` and `source`. Unknown shapes are kept generic. */
export function deriveAgent(originator: string | null | undefined, source: unknown): AgentIdentity {
  const subagent = subagentOf(source);
  if (subagent !== undefined) {
    if (typeof subagent === 'object' && subagent !== null && 'thread_spawn' in subagent) {
      const spawn = threadSpawnSchema.safeParse((subagent as Record<string, unknown>).thread_spawn);
      const s = spawn.success ? spawn.data : {};
      const nickname = s.agent_nickname ?? undefined;
      const role = s.agent_role ?? undefined;
      const label = nickname && role ? `${nickname} (${role})` : (nickname ?? role ?? 'sub-agent');
      const identity: AgentIdentity = { id: `subagent:${nickname ?? role ?? 'unnamed'}`, name: label, kind: 'thread_spawn' };
      if (s.parent_thread_id) identity.parentThreadId = s.parent_thread_id;
      if (nickname) identity.nickname = nickname;
      if (role) identity.role = role;
      if (typeof s.depth === 'number') identity.depth = s.depth;
      return identity;
    }
    const kind = subagentKind(subagent);
    return { id: `subagent-kind:${kind}`, name: `${kind} sub-agent`, kind };
  }
  const name = originator ? (ORIGINATOR_NAMES[originator] ?? originator) : 'Codex';
  return { id: `originator:${originator ?? 'unknown'}`, name, kind: 'top-level' };
}

function subagentOf(source: unknown): unknown {
  if (typeof source !== 'object' || source === null) return undefined;
  const record = source as Record<string, unknown>;
  if ('subagent' in record) return record.subagent ?? 'unknown';
  return undefined;
}

function subagentKind(subagent: unknown): string {
  if (typeof subagent === 'string') return subagent;
  if (typeof subagent === 'object' && subagent !== null) {
    const keys = Object.keys(subagent);
    if (keys.length > 0) return keys[0]!;
  }
  return 'unknown';
}

/** `source` as a short string for display: "cli", "exec", "subagent:review", ... */
export function describeSource(source: unknown): string | undefined {
  if (typeof source === 'string') return source;
  const subagent = subagentOf(source);
  if (subagent !== undefined) return `subagent:${subagentKind(subagent)}`;
  return undefined;
}
