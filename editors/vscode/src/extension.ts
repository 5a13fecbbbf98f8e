// Tierline for VS Code: starts `tierline serve`, lets vscode-languageclient (LSP 3.18
// inlineCompletion) show its completions, mirrors the `tierline.*` settings to the server, and
// shows what each completion cost in the status bar and a report.
import { execFile } from "child_process";
import { randomBytes } from "crypto";
import * as vscode from "vscode";
import {
  DidChangeConfigurationNotification,
  ExecuteCommandRequest,
  LanguageClient,
  LanguageClientOptions,
  MessageType,
  RevealOutputChannelOn,
  ServerOptions,
  ShowMessageNotification,
  State,
} from "vscode-languageclient/node";
import { Route, Stats, StatusView, failedAttempts, score, served, statusView, usd } from "./format";
import { reportHtml } from "./report";
import { INSTALL_COMMAND, Resolution, resolveServerCommand } from "./serverCommand";
import { Nested, explicitSettings, section } from "./settings";
import { CMD_CLEAR_CACHE, CMD_ESCALATE, CMD_SNOOZE, CMD_STATS, DID_ROUTE, isStorageFault } from "./wire";
import { isManual, snoozeArgument, snoozeChoices, snoozeEnd, snoozeLabel } from "./eagerness";

const STATS_DEBOUNCE_MS = 250;

/** A LanguageClient whose own error pop-ups are replaced by ours (one clear notification). */
class TierlineClient extends LanguageClient {
  onForcedError: ((message: string) => void) | undefined;

  override error(message: string, data?: unknown, showNotification: boolean | "force" = true): void {
    super.error(message, data, false);
    if (showNotification === "force") this.onForcedError?.(message);
  }
}

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

class Tierline implements TierlineApi {
  client: TierlineClient | undefined;
  resolution: Resolution | undefined;
  lastRoute: Route | undefined;
  lastStats: Stats | undefined;
  lastNotification: string | undefined;

  private serverDown: string | undefined = "starting";
  private escalatePending = false;
  private storageFaults: string[] = [];
  private started: Promise<void> = Promise.resolve();
  private statsTimer: NodeJS.Timeout | undefined;
  private snoozeTimer: NodeJS.Timeout | undefined;
  private notifying = false;
  private panel: vscode.WebviewPanel | undefined;
  private view: StatusView;
  private readonly item: vscode.StatusBarItem;
  private readonly routeEmitter = new vscode.EventEmitter<Route>();
  private readonly refreshEmitter = new vscode.EventEmitter<Stats | undefined>();
  readonly onDidRoute = this.routeEmitter.event;
  readonly onDidRefresh = this.refreshEmitter.event;

  constructor(
    private readonly context: vscode.ExtensionContext,
    readonly log: vscode.LogOutputChannel,
  ) {
    this.item = vscode.window.createStatusBarItem("tierline.status", vscode.StatusBarAlignment.Right, 100);
    this.item.name = "Tierline";
    this.item.command = "tierline.showReport";
    this.view = this.render();
    this.item.show();
    context.subscriptions.push(this.item, this.routeEmitter, this.refreshEmitter);
  }

  get status(): StatusView & { backgroundColor: string | undefined } {
    const bg = this.item.backgroundColor as vscode.ThemeColor | undefined;
    return { ...this.view, backgroundColor: bg ? (bg as unknown as { id: string }).id : undefined };
  }

  // --- settings -------------------------------------------------------------------------------

  private config(): vscode.WorkspaceConfiguration {
    return vscode.workspace.getConfiguration("tierline", vscode.workspace.workspaceFolders?.[0]?.uri);
  }

  explicitSettings(): Nested {
    return explicitSettings(this.config());
  }

  private sendSettings(): void {
    const client = this.client;
    if (!client || client.state !== State.Running) return; // initializationOptions carry them at start
    const settings = this.explicitSettings();
    this.log.info(`settings -> server: ${JSON.stringify(settings)}`);
    void client
      .sendNotification(DidChangeConfigurationNotification.type, { settings: { tierline: settings } })
      .catch((err) => this.log.error(`didChangeConfiguration failed: ${err}`));
  }

