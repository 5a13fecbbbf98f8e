// The team gateway's budget (`[budget] store = "litellm"`, stats `gateway_budget`) in the status
// bar: pure text from what the server said. Any field may be missing or of the wrong type (an older
// or odd server): then that part is left out, never a crash.
import { usd } from "./format";

function num(value: unknown): number | undefined {
  return typeof value === "number" && Number.isFinite(value) ? value : undefined;
}

function str(value: unknown): string | undefined {
  return typeof value === "string" && value ? value : undefined;
}

function record(value: unknown): Record<string, unknown> | undefined {
  return value && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

/** What is left to spend at the gateway: after tierline's own spend since the read, else as read. */
function left(g: Record<string, unknown>): number | undefined {
  return num(g.available_usd) ?? num(g.remaining_usd);
}

/** After the status bar's right part: " · gateway $6.99 left", " · gateway budget spent", or "". */
export function gatewayStatus(gateway: unknown): string {
  const g = record(gateway);
  if (!g) return "";
  if (g.exhausted === true) return " · gateway budget spent";
  const amount = left(g);
  return g.capping === true && amount !== undefined ? ` · gateway ${usd(amount)} left` : "";
}

/** The tooltip's line about the gateway's budget, or undefined without one. */
export function gatewayTooltip(gateway: unknown): string | undefined {
  const g = record(gateway);
  if (!g) return undefined;
  const key = str(g.key) ?? "the key";
  if (g.capping !== true) {
    const why = str(g.error);
    return why
      ? `**Gateway budget**: could not be read (${why}); the local caps hold`
      : "**Gateway budget**: not read yet; the local caps hold";
  }
  const parts = [`key ${key}: ${num(g.key_remaining_usd) === undefined ? "no budget" : usd(num(g.key_remaining_usd))}`];
  const team = str(g.team);
  if (team) parts.push(`team ${team}: ${num(g.team_remaining_usd) === undefined ? "no budget" : usd(num(g.team_remaining_usd))}`);
  const amount = left(g);
  const when = str(g.checked_at);
  return (
    `**Gateway budget**: ${amount === undefined ? "no budget set" : `${usd(amount)} left`} (${parts.join(", ")})` +
    (when ? `, read ${when}` : "")
  );
}

/** A warning reason: the gateway refused a call for its budget. */
export function gatewayWarning(gateway: unknown): string | undefined {
  const g = record(gateway);
  return g && g.exhausted === true ? "Gateway budget spent: the gateway refused a call for its budget" : undefined;
}
