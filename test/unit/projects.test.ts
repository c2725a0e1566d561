import { describe, expect, it } from 'vitest';
import { ProjectResolver } from '../../src/core/projects.js';

describe('ProjectResolver', () => {
  it('maps a cwd inside a repository to the repository root', () => {
    const calls: string[] = [];
    const resolver = new ProjectResolver((dir) => {
      calls.push(dir);
      return dir === '/home/me/repo';
    });
    expect(resolver.projectOf('/home/me/repo/packages/app')).toBe('/home/me/repo');
    expect(resolver.projectOf('/home/me/repo/packages/app')).toBe('/home/me/repo');
    expect(calls.filter((c) => c === '/home/me/repo/packages/app')).toHaveLength(1); // cached
  });

  it('keeps the cwd when no repository encloses it, and undefined for no cwd', () => {
    const resolver = new ProjectResolver(() => false);
    expect(resolver.projectOf('/tmp/scratch')).toBe('/tmp/scratch');
    expect(resolver.projectOf(undefined)).toBeUndefined();
  });
});