  onConfigurationChanged(e: vscode.ConfigurationChangeEvent): void {
    if (e.affectsConfiguration("tierline.server")) {
      this.log.info("tierline.server.command changed: restarting the server");
      void this.restart();
    } else if (e.affectsConfiguration("tierline")) {
      this.sendSettings();
    }
  }

  // --- server lifecycle -----------------------------------------------------------------------

  whenStarted(): Promise<void> {
    return this.started;
  }

  start(): Promise<void> {
    this.started = this.doStart();
    return this.started;
  }

  private async doStart(): Promise<void> {
    this.serverDown = "starting";
    this.storageFaults = []; // a new server process reports its own
    this.update();
    const configured = this.config().get<string[]>("server.command");
    const resolution = await resolveServerCommand(
      configured,
      vscode.workspace.workspaceFolders?.[0]?.uri,
      (m) => this.log.info(m),
    );
    this.resolution = resolution;
    if (!resolution.ok) {
      this.serverDown = resolution.problem;
      this.log.error(`Cannot start the server: ${resolution.problem}`);
      this.update();
      void this.notifyFailure(resolution.problem, true);
      return;
    }
    this.log.info(`Starting ${[resolution.command, ...resolution.args].join(" ")} (from ${resolution.source})`);

    const serverOptions: ServerOptions = {
      command: resolution.command,
      args: resolution.args,
      options: { env: { ...process.env } },
    };
    const clientOptions: LanguageClientOptions = {
      documentSelector: [{ scheme: "file" }, { scheme: "untitled" }],
      outputChannel: this.log,
      revealOutputChannelOn: RevealOutputChannelOn.Never,
      // No trust claim here: the server ignores one (anything could send it); trustWorkspace runs `tierline trust`.
      initializationOptions: this.explicitSettings(),
      middleware: {
        provideInlineCompletionItems: (document, position, context, token, next) => {
          // Manual mode (for this language): only explicit requests (Alt+\ / "Trigger Inline Suggestion").
          if (
            isManual(this.explicitSettings(), document.languageId) &&
            context.triggerKind === vscode.InlineCompletionTriggerKind.Automatic
          ) {
            return null;
          }
          return next(document, position, context, token);
        },
        workspace: {
          // A server that pulls `workspace/configuration` gets the explicit values only, too.
          configuration: async (params, token, next) => {
            const answer = await next(params, token);
            if (!Array.isArray(answer)) return answer;
            const explicit = this.explicitSettings();
            return params.items.map((item, i) => {
              const s = item.section ?? "";
              if (s === "tierline") return explicit;
              if (s.startsWith("tierline.")) return section(explicit, s.slice("tierline.".length)) ?? null;
              return answer[i];
            });
          },
          // Never let the client push the full section (defaults included); sendSettings does it.
          didChangeConfiguration: async () => undefined,
        },
      },
    };
    const client = new TierlineClient("tierline", "Tierline", serverOptions, clientOptions);
    this.client = client;
    client.onForcedError = (message) => {
      if (this.client !== client) return;
      this.serverDown = message;
      this.update();
      void this.notifyFailure(message, false);
    };
    this.context.subscriptions.push(
      client.onDidChangeState((e) => {
        if (this.client !== client) return;
        if (e.newState === State.Running) {
          this.serverDown = undefined;
          this.scheduleStats(0);
        } else if (e.newState === State.Stopped) {
          this.serverDown ??= "the server stopped";
        } else if (e.newState === State.Starting) {
          this.serverDown = "starting";
        }
        this.update();
      }),
      client.onNotification(DID_ROUTE, (params: Route) => this.onRoute(params)),
      // Replaces the client's own handler: shown the same way, and a storage fault warns in the status bar.
      client.onNotification(ShowMessageNotification.type, (params) => this.onServerMessage(params.type, params.message)),
    );
    try {
      await client.start();
      this.log.info(`Server running (${client.initializeResult?.serverInfo?.name ?? "tierline"} ${client.initializeResult?.serverInfo?.version ?? ""})`);
    } catch (err) {
      this.serverDown = this.serverDown && this.serverDown !== "starting" ? this.serverDown : `${err}`;
      this.update();
    }
  }

