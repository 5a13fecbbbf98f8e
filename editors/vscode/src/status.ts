// The status bar item and what feeds it: each `tierline/didRoute`, the server's health, storage
// faults the server reports, and `tierline.stats` fetched a moment after each completion, when the
// window gets the focus back, and when a snooze ends.
import * as vscode from "vscode";
import { MessageType } from "vscode-languageclient/node";
import { snoozeEnd } from "./eagerness";
import { Route, Stats, StatusView, failedAttempts, score, served, statusView, usd } from "./format";
import { ServerListener, TierlineServer } from "./server";
import { CMD_STATS, isStorageFault } from "./wire";

const STATS_DEBOUNCE_MS = 250;

export class TierlineStatus implements ServerListener {
  lastRoute: Route | undefined;
  lastStats: Stats | undefined;

  private escalatePending = false;
  private storageFaults: string[] = [];
  private statsTimer: NodeJS.Timeout | undefined;
  private snoozeTimer: NodeJS.Timeout | undefined;
  private view: StatusView;
  private readonly item: vscode.StatusBarItem;
  private readonly routeEmitter = new vscode.EventEmitter<Route>();
  private readonly refreshEmitter = new vscode.EventEmitter<Stats | undefined>();
  readonly onDidRoute = this.routeEmitter.event;
  /** After each `tierline.stats` attempt (the report view re-renders on it). */
  readonly onDidRefresh = this.refreshEmitter.event;

  constructor(
    private readonly server: TierlineServer,
    private readonly log: vscode.LogOutputChannel,
  ) {
    this.item = vscode.window.createStatusBarItem("tierline.status", vscode.StatusBarAlignment.Right, 100);
    this.item.name = "Tierline";
    this.item.command = "tierline.showReport";
    this.view = this.render();
    this.item.show();
  }

  dispose(): void {
    if (this.statsTimer) clearTimeout(this.statsTimer);
    if (this.snoozeTimer) clearTimeout(this.snoozeTimer);
    this.item.dispose();
    this.routeEmitter.dispose();
    this.refreshEmitter.dispose();
  }

  get status(): StatusView & { backgroundColor: string | undefined } {
    const bg = this.item.backgroundColor as vscode.ThemeColor | undefined;
    return { ...this.view, backgroundColor: bg ? (bg as unknown as { id: string }).id : undefined };
  }

  // --- what the server tells (ServerListener) ------------------------------------------------

  onHealth(): void {
    this.update();
  }

  onStarting(): void {
    this.storageFaults = []; // a new server process reports its own
  }

  onRunning(): void {
    this.scheduleStats(0);
  }

  onRoute(route: Route): void {
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

  onMessage(type: MessageType, message: string): void {
    if (type === MessageType.Error) void vscode.window.showErrorMessage(message);
    else if (type === MessageType.Warning) void vscode.window.showWarningMessage(message);
    else void vscode.window.showInformationMessage(message);
    if (isStorageFault(type, message) && !this.storageFaults.includes(message)) {
      this.storageFaults.push(message);
      this.update();
      this.scheduleStats(STATS_DEBOUNCE_MS);
    }
  }

  // --- what the user does --------------------------------------------------------------------

  /** `tierline.escalateNext` worked: the next completion goes to premium, until a route says otherwise. */
  escalated(): void {
    this.escalatePending = true;
    this.update();
  }

  /** Back in this window: a snooze set or ended in another window (it is the user's) shows here. */
  onFocus(): void {
    if (this.server.running) this.scheduleStats(STATS_DEBOUNCE_MS);
  }

  // --- polling tierline.stats ----------------------------------------------------------------

  private scheduleStats(delayMs: number): void {
    if (this.statsTimer) clearTimeout(this.statsTimer);
    this.statsTimer = setTimeout(() => {
      this.statsTimer = undefined;
      void this.refreshStats();
    }, delayMs);
  }

  async refreshStats(): Promise<Stats | undefined> {
    try {
      this.lastStats = await this.server.executeServerCommand<Stats>(CMD_STATS);
    } catch (err) {
      this.log.warn(`tierline.stats failed: ${err}`);
    }
    this.update();
    this.refreshEmitter.fire(this.lastStats);
    this.watchSnooze();
    return this.lastStats;
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

  // --- the item ------------------------------------------------------------------------------

  private render(): StatusView {
    const down = this.server.down;
    return statusView({
      serverDown: down === "starting" && !this.server.client ? undefined : down,
      route: this.lastRoute,
      stats: this.lastStats,
      escalatePending: this.escalatePending,
      storageFaults: this.storageFaults,
    });
  }

  private update(): void {
    if (this.server.down === "starting") {
      this.view = { text: "$(sync~spin) tierline", tooltip: "Tierline: starting the server", warning: false, reasons: [] };
    } else {
      this.view = this.render();
    }
    this.item.text = this.view.text;
    this.item.accessibilityInformation = {
      label: `Tierline: ${this.view.text.replace(/\$\([^)]*\)\s*/g, "").trim()}`,
      role: "button",
    };
    this.item.tooltip = new vscode.MarkdownString(this.view.tooltip, true);
    this.item.backgroundColor = this.view.warning ? new vscode.ThemeColor("statusBarItem.warningBackground") : undefined;
  }
}
