import * as fs from "fs";
import * as path from "path";
import { spawn } from "child_process";
import { outputsDir, PROJECT_ROOT } from "../data";
import { installKernel, jupyterEnv, jupyterPython, kernelInstalled, KERNEL_NAME } from "./jupyter";
import { makeSelfContained } from "./html";
import { readNotebook, notebookTitle } from "./notebooks";

export interface NotebookRun {
  notebook: string;
  name: string;
  title: string;
  html: string;
  ok: boolean;
  seconds: number;
  plots: number;
  /** The last lines nbconvert printed when the run failed. */
  error?: string;
}

export interface ExecuteOptions {
  reportsDir?: string;
  /** Seconds one cell may run (default 1800). */
  cellTimeout?: number;
  /** Where the executed .ipynb goes (default outputs/notebooks). */
  executedDir?: string;
  /** Echo progress (a line per cell) and errors as it runs. */
  echo?: boolean;
}

/**
 * Execute a notebook headless with the project kernel (Jupyter's nbclient, via scripts/execute_notebook.py) and
 * write a self-contained HTML report plus the executed .ipynb (outputs/notebooks/). The report is written even when
 * a cell fails, so the failure can be read in context; `ok` is then false and `error` holds the failing cell's output.
 */
export async function executeNotebook(notebook: string, options: ExecuteOptions = {}): Promise<NotebookRun> {
  const reportsDir = options.reportsDir ?? outputsDir("reports");
  fs.mkdirSync(reportsDir, { recursive: true });
  if (!kernelInstalled()) installKernel();
  const name = path.basename(notebook, ".ipynb");
  const html = path.join(reportsDir, `${name}.html`);
  const executed = path.join(options.executedDir ?? outputsDir("notebooks"), `${name}.ipynb`);
  const title = notebookTitle(readNotebook(notebook), notebook);
  const driver = path.join(PROJECT_ROOT, "scripts", "execute_notebook.py");
  const args = [driver, notebook, html, executed, KERNEL_NAME, String(options.cellTimeout ?? 1800)];
  const started = Date.now();
  const errors: string[] = [];
  const status = await new Promise<number>((resolve, reject) => {
    const child = spawn(jupyterPython(), args, { env: jupyterEnv(), stdio: ["ignore", "pipe", "pipe"] });
    child.stdout.on("data", (chunk: Buffer) => {
      if (options.echo) process.stdout.write(chunk);
    });
    child.stderr.on("data", (chunk: Buffer) => {
      errors.push(chunk.toString("utf8"));
      if (options.echo) process.stderr.write(chunk);
    });
    child.on("error", reject);
    child.on("close", (code) => resolve(code ?? 1));
  });
  const seconds = (Date.now() - started) / 1000;
  let plots = 0;
  if (fs.existsSync(html)) {
    const result = makeSelfContained(fs.readFileSync(html, "utf8"));
    fs.writeFileSync(html, result.html);
    plots = result.plots;
  }
  const ok = status === 0 && fs.existsSync(html);
  const error = ok ? undefined : errors.join("").split("\n").slice(-60).join("\n");
  return { notebook, name, title, html, ok, seconds, plots, error };
}