  async stop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (client) {
      try {
        if (client.state !== State.Stopped) await client.stop(3000);
      } catch (err) {
        this.log.warn(`Stopping the server: ${err}`);
      }
      await client.dispose(1000).catch(() => undefined);
    }
    this.serverDown = "stopped";
    this.update();
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  /** Runs `tierline trust <folder>` (the server command with `trust` in place of `serve`): the one way
   * a workspace's .tierline.toml gets trusted, bound to its content. Then restarts to apply it. */
  async trustWorkspace(): Promise<void> {
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
    const resolution = this.resolution;
    if (!folder || !resolution?.ok) {
      void vscode.window.showWarningMessage("Tierline: no workspace folder or server command; run `tierline trust DIR` in a shell.");
      return;
    }
    const serve = resolution.args.indexOf("serve");
    const args = [...(serve >= 0 ? resolution.args.slice(0, serve) : resolution.args), "trust", folder];
    const result = await new Promise<{ ok: boolean; output: string }>((resolve) => {
      execFile(resolution.command, args, { timeout: 30000, windowsHide: true }, (err, stdout, stderr) =>
        resolve({ ok: !err, output: String(err ? stderr || err.message : stdout).trim() }),
      );
    });
    this.log.info(`tierline trust ${folder}: ${result.output}`);
    if (!result.ok) {
      void vscode.window.showErrorMessage(`Tierline: trust failed: ${result.output}`);
      return;
    }
    await this.restart();
  }

  private async notifyFailure(problem: string, notFound: boolean): Promise<void> {
    const message = notFound
      ? `Tierline: cannot start the language server: ${problem}. Install it from the tierline checkout: ${INSTALL_COMMAND}, ` +
        `or set "tierline.server.command" to the command that runs "tierline serve".`
      : `Tierline: the language server failed: ${problem} If tierline is not installed: ${INSTALL_COMMAND}. ` +
        `The command is set by "tierline.server.command".`;
    this.lastNotification = message;
    if (this.notifying) return; // one at a time
    this.notifying = true;
    try {
      const pick = await vscode.window.showErrorMessage(message, "Open setting", "Show log", "Restart server");
      if (pick === "Open setting") {
        await vscode.commands.executeCommand("workbench.action.openSettings", "tierline.server.command");
      } else if (pick === "Show log") {
        this.log.show(true);
      } else if (pick === "Restart server") {
        await this.restart();
      }
    } finally {
      this.notifying = false;
    }
  }

  // --- routing notifications, stats, status bar -----------------------------------------------

  private onRoute(route: Route): void {
    this.lastRoute = route;
    this.escalatePending = false;
    const failed = failedAttempts(route);
    this.log.info(
      `route: ${route.tier} ${route.model ?? "-"} score=${score(route.score)} ` +
        `${served(route)} ${usd(route.cost_usd)}` +
        (failed.length ? ` failed: ${failed.map((a) => `${a.model}=${a.outcome}`).join(", ")}` : ""),
    );
    this.update();
    this.routeEmitter.fire(route);
    this.scheduleStats(STATS_DEBOUNCE_MS);
  }

  private onServerMessage(type: MessageType, message: string): void {
    if (type === MessageType.Error) void vscode.window.showErrorMessage(message);
    else if (type === MessageType.Warning) void vscode.window.showWarningMessage(message);
    else void vscode.window.showInformationMessage(message);
    if (isStorageFault(type, message) && !this.storageFaults.includes(message)) {
      this.storageFaults.push(message);
      this.update();
      this.scheduleStats(STATS_DEBOUNCE_MS);
    }
  }

  private scheduleStats(delayMs: number): void {
    if (this.statsTimer) clearTimeout(this.statsTimer);
    this.statsTimer = setTimeout(() => {
      this.statsTimer = undefined;
      void this.refreshStats();
    }, delayMs);
  }

