import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import { type Logger } from '../core/logger.js';
import { snapshotToCsv } from '../core/panelModel.js';
import { type HostMessage, PANEL_THREAD_ROWS, type PanelFilter, type PanelSnapshot, type PanelUiState } from '../shared/protocol.js';
import { diffSnapshot } from '../shared/snapshotDiff.js';
import { parseWebviewMessage } from './panelMessages.js';

export const PANEL_VIEW_TYPE = 'codexTokenMeter.panel';

/** Where the panel gets its figures: the host side of the usage service. */
export interface PanelDataSource {
  /** The figures of a view; at most `threadLimit` root threads (all when undefined). */
  snapshot(filter: PanelFilter, threadLimit?: number): Promise<PanelSnapshot>;
  readonly onDidChange: vscode.Event<void>;
}

/**
 * The token panel: one webview panel, restored across restarts by a serializer. The host is the
 * source of truth; it sends a snapshot when the panel opens, becomes visible, changes filter, or
 * when usage changes (debounced), and the webview keeps only UI state.
 */
export class TokenPanel implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  private filter: PanelFilter = { period: 'month' };
  /** What the webview holds now; undefined when it needs a whole snapshot (new, reloaded, or refiltered). */
  private webviewHolds: PanelSnapshot | undefined;
  private readonly disposables: vscode.Disposable[] = [];
  private updateTimer: NodeJS.Timeout | undefined;
  /** When the panel was opened, until its first figures are on screen (logged then). */
  private openedAt: number | undefined;
  private sending = Promise.resolve();

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly data: PanelDataSource,
    private readonly logger: Logger,
  ) {
    this.disposables.push(
      data.onDidChange(() => this.scheduleUpdate()),
      vscode.window.registerWebviewPanelSerializer(PANEL_VIEW_TYPE, {
        deserializeWebviewPanel: async (panel: vscode.WebviewPanel, state: PanelUiState | undefined) => {
          if (state?.filter) this.filter = state.filter;
          this.attach(panel);
        },
      }),
    );
  }

  /** Opens the panel, or brings it to the front. */
  show(): void {
    if (this.panel) {
      this.panel.reveal(undefined, false);
      return;
    }
    this.openedAt = Date.now();
    const panel = vscode.window.createWebviewPanel(PANEL_VIEW_TYPE, 'Codex Tokens', vscode.ViewColumn.Active, this.webviewOptions());
    this.attach(panel);
  }

  /** Asks where to save, then writes the current view as CSV or JSON. */
  async exportCurrentView(format?: 'csv' | 'json'): Promise<void> {
    const chosen = format ?? ((await vscode.window.showQuickPick(['CSV', 'JSON'], { title: 'Export Codex usage as' }))?.toLowerCase() as 'csv' | 'json' | undefined);
    if (!chosen) return;
    // Every thread of the view, also those a long view's snapshot leaves out (PANEL_THREAD_ROWS).
    const snapshot = await this.data.snapshot(this.filter);
    const target = await vscode.window.showSaveDialog({
      title: 'Export Codex usage',
      filters: chosen === 'csv' ? { CSV: ['csv'] } : { JSON: ['json'] },
      defaultUri: vscode.Uri.file(`codex-usage-${new Date().toISOString().slice(0, 10)}.${chosen}`),
    });
    if (!target) return;
    const text = chosen === 'csv' ? snapshotToCsv(snapshot) : `${JSON.stringify(snapshot, null, 2)}\n`;
    await vscode.workspace.fs.writeFile(target, Buffer.from(text, 'utf8'));
    this.logger.info(`Exported the current view (${snapshot.periodLabel}) as ${chosen.toUpperCase()} to ${target.fsPath}`);
    void vscode.window.showInformationMessage(`Codex usage exported to ${target.fsPath}`);
  }

  dispose(): void {
    if (this.updateTimer) clearTimeout(this.updateTimer);
    this.panel?.dispose();
    for (const d of this.disposables.splice(0)) d.dispose();
  }

  private webviewOptions(): vscode.WebviewPanelOptions & vscode.WebviewOptions {
    return {
      enableScripts: true,
      retainContextWhenHidden: false,
      localResourceRoots: [vscode.Uri.joinPath(this.extensionUri, 'dist', 'webview'), vscode.Uri.joinPath(this.extensionUri, 'media')],
    };
  }

  private attach(panel: vscode.WebviewPanel): void {
    this.panel = panel;
    panel.webview.options = this.webviewOptions();
    panel.iconPath = vscode.Uri.joinPath(this.extensionUri, 'media', 'icon.svg');
    panel.webview.html = this.html(panel.webview);
    panel.onDidDispose(() => {
      if (this.panel === panel) this.panel = undefined;
    }, undefined, this.disposables);
    panel.onDidChangeViewState((e) => {
      // A hidden webview is discarded (no retainContextWhenHidden): it says 'ready' when it is back.
      if (!e.webviewPanel.visible) this.webviewHolds = undefined;
      else this.scheduleUpdate(0);
    }, undefined, this.disposables);
    panel.webview.onDidReceiveMessage((raw) => this.onMessage(raw), undefined, this.disposables);
  }

  private onMessage(raw: unknown): void {
    const parsed = parseWebviewMessage(raw);
    if (!parsed.ok) {
      this.logger.warn(`Ignored a malformed message from the token panel (${parsed.reason}).`);
      return;
    }
    const message = parsed.message;
    switch (message.type) {
      case 'ready':
      case 'refresh':
        this.webviewHolds = undefined;
        this.scheduleUpdate(0);
        break;
      case 'setFilter':
        this.filter = message.filter;
        this.webviewHolds = undefined;
        this.scheduleUpdate(0);
        break;
      case 'export':
        void this.exportCurrentView(message.format);
        break;
      case 'openSettings':
        void vscode.commands.executeCommand('workbench.action.openSettings', 'codexTokenMeter');
        break;
      case 'rendered':
        if (this.openedAt !== undefined) {
          this.logger.info(`Token panel painted ${Date.now() - this.openedAt} ms after opening (${message.threads} threads).`);
          this.openedAt = undefined;
        }
        break;
    }
  }

  private scheduleUpdate(delay = 250): void {
    if (!this.panel) return;
    if (this.updateTimer) clearTimeout(this.updateTimer);
    this.updateTimer = setTimeout(() => {
      this.updateTimer = undefined;
      this.sending = this.sending.then(() => this.sendSnapshot());
    }, delay);
  }

  private async sendSnapshot(): Promise<void> {
    const panel = this.panel;
    if (!panel || !panel.visible) return;
    try {
      const asked = Date.now();
      const snapshot = await this.data.snapshot(this.filter, this.filter.threadRows ?? PANEL_THREAD_ROWS);
      this.logger.debug(`Token panel figures computed in ${Date.now() - asked} ms (${snapshot.periodLabel}).`);
      const held = this.webviewHolds;
      this.webviewHolds = snapshot;
      if (!held) {
        await panel.webview.postMessage({ type: 'snapshot', snapshot } satisfies HostMessage);
        return;
      }
      const changes = diffSnapshot(held, snapshot);
      if (changes) await panel.webview.postMessage({ type: 'update', changes } satisfies HostMessage);
    } catch (err) {
      this.logger.error(`Could not update the token panel: ${(err as Error).message}`);
      await panel.webview.postMessage({ type: 'error', message: `Could not compute the figures: ${(err as Error).message}` } satisfies HostMessage);
    }
  }

  private html(webview: vscode.Webview): string {
    const nonce = randomBytes(16).toString('base64');
    const script = webview.asWebviewUri(vscode.Uri.joinPath(this.extensionUri, 'dist', 'webview', 'panel.js'));
    const style = webview.asWebviewUri(vscode.Uri.joinPath(this.extensionUri, 'media', 'panel.css'));
    const csp = [
      "default-src 'none'",
      `style-src ${webview.cspSource}`,
      `font-src ${webview.cspSource}`,
      `img-src ${webview.cspSource}`,
      `script-src 'nonce-${nonce}'`,
    ].join('; ');
    return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${style.toString()}">
<title>Codex Tokens</title>
</head>
<body>
<h1 class="visually-hidden">Codex token usage</h1>
<div id="root"></div>
<script nonce="${nonce}" src="${script.toString()}"></script>
</body>
</html>`;
  }
}
