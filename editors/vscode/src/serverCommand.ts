// Which command starts `tierline serve`:
//   1. the `tierline.server.command` setting, if set;
//   2. `python -m tierline serve` with the Python extension's interpreter, if that has tierline;
//   3. `tierline serve` on PATH.
import { execFile } from "child_process";
import * as fs from "fs";
import * as path from "path";
import * as vscode from "vscode";

// tierline is installed from a checkout of its repository (it is not on PyPI). esbuild.mjs sets
// TIERLINE_CHECKOUT to the checkout the extension was built from, so the advice names its path.
declare const TIERLINE_CHECKOUT: string | undefined;

/** The install advice: the exact checkout path when it is still there, else where to look. */
export function installAdvice(checkout: string = typeof TIERLINE_CHECKOUT === "string" ? TIERLINE_CHECKOUT : ""): string {
  const where =
    checkout && fs.existsSync(path.join(checkout, "pyproject.toml")) ? `"${checkout}"` : "/path/to/tierline-checkout";
  return `pip install ${where} (into the project's Python environment) or pipx install ${where} (onto PATH)`;
}

export const INSTALL_COMMAND = installAdvice();

export type Resolution =
  | { ok: true; command: string; args: string[]; source: string }
  | { ok: false; problem: string };

function isExecutable(file: string): boolean {
  try {
    const st = fs.statSync(file);
    if (!st.isFile()) return false;
    if (process.platform === "win32") return true;
    fs.accessSync(file, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Absolute path of `name` found on PATH (honouring PATHEXT on Windows), or undefined. */
export function which(name: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (name.includes("/") || name.includes("\\")) return isExecutable(name) ? path.resolve(name) : undefined;
  const exts = process.platform === "win32" ? (env.PATHEXT ?? ".EXE;.CMD;.BAT").split(";").concat([""]) : [""];
  for (const dir of (env.PATH ?? env.Path ?? "").split(path.delimiter)) {
    if (!dir) continue;
    for (const ext of exts) {
      const candidate = path.join(dir, name + ext);
      if (isExecutable(candidate)) return candidate;
    }
  }
  return undefined;
}

function run(command: string, args: string[], timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    try {
      execFile(command, args, { timeout: timeoutMs, windowsHide: true }, (err) => resolve(!err));
    } catch {
      resolve(false);
    }
  });
}

/** The Python extension's interpreter as a command prefix (e.g. ["/venv/bin/python"]), if any. */
async function pythonFromExtension(resource: vscode.Uri | undefined, log: (m: string) => void): Promise<string[] | undefined> {
  const ext = vscode.extensions.getExtension("ms-python.python");
  if (!ext) return undefined;
  try {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const api: any = ext.isActive ? ext.exports : await ext.activate();
    const environments = api?.environments;
    if (environments?.getActiveEnvironmentPath) {
      const active = environments.getActiveEnvironmentPath(resource);
      const env = active ? await environments.resolveEnvironment(active) : undefined;
      const exe: string | undefined = env?.executable?.uri?.fsPath ?? env?.path;
      if (exe && isExecutable(exe)) return [exe];
    }
    const details = api?.settings?.getExecutionDetails?.(resource);
    const exec: string[] | undefined = details?.execCommand;
    if (Array.isArray(exec) && exec.length) return exec;
  } catch (err) {
    log(`Python extension: could not get its interpreter: ${err}`);
  }
  return undefined;
}

export async function resolveServerCommand(
  configured: string[] | undefined,
  resource: vscode.Uri | undefined,
  log: (m: string) => void,
): Promise<Resolution> {
  if (configured && configured.length) {
    const [exe, ...args] = configured;
    const found = which(exe);
    if (!found) {
      return {
        ok: false,
        problem: `the command "${exe}" from the setting tierline.server.command was not found`,
      };
    }
    return { ok: true, command: found, args, source: "setting tierline.server.command" };
  }
  const python = await pythonFromExtension(resource, log);
  if (python) {
    const [exe, ...pre] = python;
    if (await run(exe, [...pre, "-c", "import tierline"], 20000)) {
      return { ok: true, command: exe, args: [...pre, "-m", "tierline", "serve"], source: "Python extension interpreter" };
    }
    log(`The Python extension's interpreter (${python.join(" ")}) has no tierline module; trying PATH.`);
  }
  const onPath = which("tierline");
  if (onPath) return { ok: true, command: onPath, args: ["serve"], source: "PATH" };
  return {
    ok: false,
    problem: python
      ? `tierline is neither installed in the Python interpreter ${python.join(" ")} nor on PATH`
      : "tierline was not found on PATH",
  };
}