  async refreshStats(): Promise<Stats | undefined> {
    try {
      this.lastStats = await this.executeServerCommand<Stats>(CMD_STATS);
    } catch (err) {
      this.log.warn(`tierline.stats failed: ${err}`);
    }
    this.update();
    this.renderReport();
    this.refreshEmitter.fire(this.lastStats);
    this.watchSnooze();
    return this.lastStats;
  }

  /** Back in this window: a snooze set or ended in another window (it is the user's) shows here. */
  onFocus(): void {
    if (this.client?.state === State.Running) this.scheduleStats(STATS_DEBOUNCE_MS);
  }

  /** While snoozed, look again when the snooze ends, so the status bar says so. */
  private watchSnooze(): void {
    if (this.snoozeTimer) clearTimeout(this.snoozeTimer);
    this.snoozeTimer = undefined;
    const end = snoozeEnd(this.lastStats?.snoozed_until, Date.now());
    if (end !== undefined) {
      this.snoozeTimer = setTimeout(() => void this.refreshStats(), Math.min(end - Date.now() + 1000, 2 ** 31 - 1));
    }
  }

  private render(): StatusView {
    return statusView({
      serverDown: this.serverDown === "starting" && !this.client ? undefined : this.serverDown,
      route: this.lastRoute,
      stats: this.lastStats,
      escalatePending: this.escalatePending,
      storageFaults: this.storageFaults,
    });
  }

  private update(): void {
    if (this.serverDown === "starting") {
      this.view = { text: "$(sync~spin) tierline", tooltip: "Tierline: starting the server", warning: false, reasons: [] };
    } else {
      this.view = this.render();
    }
    this.item.text = this.view.text;
    this.item.accessibilityInformation = {
      label: `Tierline: ${this.view.text.replace(/\$\([^)]*\)\s*/g, "").trim()}`,
      role: "button",
    };
    const tooltip = new vscode.MarkdownString(this.view.tooltip, true);
    this.item.tooltip = tooltip;
    this.item.backgroundColor = this.view.warning ? new vscode.ThemeColor("statusBarItem.warningBackground") : undefined;
  }

  // --- commands --------------------------------------------------------------------------------

  async executeServerCommand<T = unknown>(command: string, args: unknown[] = []): Promise<T> {
    const client = this.client;
    if (!client || client.state !== State.Running) {
      throw new Error(`the Tierline server is not running${this.serverDown ? ` (${this.serverDown})` : ""}`);
    }
    return (await client.sendRequest(ExecuteCommandRequest.type, { command, arguments: args })) as T;
  }

  /** Runs a user command; a failure is logged and shown. Resolves to whether it worked. */
  private async userCommand(what: string, fn: () => Promise<void>): Promise<boolean> {
    try {
      await fn();
      return true;
    } catch (err) {
      this.log.error(`${what}: ${err}`);
      void vscode.window
        .showWarningMessage(`Tierline: ${what} failed: ${err instanceof Error ? err.message : err}`, "Show log")
        .then((pick) => pick === "Show log" && this.log.show(true));
      return false;
    }
  }

  escalateNext(): Promise<boolean> {
    return this.userCommand("escalate", async () => {
      await this.executeServerCommand(CMD_ESCALATE);
      this.escalatePending = true;
      this.update();
      vscode.window.setStatusBarMessage("Tierline: the next completion goes to the premium tier", 4000);
    });
  }

  clearCache(): Promise<boolean> {
    return this.userCommand("clear cache", async () => {
      await this.executeServerCommand(CMD_CLEAR_CACHE);
      vscode.window.setStatusBarMessage("Tierline: cache cleared", 4000);
      await this.refreshStats();
    });
  }

  toggleAutomatic(): Promise<boolean> {
    return this.userCommand("toggle automatic completions", async () => {
      const config = this.config();
      const next = config.get<string>("completion.trigger") === "manual" ? "automatic" : "manual";
      const i = config.inspect<string>("completion.trigger");
      const target =
        i?.workspaceFolderValue !== undefined
          ? vscode.ConfigurationTarget.WorkspaceFolder
          : i?.workspaceValue !== undefined
            ? vscode.ConfigurationTarget.Workspace
            : vscode.ConfigurationTarget.Global;
      await config.update("completion.trigger", next, target);
      vscode.window.setStatusBarMessage(
        next === "manual"
          ? "Tierline: completions on request only (Trigger Inline Suggestion, Alt+\\)"
          : "Tierline: completions as you type",
        4000,
      );
    });
  }

