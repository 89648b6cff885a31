import * as fs from "fs";
import * as path from "path";

/**
 * Jupyter error replies for the tslab kernel (bin/tslab-poi): what a student sees when a cell fails. tslab itself
 * prints a failing cell's error as plain stderr (no `error` output, so no name and value) with the stack of its
 * own and Node's internals, and a TypeScript error as `line:col - message`. These functions build the `ename`,
 * `evalue` and `traceback` of an `error` message instead: the error's name and message, the failing line of the
 * cell with its code around it (a caret under a type error), and only frames in the student's cells and project
 * files. `TSLAB_FULL_TRACEBACK=1` appends the untouched stack for debugging.
 */
export interface KernelError {
  ename: string;
  evalue: string;
  traceback: string[];
}

/** A cell as the kernel ran it: its TypeScript and the JavaScript tslab compiled it to. */
export interface ExecutedCell {
  /** Jupyter's execution count, shown as `Cell In[n]` (IPython's wording). */
  count: number;
  source: string;
  /** tslab's compiled JavaScript, as run (without the function wrapper tslab adds around it). */
  output: string;
}

/** A TypeScript diagnostic as tslab's converter reports it (0-based line and character, relative to the cell). */
export interface CellDiagnostic {
  start: { line: number; character: number };
  end: { line: number; character: number };
  messageText: string;
  code?: number;
  /** Set for a file other than the cell (relative to the project root). */
  fileName?: string;
}

const RED = "\u001b[0;31m";
const GREEN = "\u001b[0;32m";
const CYAN = "\u001b[0;36m";
const BOLD_RED = "\u001b[1;31m";
const RESET = "\u001b[0m";

/** The file name the launcher gives each cell's compiled code, so stack frames say which cell they are in. */
export function cellFileName(id: number): string {
  return `tslab-cell-${id}`;
}
const CELL_FRAME = /tslab-cell-(\d+):(\d+):(\d+)/;

/** Lines of `source` around `line` (0-based), the failing one marked, IPython-style. */
function codeContext(source: string, line: number, caret?: { from: number; to: number }, context = 2): string[] {
  const lines = source.split("\n");
  const first = Math.max(0, line - context);
  const last = Math.min(lines.length - 1, line + context);
  const width = String(last + 1).length;
  const out: string[] = [];
  for (let i = first; i <= last; i++) {
    const number = String(i + 1).padStart(width);
    if (i === line) {
      out.push(`${GREEN}----> ${number}${RESET} ${lines[i]}`);
      if (caret) {
        const to = Math.max(caret.to, caret.from + 1);
        out.push(`${" ".repeat(6 + width)} ${" ".repeat(caret.from)}${BOLD_RED}${"^".repeat(Math.min(to, Math.max(lines[i].length, caret.from + 1)) - caret.from)}${RESET}`);
      }
    } else {
      out.push(`      ${number} ${lines[i]}`);
    }
  }
  return out;
}

// --- runtime errors -------------------------------------------------------------------------------------------

