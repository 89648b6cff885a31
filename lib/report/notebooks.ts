import * as fs from "fs";
import * as path from "path";

/** The parts of an nbformat-4 notebook the project reads and writes. */
export interface NotebookCell {
  cell_type: "markdown" | "code" | "raw";
  source: string | string[];
  metadata: Record<string, unknown>;
  outputs?: unknown[];
  execution_count?: number | null;
  id?: string;
}
export interface Notebook {
  cells: NotebookCell[];
  metadata: Record<string, unknown>;
  nbformat: number;
  nbformat_minor: number;
}

export function readNotebook(file: string): Notebook {
  const notebook = JSON.parse(fs.readFileSync(file, "utf8")) as Notebook;
  if (!Array.isArray(notebook.cells)) throw new Error(`${file}: not a Jupyter notebook (no cells array)`);
  return notebook;
}

export function cellText(cell: NotebookCell): string {
  return Array.isArray(cell.source) ? cell.source.join("") : cell.source;
}

/** The notebook's title: its first markdown heading, else the file name. */
export function notebookTitle(notebook: Notebook, file: string): string {
  for (const cell of notebook.cells) {
    if (cell.cell_type !== "markdown") continue;
    const heading = cellText(cell).match(/^#+\s+(.+)$/m);
    if (heading) return heading[1].trim();
  }
  return path.basename(file, ".ipynb");
}

/** Notebooks of a folder in run order (their names start with 01_, 02_, ...). */
export function listNotebooks(dir: string): string[] {
  return fs
    .readdirSync(dir)
    .filter((name) => name.endsWith(".ipynb") && !name.startsWith("."))
    .sort()
    .map((name) => path.join(dir, name));
}

/** The same notebook without outputs and execution counts, as committed (small diffs, no stale results). */
export function clearOutputs(notebook: Notebook): Notebook {
  return {
    ...notebook,
    cells: notebook.cells.map((cell) =>
      cell.cell_type === "code" ? { ...cell, outputs: [], execution_count: null } : cell,
    ),
  };
}

export function hasOutputs(notebook: Notebook): boolean {
  return notebook.cells.some((cell) => cell.cell_type === "code" && ((cell.outputs?.length ?? 0) > 0 || cell.execution_count != null));
}

/** Write a notebook the way Jupyter does (1-space indent, trailing newline). */
export function writeNotebook(file: string, notebook: Notebook): void {
  fs.writeFileSync(file, JSON.stringify(notebook, null, 1) + "\n");
}
