import { readFileSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import * as vscode from 'vscode';
import { BudgetConfigStore, type BudgetLoadResult, type BudgetPatch, type BudgetSettings, type EffectiveBudget } from '../core/budget/index.js';
import { type Logger } from '../core/logger.js';
import { readIfPresent } from '../core/textFiles.js';


/**
 * Keeps the budget in force: `[token_budget]` from the Codex home's config.toml and
 * token-budget.toml, then the workspace's `.codex/` files (trusted workspaces only), then the
 * environment, then settings. Reloads when any of them changes. A broken file is reported once per
 * distinct problem (a message naming file, line and key, and the log); its last good values stay.
 */
export class BudgetController implements vscode.Disposable {
  private readonly store: BudgetConfigStore;
  private readonly disposables: vscode.Disposable[] = [];
  private readonly changed = new vscode.EventEmitter<EffectiveBudget>();
  readonly onDidChange = this.changed.event;
  private current: BudgetLoadResult | undefined;
  private readonly reported = new Set<string>();
  private reloadTimer: NodeJS.Timeout | undefined;
  /** The last good budgets as last read from or written to lastGoodPath: they are written when they differ. */
  private savedLastGood: string;
  private saving: Promise<void> = Promise.resolve();

  constructor(
    private readonly codexHome: string,
    private readonly env: NodeJS.ProcessEnv,
    private readonly logger: Logger,
    /** A JSON file (in the extension's storage) that keeps each file's last good budget across restarts. */
    private readonly lastGoodPath: string,
  ) {
    let remembered: Record<string, BudgetPatch> = {};
    try {
      remembered = JSON.parse(readFileSync(lastGoodPath, 'utf8')) as Record<string, BudgetPatch>;
    } catch {
      /* first run, or unreadable: start without */
    }
    this.store = new BudgetConfigStore(readIfPresent, remembered);
    this.savedLastGood = JSON.stringify(this.store.remembered());
    const watch = (base: vscode.Uri): void => {
      const watcher = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(base, '{config,token-budget}.toml'));
      watcher.onDidChange(() => this.scheduleReload(), undefined, this.disposables);
      watcher.onDidCreate(() => this.scheduleReload(), undefined, this.disposables);
      watcher.onDidDelete(() => this.scheduleReload(), undefined, this.disposables);
      this.disposables.push(watcher);
    };
    watch(vscode.Uri.file(codexHome));
    for (const folder of vscode.workspace.workspaceFolders ?? []) watch(vscode.Uri.joinPath(folder.uri, '.codex'));
    this.disposables.push(
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('codexTokenMeter')) this.scheduleReload();
      }),
      vscode.workspace.onDidGrantWorkspaceTrust(() => this.scheduleReload()),
      vscode.workspace.onDidChangeWorkspaceFolders(() => this.scheduleReload()),
      this.changed,
    );
  }

  get budget(): EffectiveBudget {
    return this.current?.budget ?? { totalBudget: 0, warningThreshold: 80, period: 'month', perAgentLimits: {} };
  }

  get sources(): BudgetLoadResult['sources'] {
    return this.current?.sources ?? [];
  }

  async reload(): Promise<EffectiveBudget> {
    const settings = vscode.workspace.getConfiguration('codexTokenMeter');
    const budgetSettings: BudgetSettings = {
      totalBudget: settings.get<number | null>('totalBudget') ?? null,
      warningThreshold: settings.get<number | null>('warningThreshold') ?? null,
      perAgentLimits: settings.get<Record<string, unknown>>('perAgentLimits') ?? null,
      budgetPeriod: settings.get<string | null>('budgetPeriod') ?? null,
      costBudgetUsd: settings.get<number | null>('costBudgetUsd') ?? null,
    };
    const result = await this.store.load({
      codexHome: this.codexHome,
      workspaceFolders: (vscode.workspace.workspaceFolders ?? []).map((f) => f.uri.fsPath),
      trusted: vscode.workspace.isTrusted,
      env: this.env,
      settings: budgetSettings,
    });
    for (const problem of result.problems) {
      const key = `${problem.source}|${problem.line ?? ''}|${problem.message}`;
      if (this.reported.has(key)) continue;
      this.reported.add(key);
      if (problem.severity === 'error') {
        this.logger.error(`Budget configuration: ${problem.message}`);
        void this.showProblem(problem.message, problem.source, problem.line);
      } else {
        this.logger.warn(`Budget configuration: ${problem.message}`);
      }
    }
    // Kept in the background: the budget in force does not wait for the file.
    void this.saveLastGood();
    const before = JSON.stringify(this.current?.budget);
    this.current = result;
    this.logger.info(`Budget in force: ${JSON.stringify(result.budget)} from ${result.sources.map((s) => s.source).join(', ') || 'defaults'}.`);
    if (before !== JSON.stringify(result.budget)) this.changed.fire(result.budget);
    return result.budget;
  }

  /** Writes the last good budgets when they changed, one write after another. */
  private saveLastGood(): Promise<void> {
    const text = JSON.stringify(this.store.remembered());
    if (text === this.savedLastGood) return this.saving;
    this.savedLastGood = text;
    this.saving = this.saving.then(() => this.writeLastGood(text));
    return this.saving;
  }

  private async writeLastGood(text: string): Promise<void> {
    try {
      await mkdir(dirname(this.lastGoodPath), { recursive: true });
      const temporary = `${this.lastGoodPath}.${process.pid}.tmp`;
      await writeFile(temporary, text);
      await rename(temporary, this.lastGoodPath);
    } catch (err) {
      this.logger.warn(`Could not keep the last good budget in ${this.lastGoodPath}: ${(err as Error).message}`);
    }
  }

  dispose(): void {
    if (this.reloadTimer) clearTimeout(this.reloadTimer);
    for (const d of this.disposables.splice(0)) d.dispose();
  }

  private scheduleReload(): void {
    if (this.reloadTimer) clearTimeout(this.reloadTimer);
    this.reloadTimer = setTimeout(() => {
      this.reloadTimer = undefined;
      void this.reload();
    }, 150);
  }

  private async showProblem(message: string, source: string, line: number | undefined): Promise<void> {
    const isFile = source !== 'env' && source !== 'settings';
    const open = isFile ? 'Open File' : 'Open Settings';
    const choice = await vscode.window.showErrorMessage(`Codex Token Meter: ${message}`, open);
    if (choice === 'Open File') {
      const document = await vscode.workspace.openTextDocument(vscode.Uri.file(source));
      const position = new vscode.Position(Math.max(0, (line ?? 1) - 1), 0);
      await vscode.window.showTextDocument(document, { selection: new vscode.Range(position, position) });
    } else if (choice === 'Open Settings') {
      await vscode.commands.executeCommand('workbench.action.openSettings', 'codexTokenMeter');
    }
  }
}

