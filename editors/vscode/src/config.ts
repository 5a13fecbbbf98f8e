// The `tierline.*` settings of this window, read through VS Code (settings.ts has the pure parts).
import * as vscode from "vscode";
import { Nested, explicitSettings } from "./settings";

/** The `tierline` section, as the first workspace folder sees it. */
export function tierlineConfig(): vscode.WorkspaceConfiguration {
  return vscode.workspace.getConfiguration("tierline", vscode.workspace.workspaceFolders?.[0]?.uri);
}

/** The server settings the user set explicitly (never VS Code's defaults), nested like the TOML. */
export function currentSettings(): Nested {
  return explicitSettings(tierlineConfig());
}
