// The server's lifecycle: which command runs `tierline serve`, the LanguageClient that talks to it
// (its middleware keeps VS Code's defaults and automatic requests in manual mode away from the
// server), start, stop and restart one at a time (lifecycle.ts), the settings sent to a running
// server, and the one notification when it cannot start or fails.
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
import { currentSettings, tierlineConfig } from "./config";
import { isManual } from "./eagerness";
import { Route } from "./format";
import { Lifecycle } from "./lifecycle";
import { INSTALL_COMMAND, Resolution, resolveServerCommand } from "./serverCommand";
import { section } from "./settings";
import { DID_ROUTE } from "./wire";

/** A LanguageClient whose own error pop-ups are replaced by ours (one clear notification). */
export class TierlineClient extends LanguageClient {
  onForcedError: ((message: string) => void) | undefined;

  override error(message: string, data?: unknown, showNotification: boolean | "force" = true): void {
    super.error(message, data, false);
    if (showNotification === "force") this.onForcedError?.(message);
  }
}

/** What the status bar (status.ts) hears from the server. */
export interface ServerListener {
  /** `down` changed: starting, running, or why not. */
  onHealth(): void;
  /** A new server process is starting: it reports its own storage faults. */
  onStarting(): void;
  /** The client reached Running. */
  onRunning(): void;
  onRoute(route: Route): void;
  /** A `window/showMessage` from the server (shown by the listener). */
  onMessage(type: MessageType, message: string): void;
}

export class TierlineServer {
  resolution: Resolution | undefined;
  lastNotification: string | undefined;
  /** Why the server is not serving: "starting", "stopped", a problem; undefined while it runs. */
  down: string | undefined = "starting";

  private notifying = false;
  private listener: ServerListener | undefined;
  private readonly lifecycle = new Lifecycle<TierlineClient>({
    create: () => this.create(),
    start: (client) => this.startClient(client),
    stop: (client) => this.stopClient(client),
  });
  /** Per client: its event subscriptions and the settings it was started with. */
  private readonly attached = new Map<TierlineClient, { disposables: vscode.Disposable[]; settings: string }>();

  constructor(private readonly log: vscode.LogOutputChannel) {}

  /** Set once by extension.ts, before the first start. */
  listen(listener: ServerListener): void {
    this.listener = listener;
  }

  get client(): TierlineClient | undefined {
    return this.lifecycle.client;
  }

  get running(): boolean {
    return this.client?.state === State.Running;
  }

  /** Resolves once every start, stop and restart asked for so far is done (running or failed). */
  whenStarted(): Promise<void> {
    return this.lifecycle.settled();
  }

  start(): Promise<void> {
    return this.lifecycle.start();
  }

  restart(): Promise<void> {
    return this.lifecycle.restart();
  }

  /** Deactivation: stops the server, and no restart queued or asked for later starts one. */
  close(): Promise<void> {
    return this.lifecycle.close();
  }

  /** A settings change: `tierline.server.*` restarts the server, others are sent to it. */
  onConfigurationChanged(e: vscode.ConfigurationChangeEvent): void {
    if (e.affectsConfiguration("tierline.server")) {
      this.log.info("tierline.server.command changed: restarting the server");
      void this.restart();
    } else if (e.affectsConfiguration("tierline")) {
      this.sendSettings();
    }
  }

  /** The explicit settings to the running server; a client still starting gets them once it runs. */
  sendSettings(): void {
    const client = this.client;
    if (!client || client.state !== State.Running) return; // initializationOptions carry them at start
    const settings = currentSettings();
    const attached = this.attached.get(client);
    if (attached) attached.settings = JSON.stringify(settings);
    this.log.info(`settings -> server: ${JSON.stringify(settings)}`);
    void client
      .sendNotification(DidChangeConfigurationNotification.type, { settings: { tierline: settings } })
      .catch((err) => this.log.error(`didChangeConfiguration failed: ${err}`));
  }

