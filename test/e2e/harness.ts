import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type Browser, chromium, type FrameLocator, type Locator, type Page } from 'playwright-core';

export const REPO = resolve(__dirname, '..', '..');
export const ARTIFACTS = join(REPO, 'test', 'e2e', 'artifacts');
const CODE_SERVER = join(process.env.CODEX_METER_CACHE ?? join(homedir(), '.cache', 'codex-token-meter'), 'code-server-4.100.3', 'node_modules', 'code-server');

export interface SessionOptions {
  /** Folder with the extension's package.json and dist/. */
  extensionPath: string;
  codexHome: string;
  workspace: string;
  /** A folder kept across restarts (settings, logs, global storage). */
  userDataDir: string;
  extensionsDir: string;
  settings?: Record<string, unknown>;
  env?: NodeJS.ProcessEnv;
  /** Further extension folders to install beside it (e.g. the integration runner). */
  extraExtensions?: string[];
}

/**
 * A real VS Code (code-server 4.100.3) with the extension installed, driven by Debian's Chromium
 * through playwright-core. Everything listens on 127.0.0.1 only; stop() ends every process.
 */
export class CodeServerSession {
  private server: ChildProcess | undefined;
  private browser: Browser | undefined;
  page!: Page;
  url = '';
  readonly consoleMessages: string[] = [];

  constructor(readonly options: SessionOptions) {}

  /** The process group of code-server and everything it started (it is started detached), while it runs. */
  get processGroup(): number | undefined {
    return this.server?.pid;
  }

  static available(): boolean {
    return existsSync(join(CODE_SERVER, 'out', 'node', 'entry.js')) && existsSync('/usr/bin/chromium');
  }

  async start(): Promise<void> {
    const o = this.options;
    await mkdir(o.extensionsDir, { recursive: true });
    for (const folder of [o.extensionPath, ...(o.extraExtensions ?? [])]) {
      const manifest = JSON.parse(await readFile(join(folder, 'package.json'), 'utf8')) as { publisher: string; name: string; version: string };
      const link = join(o.extensionsDir, `${manifest.publisher}.${manifest.name}-${manifest.version}`);
      if (!existsSync(link)) await symlink(folder, link, 'dir');
    }
    await mkdir(join(o.userDataDir, 'User'), { recursive: true });
    await writeFile(join(o.userDataDir, 'User', 'settings.json'), JSON.stringify({
      'workbench.startupEditor': 'none',
      'workbench.tips.enabled': false,
      'workbench.enableExperiments': false,
      'telemetry.telemetryLevel': 'off',
      'extensions.autoCheckUpdates': false,
      'extensions.autoUpdate': false,
      'update.mode': 'none',
      'window.restoreWindows': 'none',
      ...o.settings,
    }, null, 2));
    this.server = spawn(process.execPath, [
      join(CODE_SERVER, 'out', 'node', 'entry.js'),
      '--auth', 'none', '--bind-addr', '127.0.0.1:0', '--disable-telemetry', '--disable-update-check', '--disable-workspace-trust',
      '--extensions-dir', o.extensionsDir, '--user-data-dir', o.userDataDir, o.workspace,
    ], { env: { ...process.env, ...o.env, CODEX_HOME: o.codexHome }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    this.url = await new Promise<string>((resolveUrl, reject) => {
      let output = '';
      const timer = setTimeout(() => reject(new Error(`code-server did not start:\n${output}`)), 60_000);
      const onData = (chunk: Buffer): void => {
        output += chunk.toString('utf8');
        const match = /HTTP server listening on (http:\/\/127\.0\.0\.1:\d+\/?)/.exec(output);
        if (match) {
          clearTimeout(timer);
          resolveUrl(match[1]!);
        }
      };
      this.server!.stdout!.on('data', onData);
      this.server!.stderr!.on('data', onData);
      this.server!.on('exit', (code) => reject(new Error(`code-server exited (${code}):\n${output}`)));
    });
    this.browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
    });
    this.page = await this.browser.newPage({ viewport: { width: 1400, height: 900 } });
    this.page.on('console', (m) => this.consoleMessages.push(`${m.type()}: ${m.text()}`));
    await this.page.goto(`${this.url.replace(/\/$/, '')}/?folder=${encodeURIComponent(o.workspace)}`);
    await this.page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
    await this.page.locator('.statusbar').waitFor({ timeout: 60_000 });
  }

