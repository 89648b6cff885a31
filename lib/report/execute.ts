import * as fs from "fs";
import * as path from "path";
import { spawn } from "child_process";
import { outputsDir, PROJECT_ROOT } from "../data";
import { installKernel, jupyterEnv, jupyterPython, kernelInstalled, KERNEL_NAME } from "./jupyter";
import { makeSelfContained } from "./html";
import { readNotebook, notebookTitle, writeNotebook } from "./notebooks";
import { checkLabel, injectParameters, Parameters, runName } from "./parameters";

export interface NotebookRun {
  notebook: string;
  /** The report's name: the notebook's, plus `-<label>` when the run has one. */
  name: string;
  label?: string;
  /** The values injected after the notebook's `parameters` cell (none: its defaults). */
  parameters?: Parameters;
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
  /** Injected after the notebook's `parameters` cell (papermill's convention); each must be declared there. */
  parameters?: Parameters;
  /** Run label: the report is `<notebook>-<label>.html`. */
  label?: string;
}

/**
 * Execute a notebook headless with the project kernel (Jupyter's nbclient, via scripts/execute_notebook.py) and
 * write a self-contained HTML report plus the executed .ipynb (outputs/notebooks/). The report is written even when
 * a cell fails, so the failure can be read in context; `ok` is then false and `error` holds the failing cell's output.
 * With `parameters`, the executed notebook holds the injected cell, as papermill's output notebook does.
 */
export async function executeNotebook(notebook: string, options: ExecuteOptions = {}): Promise<NotebookRun> {
  const reportsDir = options.reportsDir ?? outputsDir("reports");
  fs.mkdirSync(reportsDir, { recursive: true });
  if (!kernelInstalled()) installKernel();
  if (options.label !== undefined) checkLabel(options.label);
  const name = runName(notebook, options.label);
  const html = path.join(reportsDir, `${name}.html`);
  const executed = path.join(options.executedDir ?? outputsDir("notebooks"), `${name}.ipynb`);
  const parameters = options.parameters && Object.keys(options.parameters).length > 0 ? options.parameters : undefined;
  const source = injectParameters(readNotebook(notebook), parameters ?? {}, notebook);
  // papermill's record of the run in the output notebook's metadata, so tools that read papermill's outputs work.
  source.metadata = { ...source.metadata, papermill: { parameters: parameters ?? {}, input_path: notebook, output_path: executed } };
  const title = notebookTitle(source, notebook);
  // The kernel runs the injected copy, written where the executed notebook goes (and then overwritten by it).
  fs.mkdirSync(path.dirname(executed), { recursive: true });
  writeNotebook(executed, source);
  const driver = path.join(PROJECT_ROOT, "scripts", "execute_notebook.py");
  const args = [driver, executed, html, executed, KERNEL_NAME, String(options.cellTimeout ?? 1800), path.dirname(path.resolve(notebook)), name];
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
  return { notebook, name, label: options.label, parameters, title, html, ok, seconds, plots, error };
}