  async executeServerCommand<T = unknown>(command: string, args: unknown[] = []): Promise<T> {
    const client = this.client;
    if (!client || client.state !== State.Running) {
      throw new Error(`the Tierline server is not running${this.down ? ` (${this.down})` : ""}`);
    }
    return (await client.sendRequest(ExecuteCommandRequest.type, { command, arguments: args })) as T;
  }

  private setDown(down: string | undefined): void {
    this.down = down;
    this.listener?.onHealth();
  }

  private async create(): Promise<TierlineClient | undefined> {
    this.listener?.onStarting();
    this.setDown("starting");
    const resolution = await resolveServerCommand(
      tierlineConfig().get<string[]>("server.command"),
      vscode.workspace.workspaceFolders?.[0]?.uri,
      (m) => this.log.info(m),
    );
    this.resolution = resolution;
    if (!resolution.ok) {
      this.log.error(`Cannot start the server: ${resolution.problem}`);
      this.setDown(resolution.problem);
      void this.notifyFailure(resolution.problem, true);
      return undefined;
    }
    this.log.info(`Starting ${[resolution.command, ...resolution.args].join(" ")} (from ${resolution.source})`);
    const settings = currentSettings();
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
      initializationOptions: settings,
      middleware: {
        provideInlineCompletionItems: (document, position, context, token, next) => {
          // Manual mode (for this language): only explicit requests (Alt+\ / "Trigger Inline Suggestion").
          if (
            isManual(currentSettings(), document.languageId) &&
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
            const explicit = currentSettings();
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
    client.onForcedError = (message) => {
      if (this.client !== client) return;
      this.setDown(message);
      void this.notifyFailure(message, false);
    };
    const disposables = [
      client.onDidChangeState((e) => {
        if (this.client !== client) return;
        if (e.newState === State.Running) {
          this.setDown(undefined);
          this.listener?.onRunning();
        } else if (e.newState === State.Stopped) {
          this.setDown(this.down ?? "the server stopped");
        } else if (e.newState === State.Starting) {
          this.setDown("starting");
        }
      }),
      client.onNotification(DID_ROUTE, (params: Route) => this.listener?.onRoute(params)),
      // Replaces the client's own handler: shown the same way, and a storage fault warns in the status bar.
      client.onNotification(ShowMessageNotification.type, (params) => this.listener?.onMessage(params.type, params.message)),
    ];
    this.attached.set(client, { disposables, settings: JSON.stringify(settings) });
    return client;
  }

  private async startClient(client: TierlineClient): Promise<void> {
    try {
      await client.start(); // resolves after `initialized` is sent: the server may hear settings now
      const info = client.initializeResult?.serverInfo;
      this.log.info(`Server running (${info?.name ?? "tierline"} ${info?.version ?? ""})`);
      // A setting changed while the client was starting was not sent (nothing to send it to yet).
      if (JSON.stringify(currentSettings()) !== this.attached.get(client)?.settings) this.sendSettings();
    } catch (err) {
      if (this.client === client) this.setDown(this.down && this.down !== "starting" ? this.down : `${err}`);
    }
  }

  private async stopClient(client: TierlineClient): Promise<void> {
    try {
      if (client.state !== State.Stopped) await client.stop(3000);
    } catch (err) {
      this.log.warn(`Stopping the server: ${err}`);
    }
    await client.dispose(1000).catch(() => undefined);
    for (const d of this.attached.get(client)?.disposables ?? []) d.dispose();
    this.attached.delete(client);
    this.setDown("stopped");
  }

  /** One notification at a time, with the ways out: the setting, the log, a restart. */
  private async notifyFailure(problem: string, notFound: boolean): Promise<void> {
    const message = notFound
      ? `Tierline: cannot start the language server: ${problem}. Install it from the tierline checkout: ${INSTALL_COMMAND}, ` +
        `or set "tierline.server.command" to the command that runs "tierline serve".`
      : `Tierline: the language server failed: ${problem} If tierline is not installed: ${INSTALL_COMMAND}. ` +
        `The command is set by "tierline.server.command".`;
    this.lastNotification = message;
    if (this.notifying) return;
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
}