/** Identifiers, numbers and string literals of a line: what survives TypeScript's emit of it. */
function tokens(line: string): string[] {
  return line.match(/[A-Za-z_$][\w$]*|\d[\w.]*|"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g) ?? [];
}

/** tslab's additions to a compiled line: `exports.` for earlier cells' names, `(0, lib_1.f)` for imports. */
function normaliseCompiled(line: string): string {
  return line
    .replace(/^\s*exports\.tsLastExpr = /, "")
    .replace(/\(0, [\w$]+_\d+\.([\w$]+)\)/g, "$1")
    .replace(/\b[\w$]+_\d+\.([\w$]+)/g, "$1")
    .replace(/\bexports\.([\w$]+)/g, "$1");
}

/** Lines tslab adds to every compiled cell (exports bookkeeping), which have no source line. */
function isBookkeeping(line: string): boolean {
  return (
    /^\s*$/.test(line) ||
    /^\s*Object\.defineProperty\(exports,/.test(line) ||
    /^\s*exports\.[\w$]+ = (exports\.[\w$]+ = )*void 0;\s*$/.test(line) ||
    /^\s*exports\.([\w$]+) = \1;\s*$/.test(line)
  );
}

function lcs(a: readonly string[], b: readonly string[]): number {
  let prev = new Array<number>(b.length + 1).fill(0);
  for (let i = 1; i <= a.length; i++) {
    const row = new Array<number>(b.length + 1).fill(0);
    for (let j = 1; j <= b.length; j++) row[j] = a[i - 1] === b[j - 1] ? prev[j - 1] + 1 : Math.max(prev[j], row[j - 1]);
    prev = row;
  }
  return prev[b.length];
}

/**
 * The source line (0-based) that compiled line `compiledLine` (0-based) of `output` came from. TypeScript's emit
 * drops types and blank lines and tslab rewrites names, so lines are matched by their tokens: a monotone alignment
 * of all compiled lines to all source lines that maximises the shared tokens (emit keeps statements in order).
 */
export function sourceLineOf(source: string, output: string, compiledLine: number): number | undefined {
  const src = source.split("\n").map(tokens);
  const outLines = output.split("\n");
  const out = outLines.map((line) => (isBookkeeping(line) ? [] : tokens(normaliseCompiled(line))));
  const n = out.length;
  const m = src.length;
  if (compiledLine < 0 || compiledLine >= n || out[compiledLine].length === 0) return undefined;
  // best[i][j]: the best total over compiled lines i.. and source lines j..; a compiled line maps to one source line,
  // several compiled lines may map to the same source line (an import becomes two), never backwards.
  const score = (i: number, j: number) => {
    if (out[i].length === 0 || src[j].length === 0) return 0;
    const common = lcs(out[i], src[j]);
    return common / Math.max(out[i].length, src[j].length) + common / out[i].length;
  };
  const best: number[][] = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  const choice: number[][] = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      const take = score(i, j) + best[i + 1][j]; // compiled line i ↔ source line j; the next may still be j
      const skipSource = best[i][j + 1];
      const skipCompiled = best[i + 1][j];
      if (take >= skipSource && take > skipCompiled) {
        best[i][j] = take;
        choice[i][j] = 0;
      } else if (skipSource >= skipCompiled) {
        best[i][j] = skipSource;
        choice[i][j] = 1;
      } else {
        best[i][j] = skipCompiled;
        choice[i][j] = 2;
      }
    }
  }
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (choice[i][j] === 0) {
      if (i === compiledLine) return score(i, j) > 0 ? j : undefined;
      i++;
    } else if (choice[i][j] === 1) j++;
    else {
      if (i === compiledLine) return undefined;
      i++;
    }
  }
  return undefined;
}