  /** `tierline.snooze`: automatic completions stop calling a model for a while; asking still answers. */
  snooze(minutes?: number): Promise<boolean> {
    return this.userCommand("snooze", async () => {
      let chosen = snoozeArgument(minutes);
      if (chosen === undefined) {
        const snoozed = snoozeEnd(this.lastStats?.snoozed_until, Date.now()) !== undefined;
        const pick = await vscode.window.showQuickPick(snoozeChoices(snoozed), {
          placeHolder: "Snooze Tierline's automatic completions for (asking with Alt+\\ still answers)",
        });
        if (!pick) return;
        chosen = pick.minutes;
      }
      const answer = await this.executeServerCommand<{ snoozed_until: string | null }>(CMD_SNOOZE, [chosen]);
      await this.refreshStats();
      const label = snoozeLabel(answer?.snoozed_until, Date.now());
      vscode.window.setStatusBarMessage(label ? `Tierline: automatic completions ${label}` : "Tierline: completions resumed", 4000);
    });
  }

  reportHtml(): string | undefined {
    return this.panel?.webview.html;
  }

  private renderReport(error?: string): void {
    if (!this.panel) return;
    this.panel.webview.html = reportHtml({
      stats: this.lastStats,
      route: this.lastRoute,
      cspSource: this.panel.webview.cspSource,
      nonce: randomBytes(16).toString("base64"),
      error: error ?? (this.serverDown && this.serverDown !== "starting" ? `Server down: ${this.serverDown}` : undefined),
    });
  }

  async showReport(): Promise<void> {
    if (this.panel) {
      this.panel.reveal();
    } else {
      this.panel = vscode.window.createWebviewPanel("tierline.report", "Tierline report", vscode.ViewColumn.Active, {
        enableScripts: false,
        localResourceRoots: [],
      });
      this.panel.onDidDispose(() => (this.panel = undefined));
    }
    this.renderReport();
    if (this.client?.state === State.Running) await this.refreshStats();
  }
}

let tierline: Tierline | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<TierlineApi> {
  const log = vscode.window.createOutputChannel("Tierline", { log: true });
  context.subscriptions.push(log);
  const t = new Tierline(context, log);
  tierline = t;
  context.subscriptions.push(
    vscode.commands.registerCommand("tierline.escalateNext", () => t.escalateNext()),
    vscode.commands.registerCommand("tierline.showReport", () => t.showReport()),
    vscode.commands.registerCommand("tierline.clearCacheNow", () => t.clearCache()),
    vscode.commands.registerCommand("tierline.toggleAutomatic", () => t.toggleAutomatic()),
    vscode.commands.registerCommand("tierline.restartServer", () => t.restart()),
    // Not `tierline.snooze`: vscode-languageclient registers the server's own command under that name.
    vscode.commands.registerCommand("tierline.snoozeCompletions", (minutes?: unknown) =>
      t.snooze(typeof minutes === "number" ? minutes : undefined),
    ),
    vscode.commands.registerCommand("tierline.resumeCompletions", () => t.snooze(0)),
    vscode.window.onDidChangeWindowState((state) => state.focused && t.onFocus()),
    vscode.commands.registerCommand("tierline.showLog", () => log.show(true)),
    vscode.workspace.onDidChangeConfiguration((e) => t.onConfigurationChanged(e)),
    vscode.commands.registerCommand("tierline.trustWorkspace", () => t.trustWorkspace()),
    // Trusting the folder in VS Code is the user's explicit act: record it with `tierline trust`.
    vscode.workspace.onDidGrantWorkspaceTrust(() => void t.trustWorkspace()),
  );
  void t.start();
  return t;
}

export async function deactivate(): Promise<void> {
  await tierline?.stop();
  tierline = undefined;
}
