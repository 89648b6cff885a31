import * as fs from "fs";
import * as path from "path";
import { spawn } from "child_process";
import { outputsDir } from "../data";
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
  /** Echo nbconvert's output (cell errors, progress) as it runs. */
  echo?: boolean;
}

/**
 * Execute a notebook headless with the project kernel (`jupyter nbconvert --execute --to html`) and write a
 * self-contained HTML report. A failing cell makes `ok` false; the partial report is still written when nbconvert
 * managed to produce one (it does with --allow-errors only, which we don't use, so usually not).
 */
export async function executeNotebook(notebook: string, options: ExecuteOptions = {}): Promise<NotebookRun> {
  const reportsDir = options.reportsDir ?? outputsDir("reports");
  fs.mkdirSync(reportsDir, { recursive: true });
  if (!kernelInstalled()) installKernel();
  const name = path.basename(notebook, ".ipynb");
  const html = path.join(reportsDir, `${name}.html`);
  const title = notebookTitle(readNotebook(notebook), notebook);
  const args = [
    "-m", "jupyter", "nbconvert", "--to", "html", "--execute",
    `--ExecutePreprocessor.kernel_name=${KERNEL_NAME}`,
    `--ExecutePreprocessor.timeout=${options.cellTimeout ?? 1800}`,
    "--output-dir", reportsDir, "--output", name, notebook,
  ];
  const started = Date.now();
  const log: string[] = [];
  const status = await new Promise<number>((resolve, reject) => {
    const child = spawn(jupyterPython(), args, { env: jupyterEnv(), stdio: ["ignore", "pipe", "pipe"] });
    const collect = (chunk: Buffer) => {
      const text = chunk.toString("utf8");
      log.push(text);
      if (options.echo) process.stderr.write(text);
    };
    child.stdout.on("data", collect);
    child.stderr.on("data", collect);
    child.on("error", reject);
    child.on("close", (code) => resolve(code ?? 1));
  });
  const seconds = (Date.now() - started) / 1000;
  let plots = 0;
  if (status === 0 && fs.existsSync(html)) {
    const result = makeSelfContained(fs.readFileSync(html, "utf8"));
    fs.writeFileSync(html, result.html);
    plots = result.plots;
  }
  const ok = status === 0 && fs.existsSync(html);
  const error = ok ? undefined : log.join("").split("\n").slice(-40).join("\n");
  return { notebook, name, title, html, ok, seconds, plots, error };
}
