import { join } from 'node:path';
import * as vscode from 'vscode';
import { CrossingTracker, type CrossingState, evaluateBudget, periodWindow } from '../core/budget/index.js';
import { defaultCodexHome } from '../core/discovery.js';
import { type Logger } from '../core/logger.js';
import { MeterCacheStore } from '../core/meterCache.js';
import { isValidTimeZone, systemTimeZone, usableTimeZone } from '../core/timeZones.js';
import { BudgetController } from './budgetController.js';
import { LastSessionMeter } from './lastSessionMeter.js';
import { meterCacheKey } from './meterCacheKey.js';
import { meterView, scanningView } from './meterText.js';
import { StatusBarMeter } from './statusBarMeter.js';
import { TokenPanel } from './tokenPanel.js';
import { UsageClient } from './usageClient.js';

const RESET_KEY = 'codexTokenMeter.periodResetAt';
const CROSSINGS_KEY = 'codexTokenMeter.crossings';

let active: { dispose(): Promise<void> } | undefined;

function channelLogger(channel: vscode.LogOutputChannel): Logger {
  return {
    trace: (m) => channel.trace(m),
    debug: (m) => channel.debug(m),
    info: (m) => channel.info(m),
    warn: (m) => channel.warn(m),
    error: (m) => channel.error(m),
  };
}

function settings(): { extraRoots: string[]; priceOverrides: Record<string, unknown>; timeZone: string } {
  const config = vscode.workspace.getConfiguration('codexTokenMeter');
  const zone = config.get<string | null>('timeZone') ?? undefined;
  // Settings values are proxies that cannot cross to the worker thread: copy them as plain JSON.
  const plain = <T>(value: T): T => JSON.parse(JSON.stringify(value ?? null)) as T;
  return {
    extraRoots: plain(config.get<string[]>('extraRoots') ?? []).filter((r) => typeof r === 'string' && r.trim() !== ''),
    priceOverrides: plain(config.get<Record<string, unknown>>('priceOverrides') ?? {}),
    timeZone: zone && isValidTimeZone(zone) ? zone : usableTimeZone(systemTimeZone()),
  };
}

/**
 * Activation returns at once: the status bar shows the last session's figures as soon as they are
 * read (the meter cache, tens of KiB), or a spinner while the scan worker reads the logs in the
 * background; everything else follows from the worker's events and the budget's changes.
 */
