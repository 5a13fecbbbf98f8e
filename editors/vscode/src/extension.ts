// Tierline for VS Code: starts `tierline serve`, lets vscode-languageclient (LSP 3.18
// inlineCompletion) show its completions, mirrors the `tierline.*` settings to the server, and
// shows what each completion cost in the status bar and a report. This file only wires the parts:
// server.ts (lifecycle, settings to the server), status.ts (status bar, `tierline.stats`),
// commands.ts (every command), reportView.ts (the report webview).
import * as vscode from "vscode";
import { LanguageClient } from "vscode-languageclient/node";
import { TierlineCommands } from "./commands";
import { currentSettings } from "./config";
import { Route, Stats, StatusView } from "./format";
import { ReportView } from "./reportView";
import { TierlineServer } from "./server";
import { Resolution } from "./serverCommand";
import { Nested } from "./settings";
import { TierlineStatus } from "./status";

/** What the extension returns from `activate`: used by its tests, handy for other extensions. */
export interface TierlineApi {
  readonly client: LanguageClient | undefined;
  readonly resolution: Resolution | undefined;
  readonly lastRoute: Route | undefined;
  readonly lastStats: Stats | undefined;
  readonly lastNotification: string | undefined;
  readonly status: StatusView & { backgroundColor: string | undefined };
  readonly onDidRoute: vscode.Event<Route>;
  readonly onDidRefresh: vscode.Event<Stats | undefined>;
  /** Resolves once the current start attempt has either reached Running or failed. */
  whenStarted(): Promise<void>;
  explicitSettings(): Nested;
  executeServerCommand<T = unknown>(command: string, args?: unknown[]): Promise<T>;
  refreshStats(): Promise<Stats | undefined>;
  reportHtml(): string | undefined;
  /** `tierline.snoozeCompletions`: minutes (0 resumes), or undefined to ask with a quick pick. */
  snooze(minutes?: number): Promise<boolean>;
}

let server: TierlineServer | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<TierlineApi> {
  const log = vscode.window.createOutputChannel("Tierline", { log: true });
  const s = new TierlineServer(log);
  const status = new TierlineStatus(s, log);
  s.listen(status);
  const report = new ReportView(s, status);
  const commands = new TierlineCommands(s, status, report, log);
  server = s;
  context.subscriptions.push(
    log,
    status,
    report,
    ...commands.register(),
    vscode.workspace.onDidChangeConfiguration((e) => s.onConfigurationChanged(e)),
    vscode.window.onDidChangeWindowState((state) => state.focused && status.onFocus()),
    // Trusting the folder in VS Code is the user's explicit act: record it with `tierline trust`.
    vscode.workspace.onDidGrantWorkspaceTrust(() => void commands.trustWorkspace()),
  );
  void s.start();
  return {
    get client() {
      return s.client;
    },
    get resolution() {
      return s.resolution;
    },
    get lastRoute() {
      return status.lastRoute;
    },
    get lastStats() {
      return status.lastStats;
    },
    get lastNotification() {
      return s.lastNotification;
    },
    get status() {
      return status.status;
    },
    onDidRoute: status.onDidRoute,
    onDidRefresh: status.onDidRefresh,
    whenStarted: () => s.whenStarted(),
    explicitSettings: currentSettings,
    executeServerCommand: (command, args) => s.executeServerCommand(command, args),
    refreshStats: () => status.refreshStats(),
    reportHtml: () => report.html(),
    snooze: (minutes) => commands.snooze(minutes),
  };
}

export async function deactivate(): Promise<void> {
  await server?.close();
  server = undefined;
}
