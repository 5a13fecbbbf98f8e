// The `tierline.*` settings that are server config keys (same snake_case names as the TOML).
// Only the values a user explicitly set are ever sent to the server: sending VS Code's defaults
// would override the user's `.tierline.toml`.

/** Dotted keys under `tierline.` that mirror the server config, in the TOML's shape. */
export const SERVER_KEYS: readonly string[] = [
  "routing.thresholds.mid",
  "routing.thresholds.premium",
  "routing.latency_budget_ms",
  "routing.ewma_alpha",
  "budget.daily_usd",
  "cache.ttl_seconds",
  "cache.size_limit_mb",
  "completion.languages",
  "completion.trigger",
  "completion.debounce_ms",
];

/** Editor-only keys: never sent to the server. */
export const EDITOR_KEYS: readonly string[] = ["server.command", "trace.server"];

/** The part of `vscode.WorkspaceConfiguration` this module needs (easy to fake in tests). */
export interface Inspectable {
  inspect<T>(key: string):
    | {
        globalValue?: T;
        workspaceValue?: T;
        workspaceFolderValue?: T;
      }
    | undefined;
}

export type Nested = { [key: string]: unknown };

/** The explicitly set value of one key (folder > workspace > user), or undefined. */
export function explicitValue(config: Inspectable, key: string): unknown {
  const i = config.inspect<unknown>(key);
  if (!i) return undefined;
  if (i.workspaceFolderValue !== undefined) return i.workspaceFolderValue;
  if (i.workspaceValue !== undefined) return i.workspaceValue;
  return i.globalValue;
}

/** Set `value` at a dotted `key` inside `target`, creating tables on the way. */
export function setDotted(target: Nested, key: string, value: unknown): void {
  const parts = key.split(".");
  let node = target;
  for (const part of parts.slice(0, -1)) {
    const next = node[part];
    if (typeof next !== "object" || next === null || Array.isArray(next)) node[part] = {};
    node = node[part] as Nested;
  }
  node[parts[parts.length - 1]] = value;
}

/**
 * The explicitly set server settings, nested like the TOML
 * (`{routing: {thresholds: {mid: 0.5}}}`); `{}` when the user set nothing.
 */
export function explicitSettings(config: Inspectable): Nested {
  const out: Nested = {};
  for (const key of SERVER_KEYS) {
    const value = explicitValue(config, key);
    if (value !== undefined && value !== null) setDotted(out, key, value);
  }
  return out;
}

/** The sub-table of `settings` at a dotted section below `tierline` ("" = all). */
export function section(settings: Nested, dotted: string): unknown {
  if (!dotted) return settings;
  let node: unknown = settings;
  for (const part of dotted.split(".")) {
    if (typeof node !== "object" || node === null) return undefined;
    node = (node as Nested)[part];
  }
  return node;
}
