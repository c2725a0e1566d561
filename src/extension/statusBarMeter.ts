import * as vscode from 'vscode';
import { type MeterView, TOOLTIP_COMMANDS } from './meterText.js';

/** The one status bar item: text, colour from the budget level, Markdown tooltip, click to open the panel. */
export class StatusBarMeter implements vscode.Disposable {
  private readonly item: vscode.StatusBarItem;

  constructor() {
    this.item = vscode.window.createStatusBarItem('codexTokenMeter.status', vscode.StatusBarAlignment.Left, 100);
    this.item.name = 'Codex Token Meter';
    this.item.command = 'codexTokenMeter.openPanel';
    this.item.show();
  }

  show(view: MeterView): void {
    this.item.text = view.text;
    this.item.accessibilityInformation = { label: view.accessibility, role: 'button' };
    this.item.backgroundColor = view.level === 'error'
      ? new vscode.ThemeColor('statusBarItem.errorBackground')
      : view.level === 'warning' ? new vscode.ThemeColor('statusBarItem.warningBackground') : undefined;
    const tooltip = new vscode.MarkdownString(view.tooltip, true);
    tooltip.isTrusted = { enabledCommands: [...TOOLTIP_COMMANDS] };
    tooltip.supportHtml = false;
    this.item.tooltip = tooltip;
  }

  dispose(): void {
    this.item.dispose();
  }
}
