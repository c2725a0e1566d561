import { chmod, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defaultCodexHome, discoverRolloutFiles, isRolloutFileName } from '../../src/core/discovery.js';
import { MemoryLogger } from '../../src/core/logger.js';

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'codex-meter-discovery-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

async function touch(relative: string): Promise<string> {
  const path = join(root, relative);
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, '');
  return path;
}

describe('isRolloutFileName', () => {
  it('accepts rollout .jsonl and .jsonl.zst, nothing else', () => {
    expect(isRolloutFileName('rollout-2026-11-20T10-00-00-0199.jsonl')).toBe(true);
    expect(isRolloutFileName('rollout-2026-11-20T10-00-00-0199.jsonl.zst')).toBe(true);
    expect(isRolloutFileName('rollout-2025-05-01-abc.json')).toBe(false); // the 2025 TypeScript CLI's whole-JSON files
    expect(isRolloutFileName('state_5.sqlite')).toBe(false);
    expect(isRolloutFileName('notes-rollout-x.jsonl')).toBe(false);
    expect(isRolloutFileName('rollout-x.jsonl.tmp')).toBe(false);
  });
});

describe('discoverRolloutFiles', () => {
  it('finds sessions/YYYY/MM/DD and the flat archived_sessions of a Codex home, sorted, with flags', async () => {
    const a = await touch('sessions/2026/11/20/rollout-2026-11-20T10-00-00-a.jsonl');
    const z = await touch('sessions/2026/10/01/rollout-2026-10-01T10-00-00-z.jsonl.zst');
    const archived = await touch('archived_sessions/rollout-2026-09-01T10-00-00-old.jsonl');
    await touch('sessions/2026/11/20/notes.txt');
    await touch('logs_1.sqlite');
    await touch('rollout-at-the-top-is-not-a-session.jsonl');
    const found = await discoverRolloutFiles([root], new MemoryLogger());
    expect(found.problems).toEqual([]);
    expect(found.files).toEqual([
      { path: archived, archived: true, compressed: false },
      { path: z, archived: false, compressed: true },
      { path: a, archived: false, compressed: false },
    ].sort((x, y) => x.path.localeCompare(y.path)));
  });

  it('takes a root without the home layout as a folder of rollouts (a sessions or archived_sessions folder)', async () => {
    const inside = await touch('extra/sessions/2026/11/20/rollout-x.jsonl');
    const arch = await touch('elsewhere/archived_sessions/rollout-y.jsonl');
    const found = await discoverRolloutFiles([join(root, 'extra/sessions'), join(root, 'elsewhere/archived_sessions')], new MemoryLogger());
    expect(found.files).toEqual([{ path: arch, archived: true, compressed: false }, { path: inside, archived: false, compressed: false }]);
  });

  it('lists a file once when roots overlap, and is not troubled by missing roots', async () => {
    const a = await touch('sessions/2026/11/20/rollout-a.jsonl');
    const logger = new MemoryLogger();
    const found = await discoverRolloutFiles([root, `${root}/`, join(root, 'missing-root')], logger);
    expect(found.files.map((f) => f.path)).toEqual([a]);
    expect(found.problems).toEqual([]);
    expect(logger.messages.filter((m) => m.level === 'warn')).toEqual([]);
  });

  it('lists symbolic links to rollouts', async () => {
    const target = await touch('real/rollout-target.jsonl');
    await mkdir(join(root, 'sessions'), { recursive: true });
    await symlink(target, join(root, 'sessions/rollout-link.jsonl'));
    const found = await discoverRolloutFiles([root], new MemoryLogger());
    expect(found.files.map((f) => f.path)).toEqual([join(root, 'sessions/rollout-link.jsonl')]);
  });

  it('reports a folder it cannot read, with the reason, and still finds the rest', async () => {
    const a = await touch('sessions/2026/11/20/rollout-a.jsonl');
    // A folder that loops onto itself cannot be read by anyone, root included (ELOOP).
    await symlink(join(root, 'sessions/2026/loop'), join(root, 'sessions/2026/loop'));
    const logger = new MemoryLogger();
    const found = await discoverRolloutFiles([root], logger);
    expect(found.files.map((f) => f.path)).toEqual([a]);
    expect(found.problems).toEqual([]); // a dangling/looping link is neither a folder nor a rollout: ignored
    // A real permission problem: a day folder with mode 000 (only a non-root user is denied by it).
    const locked = join(root, 'sessions/2026/11/21');
    await touch('sessions/2026/11/21/rollout-hidden.jsonl');
    await chmod(locked, 0o000);
    try {
      const lockedFound = await discoverRolloutFiles([root], logger);
      if (process.getuid?.() === 0) {
        // Running as root: mode 000 does not deny root a read, so the EACCES assertion cannot be made here.
        expect(lockedFound.files).toHaveLength(2);
      } else {
        expect(lockedFound.files.map((f) => f.path)).toEqual([a]);
        expect(lockedFound.problems).toEqual([{ path: locked, reason: expect.stringMatching(/^EACCES/) }]);
        expect(logger.messages.filter((m) => m.level === 'warn' && m.message.includes('its rollouts are not counted'))).toHaveLength(1);
      }
    } finally {
      await chmod(locked, 0o755);
    }
  });

  it('follows a link to a folder (a year moved to another disk and linked back), naming its files by the link', async () => {
    const here = await touch('home/sessions/2026/11/20/rollout-2026-11-20T10-00-00-a.jsonl');
    await touch('disk/2025/06/01/rollout-2025-06-01T10-00-00-old.jsonl');
    await touch('disk/2025/06/02/rollout-2025-06-02T10-00-00-older.jsonl.zst');
    await symlink(join(root, 'disk/2025'), join(root, 'home/sessions/2025'));
    // Linked archives, and a link to a single day.
    await touch('elsewhere/archive/rollout-2024-01-01T10-00-00-archived.jsonl');
    await mkdir(join(root, 'home/archived_sessions'), { recursive: true });
    await symlink(join(root, 'elsewhere/archive'), join(root, 'home/archived_sessions/2024'));
    await touch('days/rollout-2026-11-21T10-00-00-day.jsonl');
    await symlink(join(root, 'days'), join(root, 'home/sessions/2026/11/21'));
    const found = await discoverRolloutFiles([join(root, 'home')], new MemoryLogger());
    expect(found.problems).toEqual([]);
    expect(found.files).toEqual([
      { path: join(root, 'home/archived_sessions/2024/rollout-2024-01-01T10-00-00-archived.jsonl'), archived: true, compressed: false },
      { path: join(root, 'home/sessions/2025/06/01/rollout-2025-06-01T10-00-00-old.jsonl'), archived: false, compressed: false },
      { path: join(root, 'home/sessions/2025/06/02/rollout-2025-06-02T10-00-00-older.jsonl.zst'), archived: false, compressed: true },
      { path: here, archived: false, compressed: false },
      { path: join(root, 'home/sessions/2026/11/21/rollout-2026-11-21T10-00-00-day.jsonl'), archived: false, compressed: false },
    ]);
  });

  it('lists a folder reached by links once: a loop of links ends, and a link into a folder listed already is not followed', async () => {
    const a = await touch('home/sessions/2026/11/20/rollout-2026-11-20T10-00-00-a.jsonl');
    const b = await touch('disk/2025/06/01/rollout-2025-06-01T10-00-00-b.jsonl');
    await symlink(join(root, 'home/sessions'), join(root, 'home/sessions/2026/11/20/back-to-sessions'));
    await symlink(join(root, 'home/sessions/2026'), join(root, 'home/sessions/again-2026'));
    await symlink(join(root, 'disk/2025'), join(root, 'home/sessions/2025'));
    // The same disk folder linked twice, the second time through its parent.
    await symlink(join(root, 'disk'), join(root, 'home/sessions/disk'));
    await symlink(join(root, 'nowhere'), join(root, 'home/sessions/dangling'));
    await writeFile(join(root, 'notes.txt'), '');
    await symlink(join(root, 'notes.txt'), join(root, 'home/sessions/notes'));
    const logger = new MemoryLogger();
    const found = await discoverRolloutFiles([join(root, 'home')], logger);
    expect(found.problems).toEqual([]);
    expect(found.files.map((f) => f.path)).toEqual([join(root, 'home/sessions/2025/06/01/rollout-2025-06-01T10-00-00-b.jsonl'), a]);
    expect(b).toBe(join(root, 'disk/2025/06/01/rollout-2025-06-01T10-00-00-b.jsonl'));
    expect(logger.messages.filter((m) => m.level === 'warn')).toEqual([]);
    expect(logger.messages.filter((m) => /already listed; its rollouts are counted there/.test(m.message)).length).toBeGreaterThanOrEqual(2);
  });

  it('reports a sessions entry that exists but cannot be listed (ELOOP), as a problem', async () => {
    await symlink(join(root, 'sessions'), join(root, 'sessions'));
    const archived = await touch('archived_sessions/rollout-b.jsonl');
    const logger = new MemoryLogger();
    const found = await discoverRolloutFiles([root], logger);
    expect(found.files.map((f) => f.path)).toEqual([archived]);
    expect(found.problems).toEqual([{ path: join(root, 'sessions'), reason: expect.stringMatching(/^ELOOP/) }]);
    expect(logger.messages.filter((m) => m.level === 'warn')).toHaveLength(1);
  });
});

