import * as fs from "fs";
import * as path from "path";
import { spawnSync } from "child_process";
import { PROJECT_ROOT } from "../data";

/** Kernel name in notebooks' metadata; tslab's installer names the TypeScript kernel "tslab". */
export const KERNEL_NAME = "tslab";

/** Debian's python, which has Jupyter and nbconvert (the python first on PATH may not). Override with JUPYTER_PYTHON. */
export function jupyterPython(env: NodeJS.ProcessEnv = process.env): string {
  return env.JUPYTER_PYTHON ?? "/usr/bin/python3";
}

/** Project-local Jupyter data dir: the kernel spec lives here, never in the user's global Jupyter. */
export const JUPYTER_PREFIX = path.join(PROJECT_ROOT, ".jupyter");
export const JUPYTER_DATA_DIR = path.join(JUPYTER_PREFIX, "share", "jupyter");
export const KERNEL_LAUNCHER = path.join(PROJECT_ROOT, "bin", "tslab-poi");

/** Environment for jupyter commands: JUPYTER_PATH first lists the project's kernel spec. */
export function jupyterEnv(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const existing = env.JUPYTER_PATH ? [env.JUPYTER_PATH] : [];
  return { ...env, JUPYTER_PATH: [JUPYTER_DATA_DIR, ...existing].join(path.delimiter) };
}

export function kernelSpecFile(): string {
  return path.join(JUPYTER_DATA_DIR, "kernels", KERNEL_NAME, "kernel.json");
}

/** True when the project's kernel spec exists and points at this checkout's launcher. */
export function kernelInstalled(): boolean {
  const file = kernelSpecFile();
  if (!fs.existsSync(file)) return false;
  const spec = JSON.parse(fs.readFileSync(file, "utf8")) as { argv?: string[] };
  return spec.argv?.[0] === KERNEL_LAUNCHER;
}

/**
 * Register the tslab kernel project-locally (`tslab install --prefix .jupyter`) with the root-starting launcher, and
 * only it: the JavaScript kernel tslab's installer adds (jslab) is removed.
 */
export function installKernel(env: NodeJS.ProcessEnv = process.env): void {
  const python = jupyterPython(env);
  const check = spawnSync(python, ["-c", "import jupyter_client, nbconvert, ipykernel"], { encoding: "utf8" });
  if (check.status !== 0) {
    throw new Error(
      `${python} lacks Jupyter (jupyter_client, nbconvert, ipykernel): run scripts/install.sh, or ` +
        "apt-get install --no-install-recommends jupyter-notebook jupyter-nbconvert jupyter-client python3-ipykernel",
    );
  }
  const tslabCli = path.join(PROJECT_ROOT, "node_modules", "tslab", "bin", "tslab");
  const result = spawnSync(
    process.execPath,
    [tslabCli, "install", `--python=${python}`, `--prefix=${JUPYTER_PREFIX}`, `--binary=${KERNEL_LAUNCHER}`],
    { encoding: "utf8", env },
  );
  if (result.status !== 0) throw new Error(`tslab install failed:\n${result.stdout}\n${result.stderr}`);
  if (!kernelInstalled()) throw new Error(`tslab install did not write ${kernelSpecFile()}`);
  // tslab's installer also registers "jslab", a JavaScript kernel; the notebooks are TypeScript, and a second kernel
  // in Jupyter's launcher that nothing uses only raises questions.
  fs.rmSync(path.join(JUPYTER_DATA_DIR, "kernels", "jslab"), { recursive: true, force: true });
}