  /** The status bar item the extension created with `createStatusBarItem(id, …)`. */
  statusBarItem(id: string): Locator {
    return this.page.locator(`.statusbar-item[id$="${id}"]`);
  }

  async hoverTooltip(target: Locator): Promise<string> {
    await this.page.mouse.move(0, 0);
    await target.hover();
    const hover = this.page.locator('.monaco-hover, .workbench-hover').filter({ hasText: /\S/ }).last();
    await hover.waitFor({ state: 'visible', timeout: 10_000 });
    return (await hover.innerText()).trim();
  }

  async runCommand(title: string): Promise<void> {
    await this.page.keyboard.press('Escape');
    await this.page.locator('.monaco-workbench').click({ position: { x: 700, y: 400 } }).catch(() => undefined);
    await this.page.keyboard.press('F1');
    const input = this.page.locator('.quick-input-widget input');
    await input.waitFor({ state: 'visible', timeout: 10_000 });
    await input.fill(`>${title}`);
    await this.page.locator('.quick-input-list .monaco-list-row').filter({ hasText: title }).first().waitFor({ timeout: 10_000 });
    await this.page.keyboard.press('Enter');
  }

  notifications(): Locator {
    return this.page.locator('.notification-toast');
  }

  webviewFrame(): FrameLocator {
    return this.page.frameLocator('iframe.webview').frameLocator('iframe#active-frame');
  }

  async screenshot(name: string): Promise<string> {
    await mkdir(ARTIFACTS, { recursive: true });
    const path = join(ARTIFACTS, `${name}.png`);
    await this.page.screenshot({ path });
    return path;
  }

  /** The extension's log ("Codex Token Meter" output channel) as written to the user-data-dir. */
  async extensionLog(): Promise<string> {
    const files = await findFiles(join(this.options.userDataDir, 'logs'), (name) => name === 'Codex Token Meter.log');
    const texts = await Promise.all(files.sort().map((f) => readFile(f, 'utf8')));
    return texts.join('\n');
  }

  /** Stops VS Code, runs `whileStopped` (to change files meanwhile), and starts it again on the same user data. */
  async restart(whileStopped?: () => Promise<void>): Promise<void> {
    await this.stop();
    await whileStopped?.();
    this.consoleMessages.length = 0;
    await this.start();
  }

  async stop(): Promise<void> {
    await this.browser?.close().catch(() => undefined);
    this.browser = undefined;
    const server = this.server;
    this.server = undefined;
    if (server?.pid) {
      try {
        process.kill(-server.pid, 'SIGTERM');
      } catch {
        /* gone */
      }
      await new Promise((r) => setTimeout(r, 1500));
      try {
        process.kill(-server.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  }
}

async function findFiles(dir: string, match: (name: string) => boolean): Promise<string[]> {
  const out: string[] = [];
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return out;
  }
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await findFiles(path, match)));
    else if (match(entry.name)) out.push(path);
  }
  return out;
}

/**
 * One test file's throw-away folder: a Codex home, a workspace, user data and an extensions folder,
 * and the VS Code session over them. Fails at once when code-server or Chromium is not installed.
 */
export class E2eSandbox {
  private sessions: CodeServerSession[] = [];

  private constructor(readonly root: string) {}

  static async create(prefix: string): Promise<E2eSandbox> {
    if (!CodeServerSession.available()) throw new Error('code-server or Chromium is missing: run scripts/setup-e2e.sh (npm test does)');
    const sandbox = new E2eSandbox(await mkdtemp(join(tmpdir(), prefix)));
    await mkdir(sandbox.workspace, { recursive: true });
    await mkdir(sandbox.codexHome, { recursive: true });
    return sandbox;
  }

  get codexHome(): string {
    return join(this.root, 'codex-home');
  }

  get workspace(): string {
    return join(this.root, 'workspace');
  }

  /** A session of the real extension (plus `extraExtensions`) over this sandbox; call start(). */
  session(options: Pick<SessionOptions, 'settings' | 'env' | 'extraExtensions'> = {}): CodeServerSession {
    const session = new CodeServerSession({
      extensionPath: REPO, codexHome: this.codexHome, workspace: this.workspace,
      userDataDir: join(this.root, 'user-data'), extensionsDir: join(this.root, 'extensions'), ...options,
    });
    this.sessions.push(session);
    return session;
  }

  async dispose(): Promise<void> {
    for (const session of this.sessions) await session.stop();
    await rm(this.root, { recursive: true, force: true });
  }
}