/** A frame to show: in a cell, or in a project file that is not a dependency or Node itself. */
function frameOfInterest(frame: string, root: string): boolean {
  if (CELL_FRAME.test(frame)) return true;
  if (/node:|node_modules|evalmachine\.<anonymous>|\(<anonymous>\)|bin[\\/]tslab-poi/.test(frame)) return false;
  return frame.includes(root + path.sep) || /\((lib|scripts|notebooks)\//.test(frame);
}

/**
 * The Jupyter error for a value a cell threw: `ename`/`evalue` from the error; a traceback in Python's order (the
 * outermost call first) with, for each frame in a cell, that cell's line and the code around it, and the frames in
 * project files (lib/...) relative to the root; no frames of tslab, dependencies or Node internals.
 */
export function runtimeError(thrown: unknown, cells: ReadonlyMap<number, ExecutedCell>, options: { root: string; full?: boolean }): KernelError {
  const error = thrown instanceof Error ? thrown : undefined;
  const ename = error ? (error.name && error.name !== "Error" ? error.name : error.constructor?.name || "Error") : "Error";
  const evalue = error ? error.message : `${typeof thrown === "string" ? "" : `(a thrown ${typeof thrown}) `}${String(thrown)}`;
  const stack = typeof error?.stack === "string" ? error.stack.split("\n").filter((line) => /^\s+at /.test(line)) : [];
  // Python's order, which students know: the outermost call (their cell) first, the failing line last.
  const blocks: string[][] = [];
  for (const frame of [...stack].reverse()) {
    if (!frameOfInterest(frame, options.root)) continue;
    const cellFrame = frame.match(CELL_FRAME);
    if (cellFrame) {
      const cell = cells.get(Number(cellFrame[1]));
      // The last line of the run code is tslab's wrapper call, not the student's.
      if (!cell || Number(cellFrame[2]) > cell.output.split("\n").length) continue;
      // Line 1 of the run code is tslab's wrapper plus the first compiled line.
      const line = sourceLineOf(cell.source, cell.output, Number(cellFrame[2]) - 1);
      const where = frame.trim().replace(/^at /, "").replace(/^async /, "").replace(/\s*\(?tslab-cell-.*$/, "").replace(/^(Proxy|Object)\./, "");
      const name = where && !where.startsWith("tslab-cell") && !where.includes("<anonymous>") ? `, in ${where}` : "";
      blocks.push([`${CYAN}Cell In[${cell.count}]${RESET}${line !== undefined ? `, line ${line + 1}` : ""}${name}`, ...(line !== undefined ? codeContext(cell.source, line) : [])]);
    } else {
      blocks.push([`    ${frame.trim().split(options.root + path.sep).join("")}`]);
    }
  }
  const traceback: string[] = [`${RED}${ename}${RESET}  Traceback (most recent call last)`];
  blocks.forEach((block, i) => {
    // A blank line before each cell block; library frames stay together.
    if (block.length > 1 || i === 0 || blocks[i - 1].length > 1) traceback.push("");
    traceback.push(...block);
  });
  if (blocks.length === 0 && stack.length && !options.full) traceback.push("", "(no frame in a cell or a project file: TSLAB_FULL_TRACEBACK=1 shows the whole stack)");
  if (options.full && error?.stack) traceback.push("", "Full stack (TSLAB_FULL_TRACEBACK=1):", error.stack);
  traceback.push("", `${RED}${ename}${RESET}: ${evalue}`);
  if (error?.cause !== undefined) traceback.push(`Caused by: ${error.cause instanceof Error ? `${error.cause.name}: ${error.cause.message}` : String(error.cause)}`);
  return { ename, evalue, traceback };
}

// --- compile errors -------------------------------------------------------------------------------------------

/**
 * The Jupyter error for TypeScript errors in a cell: `ename` "TSError" (ts-node's name), `evalue` the first message,
 * and per error its place, the line with a caret under the offending code, and the message (with its chain).
 */
export function compileError(diagnostics: readonly CellDiagnostic[], cell: { count: number; source: string }, root: string): KernelError {
  // tslab lists a message chain as several diagnostics at the same place: one error, several lines of explanation.
  const groups: CellDiagnostic[][] = [];
  for (const d of diagnostics) {
    const last = groups[groups.length - 1]?.[0];
    if (last && last.fileName === d.fileName && last.start.line === d.start.line && last.start.character === d.start.character && last.end.line === d.end.line && last.end.character === d.end.character) {
      groups[groups.length - 1].push(d);
    } else groups.push([d]);
  }
  const traceback: string[] = [];
  for (const group of groups) {
    const first = group[0];
    const source = first.fileName === undefined ? cell.source : readSafely(path.join(root, first.fileName));
    const place = first.fileName === undefined ? `${CYAN}Cell In[${cell.count}]${RESET}, line ${first.start.line + 1}` : `${CYAN}${first.fileName}${RESET}, line ${first.start.line + 1}`;
    traceback.push(place);
    if (source !== undefined) {
      const to = first.end.line === first.start.line ? first.end.character : Number.MAX_SAFE_INTEGER;
      traceback.push(...codeContext(source, first.start.line, { from: first.start.character, to }, first.fileName === undefined ? 2 : 0));
    }
    group.forEach((d, i) => traceback.push(`${"  ".repeat(i)}${i === 0 ? `${RED}error${RESET} ` : ""}${d.messageText}${i === 0 && d.code ? ` (TS${d.code})` : ""}`));
    traceback.push("");
  }
  const evalue = `${groups[0]?.[0].messageText ?? "compile error"}${groups.length > 1 ? ` (and ${groups.length - 1} more TypeScript error${groups.length > 2 ? "s" : ""})` : ""}`;
  return { ename: "TSError", evalue, traceback: [`${RED}TSError${RESET}: ${evalue}`, "", ...traceback.slice(0, -1)] };
}

function readSafely(file: string): string | undefined {
  try {
    return fs.readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
}
