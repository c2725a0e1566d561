import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/**
 * Maps a thread's working directory to its project: the enclosing git repository's root when
 * there is one on this machine, else the directory itself. Answers are cached per directory.
 */
export class ProjectResolver {
  private readonly cache = new Map<string, string>();

  constructor(private readonly hasGitMarker: (dir: string) => boolean = (dir) => existsSync(join(dir, '.git'))) {}

  readonly projectOf = (cwd: string | undefined): string | undefined => {
    if (!cwd) return undefined;
    const cached = this.cache.get(cwd);
    if (cached !== undefined) return cached;
    const project = this.findRoot(cwd) ?? cwd;
    this.cache.set(cwd, project);
    return project;
  };

  private findRoot(cwd: string): string | undefined {
    let dir = resolve(cwd);
    for (let depth = 0; depth < 64; depth += 1) {
      if (this.hasGitMarker(dir)) return dir;
      const parent = dirname(dir);
      if (parent === dir) return undefined;
      dir = parent;
    }
    return undefined;
  }
}
