// The report webview (`tierline.showReport`): one panel, re-rendered after each `tierline.stats`.
// Its HTML comes from report.ts (pure, no script, a strict Content-Security-Policy).
import { randomBytes } from "crypto";
import * as vscode from "vscode";
import { reportHtml } from "./report";
import { TierlineServer } from "./server";
import { TierlineStatus } from "./status";

export class ReportView {
  private panel: vscode.WebviewPanel | undefined;
  private readonly subscription: vscode.Disposable;

  constructor(
    private readonly server: TierlineServer,
    private readonly status: TierlineStatus,
  ) {
    this.subscription = status.onDidRefresh(() => this.render());
  }

  dispose(): void {
    this.subscription.dispose();
    this.panel?.dispose();
  }

  /** The panel's current HTML, undefined while it is closed. */
  html(): string | undefined {
    return this.panel?.webview.html;
  }

  async show(): Promise<void> {
    if (this.panel) {
      this.panel.reveal();
    } else {
      this.panel = vscode.window.createWebviewPanel("tierline.report", "Tierline report", vscode.ViewColumn.Active, {
        enableScripts: false,
        localResourceRoots: [],
      });
      this.panel.onDidDispose(() => (this.panel = undefined));
    }
    this.render();
    if (this.server.running) await this.status.refreshStats();
  }

  private render(): void {
    if (!this.panel) return;
    const down = this.server.down;
    this.panel.webview.html = reportHtml({
      stats: this.status.lastStats,
      route: this.status.lastRoute,
      cspSource: this.panel.webview.cspSource,
      nonce: randomBytes(16).toString("base64"),
      error: down && down !== "starting" ? `Server down: ${down}` : undefined,
    });
  }
}
