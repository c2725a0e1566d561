import { describe, expect, it } from 'vitest';
import { deriveAgent, describeSource } from '../../src/core/agents.js';
import { threadSpawnSource } from './helpers/rolloutBuilder.js';

describe('deriveAgent', () => {
  it('names top-level threads by originator', () => {
    expect(deriveAgent('codex_cli_rs', 'cli')).toEqual({ id: 'originator:codex_cli_rs', name: 'Codex CLI', kind: 'top-level' });
    expect(deriveAgent('codex_exec', 'exec')).toEqual({ id: 'originator:codex_exec', name: 'codex exec', kind: 'top-level' });
    expect(deriveAgent('codex_vscode', 'vscode')).toEqual({ id: 'originator:codex_vscode', name: 'Codex IDE', kind: 'top-level' });
  });

  it('keeps an unknown originator as it is, and a missing one generic (0.34 has no source)', () => {
    expect(deriveAgent('my_wrapper', 'mcp')).toEqual({ id: 'originator:my_wrapper', name: 'my_wrapper', kind: 'top-level' });
    expect(deriveAgent(undefined, undefined)).toEqual({ id: 'originator:unknown', name: 'Codex', kind: 'top-level' });
    expect(deriveAgent(null, null)).toEqual({ id: 'originator:unknown', name: 'Codex', kind: 'top-level' });
  });

  it('names a thread_spawn sub-agent by nickname and role, with its parent and depth', () => {
    expect(deriveAgent('codex_exec', threadSpawnSource('parent-1', 'Avicenna', 'explorer', 2))).toEqual({
      id: 'subagent:Avicenna', name: 'Avicenna (explorer)', kind: 'thread_spawn', parentThreadId: 'parent-1', nickname: 'Avicenna', role: 'explorer', depth: 2,
    });
    expect(deriveAgent('codex_exec', threadSpawnSource('p', 'Curie', null))).toMatchObject({ id: 'subagent:Curie', name: 'Curie', parentThreadId: 'p' });
    expect(deriveAgent('codex_exec', threadSpawnSource('p', null, 'worker'))).toMatchObject({ id: 'subagent:worker', name: 'worker', role: 'worker' });
    expect(deriveAgent('codex_exec', threadSpawnSource('p', null, null))).toMatchObject({ id: 'subagent:unnamed', name: 'sub-agent', kind: 'thread_spawn', parentThreadId: 'p' });
  });

  it('tolerates a thread_spawn of an unexpected shape', () => {
    expect(deriveAgent('x', { subagent: { thread_spawn: { agent_nickname: 42 } } })).toEqual({ id: 'subagent:unnamed', name: 'sub-agent', kind: 'thread_spawn' });
  });

  it('names other sub-agent kinds (review, ...) by their kind, string or object', () => {
    expect(deriveAgent('codex_cli_rs', { subagent: 'review' })).toEqual({ id: 'subagent-kind:review', name: 'review sub-agent', kind: 'review' });
    expect(deriveAgent('codex_cli_rs', { subagent: { review: { target: 'x' } } })).toEqual({ id: 'subagent-kind:review', name: 'review sub-agent', kind: 'review' });
    expect(deriveAgent('codex_cli_rs', { subagent: { something_new: {} } })).toMatchObject({ kind: 'something_new' });
    expect(deriveAgent('codex_cli_rs', { subagent: null })).toMatchObject({ kind: 'unknown' });
    expect(deriveAgent('codex_cli_rs', { subagent: {} })).toMatchObject({ kind: 'unknown' });
  });

  it('treats a source object it does not know as a top-level thread', () => {
    expect(deriveAgent('codex_cli_rs', { future: 'shape' })).toMatchObject({ name: 'Codex CLI', kind: 'top-level' });
    expect(deriveAgent('codex_cli_rs', 17)).toMatchObject({ name: 'Codex CLI', kind: 'top-level' });
  });
});

describe('describeSource', () => {
  it('shows strings as they are and sub-agents by kind', () => {
    expect(describeSource('exec')).toBe('exec');
    expect(describeSource(threadSpawnSource('p', 'A', 'B'))).toBe('subagent:thread_spawn');
    expect(describeSource({ subagent: 'review' })).toBe('subagent:review');
    expect(describeSource(undefined)).toBeUndefined();
    expect(describeSource({ other: 1 })).toBeUndefined();
  });
});