describe('defaultCodexHome', () => {
  it('is $CODEX_HOME (resolved) or ~/.codex', () => {
    expect(defaultCodexHome({ CODEX_HOME: '/opt/codex' }, '/home/u')).toBe('/opt/codex');
    expect(defaultCodexHome({ CODEX_HOME: 'rel/home' }, '/home/u')).toBe(resolve('rel/home'));
    expect(defaultCodexHome({ CODEX_HOME: '   ' }, '/home/u')).toBe('/home/u/.codex');
    expect(defaultCodexHome({}, '/home/u')).toBe('/home/u/.codex');
    expect(defaultCodexHome({})).toBe(join(homedir(), '.codex'));
  });

});

describe('a root that cannot be read', () => {
  it('is named once, as the root, and the other roots are still read', async () => {
    const loop = join(root, 'loop-home');
    await symlink(loop, loop); // ELOOP: unreadable whatever the user's rights
    await touch('other/sessions/2026/11/20/rollout-2026-11-20T10-00-00-a.jsonl');
    const logger = new MemoryLogger();
    const found = await discoverRolloutFiles([loop, join(root, 'other')], logger);
    expect(found.problems.map((p) => p.path)).toEqual([loop]);
    expect(found.problems[0]!.reason).toMatch(/^ELOOP/);
    expect(found.files).toHaveLength(1);
    const warnings = logger.messages.filter((m) => m.level === 'warn');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.message).toContain(`Cannot read the folder ${loop}`);
  });
});