export function activate(context: vscode.ExtensionContext): void {
  const started = Date.now();
  const channel = vscode.window.createOutputChannel('Codex Token Meter', { log: true });
  const logger = channelLogger(channel);
  const codexHome = defaultCodexHome(process.env);
  const initial = settings();
  const meter = new StatusBarMeter();
  meter.show(scanningView(0, 0));
  const workerConfig = {
    roots: [codexHome, ...initial.extraRoots],
    statePath: join(context.globalStorageUri.fsPath, 'scan-state.json'),
    priceOverrides: initial.priceOverrides,
    timeZone: initial.timeZone,
  };
  // The worker first, so that its thread starts while this one reads the last session's figures.
  const client = new UsageClient(join(context.extensionPath, 'dist', 'scanWorker.js'), workerConfig, logger);
  const lastSession = new LastSessionMeter(MeterCacheStore.beside(workerConfig.statePath, logger));
  const budgets = new BudgetController(codexHome, process.env, logger, join(context.globalStorageUri.fsPath, 'last-good-budgets.json'));
  const panel = new TokenPanel(context.extensionUri, client, logger);
  const tracker = new CrossingTracker(context.globalState.get<CrossingState>(CROSSINGS_KEY));
  let scanned = false;
  /** Whether the meter shows the last session's figures (until the first scan ends). */
  let showingLastSession = false;
  let timeZone = initial.timeZone;
  let refreshTimer: NodeJS.Timeout | undefined;

  const resetAt = (): Date | undefined => {
    const iso = context.globalState.get<string>(RESET_KEY);
    return iso ? new Date(iso) : undefined;
  };

  const refresh = async (): Promise<void> => {
    const budget = budgets.budget;
    const reset = resetAt();
    // Until the first scan ends, the last session's figures (when there are any for this period).
    const fromLastSession = !scanned;
    // One instant for the figures and the period's label, so that both are of the same period.
    const now = new Date();
    const window = periodWindow(budget.period, now, timeZone, reset);
    const summary = fromLastSession ? lastSession.summary(window) : await client.meter(budget.period, reset);
    if (!summary) return;
    const status = evaluateBudget(budget, {
      totalTokens: summary.totalTokens,
      costUsd: summary.costUsd,
      estimatedTokens: summary.estimatedTokens,
      perAgent: summary.agents.map((a) => ({ agent: a.agent, totalTokens: a.totalTokens })),
    });
    const known = fromLastSession ? lastSession.state : 'checked';
    meter.show(meterView({ summary, budget, status, periodLabel: window.label, periodEnds: window.end, now, ...(known === 'checked' ? {} : { lastSession: known }) }));
    if (fromLastSession && !showingLastSession) {
      showingLastSession = true;
      logger.info(`Showing the last session's figures ${Date.now() - started} ms after activation${known === 'unchecked' ? ', while the scan worker checks the rollouts for anything new' : ''}.`);
    }
    client.setBudget({ ...budget, resetAt: reset?.toISOString() });
    // Warnings come from figures known to be current, never from the last session's unchecked ones.
    if (known !== 'checked') return;
    const crossings = tracker.update(status, budget, window.key, window.label);
    if (crossings.length > 0) await context.globalState.update(CROSSINGS_KEY, tracker.snapshot);
    for (const crossing of crossings) {
      logger.warn(crossing.message);
      const show = crossing.level === 'exceeded' ? vscode.window.showErrorMessage : vscode.window.showWarningMessage;
      void show(crossing.message, 'Open Token Panel', 'Adjust Budget').then((choice) => {
        if (choice === 'Open Token Panel') panel.show();
        else if (choice === 'Adjust Budget') void vscode.commands.executeCommand('codexTokenMeter.setBudget');
      });
    }
  };

  const scheduleRefresh = (delay = 50): void => {
    if (refreshTimer) clearTimeout(refreshTimer);
    refreshTimer = setTimeout(() => {
      refreshTimer = undefined;
      refresh().catch((err: unknown) => logger.error(`Could not update the meter: ${(err as Error).message}`));
    }, delay);
  };

  context.subscriptions.push(
    channel,
    meter,
    budgets,
    panel,
    client.onProgress(({ done, total }) => {
      if (!scanned && !showingLastSession) meter.show(scanningView(done, total));
    }),
    client.onScanned((s) => {
      scanned = true;
      logger.info(`Scan finished: ${s.files} files, ${s.bytesRead} new bytes read in ${s.millis} ms.`);
    }),
    client.onLastSession((s) => {
      lastSession.confirm(s.meter);
      logger.info(`The last session's figures are current: nothing new in ${s.files} rollout files (checked by the worker in ${s.millis} ms, ${Date.now() - started} ms after activation).`);
      if (!scanned) void refresh().catch((err: unknown) => logger.error(`Could not update the meter: ${(err as Error).message}`));
    }),
    client.onLastSessionStale(({ reason }) => {
      lastSession.markStale();
      if (!showingLastSession || scanned) return;
      logger.info(`The last session's figures are out of date (${reason}); the meter shows them until the scan has read what changed.`);
      void refresh().catch((err: unknown) => logger.error(`Could not update the meter: ${(err as Error).message}`));
    }),
    client.onDidChange(() => scheduleRefresh()),
    budgets.onDidChange(() => scheduleRefresh(0)),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('codexTokenMeter.extraRoots') || e.affectsConfiguration('codexTokenMeter.priceOverrides') || e.affectsConfiguration('codexTokenMeter.timeZone')) {
        const next = settings();
        timeZone = next.timeZone;
        lastSession.forget();
        if (!scanned && showingLastSession) meter.show(scanningView(0, 0));
        showingLastSession = false;
        void client.configure(next.priceOverrides, next.extraRoots, next.timeZone).then(() => scheduleRefresh(0));
      }
    }),
    vscode.commands.registerCommand('codexTokenMeter.openPanel', () => panel.show()),
    vscode.commands.registerCommand('codexTokenMeter.exportUsage', () => panel.exportCurrentView()),
    vscode.commands.registerCommand('codexTokenMeter.showLog', () => channel.show(true)),
    vscode.commands.registerCommand('codexTokenMeter.openSettings', () => vscode.commands.executeCommand('workbench.action.openSettings', 'codexTokenMeter')),
    vscode.commands.registerCommand('codexTokenMeter.rescan', async () => {
      await client.rescan();
      scheduleRefresh(0);
    }),
    vscode.commands.registerCommand('codexTokenMeter.resetBudgetPeriod', async () => {
      const now = new Date();
      await context.globalState.update(RESET_KEY, now.toISOString());
      logger.info(`Budget period reset at ${now.toISOString()}.`);
      scheduleRefresh(0);
      void vscode.window.showInformationMessage('Codex Token Meter: a new budget period starts now.');
    }),
    vscode.commands.registerCommand('codexTokenMeter.setBudget', async () => {
      const current = budgets.budget.totalBudget;
      const value = await vscode.window.showInputBox({
        title: 'Codex token budget per period',
        prompt: `Tokens per ${budgets.budget.period} (0 = unlimited). Stored in your user settings.`,
        value: String(current),
        validateInput: (text) => (/^\s*\d[\d_,]*\s*$/.test(text) ? undefined : 'Enter a whole number of tokens, 0 or more (e.g. 5000000).'),
      });
      if (value === undefined) return;
      const tokens = Number(value.replace(/[\s_,]/g, ''));
      await vscode.workspace.getConfiguration('codexTokenMeter').update('totalBudget', tokens, vscode.ConfigurationTarget.Global);
      logger.info(`Budget set to ${tokens} tokens in the user settings.`);
    }),
  );

  // Once the budget is read, the meter: the last session's figures until the first scan ends (read
  // now, after activation returned, though at once: the read is synchronous, a few ms for tens of KiB).
  void budgets.reload().then(() => {
    if (!scanned) lastSession.load(meterCacheKey(workerConfig));
    return refresh();
  }).catch((err: unknown) => logger.error(`Could not update the meter: ${(err as Error).message}`));
  active = { dispose: () => client.dispose() };
  logger.info(`Activated in ${Date.now() - started} ms; reading ${codexHome}${initial.extraRoots.length ? ` and ${initial.extraRoots.join(', ')}` : ''}.`);
}

export async function deactivate(): Promise<void> {
  await active?.dispose();
  active = undefined;
}
