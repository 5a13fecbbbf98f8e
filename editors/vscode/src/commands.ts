// Every command package.json declares, registered in one place, and what each does. A failing
// command is logged and shown once, and resolves to false (the tests and keybindings see it).
import { execFile } from "child_process";
import * as vscode from "vscode";
import { tierlineConfig } from "./config";
import { snoozeArgument, snoozeChoices, snoozeEnd, snoozeLabel } from "./eagerness";
import { ReportView } from "./reportView";
import { TierlineServer } from "./server";
import { TierlineStatus } from "./status";
import { CMD_CLEAR_CACHE, CMD_ESCALATE, CMD_SNOOZE } from "./wire";

export class TierlineCommands {
  constructor(
    private readonly server: TierlineServer,
    private readonly status: TierlineStatus,
    private readonly report: ReportView,
    private readonly log: vscode.LogOutputChannel,
  ) {}

  /** The registrations, for the extension context's subscriptions. */
  register(): vscode.Disposable[] {
    const command = vscode.commands.registerCommand;
    return [
      command("tierline.escalateNext", () => this.escalateNext()),
      command("tierline.showReport", () => this.report.show()),
      command("tierline.clearCacheNow", () => this.clearCache()),
      command("tierline.toggleAutomatic", () => this.toggleAutomatic()),
      command("tierline.restartServer", () => this.server.restart()),
      // Not `tierline.snooze`: vscode-languageclient registers the server's own command under that name.
      command("tierline.snoozeCompletions", (minutes?: unknown) => this.snooze(typeof minutes === "number" ? minutes : undefined)),
      command("tierline.resumeCompletions", () => this.snooze(0)),
      command("tierline.trustWorkspace", () => this.trustWorkspace()),
      command("tierline.showLog", () => this.log.show(true)),
    ];
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
      await this.server.executeServerCommand(CMD_ESCALATE);
      this.status.escalated();
      vscode.window.setStatusBarMessage("Tierline: the next completion goes to the premium tier", 4000);
    });
  }

  clearCache(): Promise<boolean> {
    return this.userCommand("clear cache", async () => {
      await this.server.executeServerCommand(CMD_CLEAR_CACHE);
      vscode.window.setStatusBarMessage("Tierline: cache cleared", 4000);
      await this.status.refreshStats();
    });
  }

  /** Flips `tierline.completion.trigger` where the user set it (folder, workspace, else user). */
  toggleAutomatic(): Promise<boolean> {
    return this.userCommand("toggle automatic completions", async () => {
      const config = tierlineConfig();
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
        const snoozed = snoozeEnd(this.status.lastStats?.snoozed_until, Date.now()) !== undefined;
        const pick = await vscode.window.showQuickPick(snoozeChoices(snoozed), {
          placeHolder: "Snooze Tierline's automatic completions for (asking with Alt+\\ still answers)",
        });
        if (!pick) return;
        chosen = pick.minutes;
      }
      const answer = await this.server.executeServerCommand<{ snoozed_until: string | null }>(CMD_SNOOZE, [chosen]);
      await this.status.refreshStats();
      const label = snoozeLabel(answer?.snoozed_until, Date.now());
      vscode.window.setStatusBarMessage(label ? `Tierline: automatic completions ${label}` : "Tierline: completions resumed", 4000);
    });
  }

  /** Runs `tierline trust <folder>` (the server command with `trust` in place of `serve`): the one way
   * a workspace's .tierline.toml gets trusted, bound to its content. Then restarts to apply it. */
  async trustWorkspace(): Promise<void> {
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
    const resolution = this.server.resolution;
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
    await this.server.restart();
  }
}
