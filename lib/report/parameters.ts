import ts from "typescript";
import { cellText, Notebook, NotebookCell } from "./notebooks";

/**
 * Notebook parameters, papermill's convention: the code cell tagged `parameters` holds the defaults as plain
 * top-level `const`/`let` assignments; a run injects a code cell tagged `injected-parameters` right after it that
 * re-declares the chosen names with new values. tslab compiles every cell as its own module, so a later cell may
 * declare `const epochs` again and every cell after it sees the new value.
 */
export const PARAMETERS_TAG = "parameters";
export const INJECTED_PARAMETERS_TAG = "injected-parameters";

/** A parameter value as papermill's `-p` gives it: JSON-like data. */
export type ParameterValue = null | boolean | number | string | ParameterValue[] | { [key: string]: ParameterValue };
export type Parameters = Record<string, ParameterValue>;

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/**
 * Parse a `-p` value like papermill's command line: numbers, `true`/`false` (or Python's `True`/`False`), `null`
 * (or `None`), JSON lists and objects; anything else is the string itself.
 */
export function parseParameterValue(text: string): ParameterValue {
  const trimmed = text.trim();
  if (trimmed === "true" || trimmed === "True") return true;
  if (trimmed === "false" || trimmed === "False") return false;
  if (trimmed === "null" || trimmed === "None") return null;
  if (NUMBER.test(trimmed)) return Number(trimmed);
  if ((trimmed.startsWith("[") && trimmed.endsWith("]")) || (trimmed.startsWith("{") && trimmed.endsWith("}"))) {
    try {
      return JSON.parse(trimmed) as ParameterValue;
    } catch (err) {
      throw new Error(`parameter value ${text} looks like a JSON ${trimmed.startsWith("[") ? "list" : "object"} but is not valid JSON: ${(err as Error).message}`);
    }
  }
  return text;
}

/**
 * Parse `-p name=value` and `-p name value` (papermill's two-argument form) and `-r name value` (raw: always a
 * string) from a command line. Returns the parameters and the arguments that were not parameters, in order.
 */
export function parseParameterArgs(argv: readonly string[]): { parameters: Parameters; rest: string[] } {
  const parameters: Parameters = {};
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    if (flag !== "-p" && flag !== "--parameters" && flag !== "-r" && flag !== "--parameters_raw") {
      rest.push(flag);
      continue;
    }
    const first = argv[++i];
    if (first === undefined) throw new Error(`${flag} needs name=value (or name value)`);
    let name: string;
    let raw: string;
    const eq = first.indexOf("=");
    if (eq > 0) {
      name = first.slice(0, eq);
      raw = first.slice(eq + 1);
    } else {
      const value = argv[++i];
      if (value === undefined) throw new Error(`${flag} ${first}: no value (write ${flag} ${first}=<value>)`);
      name = first;
      raw = value;
    }
    if (!/^[A-Za-z_$][\w$]*$/.test(name)) throw new Error(`${flag} ${first}: "${name}" is not a TypeScript variable name`);
    parameters[name] = flag === "-r" || flag === "--parameters_raw" ? raw : parseParameterValue(raw);
  }
  return { parameters, rest };
}

function tags(cell: NotebookCell): string[] {
  const value = (cell.metadata as { tags?: unknown }).tags;
  return Array.isArray(value) ? value.filter((t): t is string => typeof t === "string") : [];
}

/** Index of the code cell tagged `parameters`, or -1. */
export function parametersCellIndex(notebook: Notebook): number {
  return notebook.cells.findIndex((cell) => cell.cell_type === "code" && tags(cell).includes(PARAMETERS_TAG));
}

/** One default in the parameters cell. */
export interface DeclaredParameter {
  name: string;
  keyword: "const" | "let" | "var";
  /** The written type annotation, if any (`const backbone: Backbone = ...` → "Backbone"). */
  type?: string;
  /** The default as written. */
  initializer?: string;
}

/** The top-level variables the parameters cell declares, in order (destructuring patterns are not parameters). */
export function declaredParameters(source: string): DeclaredParameter[] {
  const file = ts.createSourceFile("parameters.ts", source, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
  const out: DeclaredParameter[] = [];
  for (const statement of file.statements) {
    if (!ts.isVariableStatement(statement)) continue;
    const flags = statement.declarationList.flags;
    const keyword = flags & ts.NodeFlags.Const ? "const" : flags & ts.NodeFlags.Let ? "let" : "var";
    for (const declaration of statement.declarationList.declarations) {
      if (!ts.isIdentifier(declaration.name)) continue;
      out.push({
        name: declaration.name.text,
        keyword,
        type: declaration.type?.getText(file),
        initializer: declaration.initializer?.getText(file),
      });
    }
  }
  return out;
}

/**
 * The type an injected value is declared with: the default's written annotation; else, for a string, number or
 * boolean default, that primitive type (so `-p backbone=small-cnn` after `const backbone = "mobilenet-v2"` is a
 * `string`, not the literal type of either, and `-p epochs=abc` is a type error in the injected cell); else the
 * value's own inferred type.
 */
function injectedType(declared: DeclaredParameter): string | undefined {
  if (declared.type) return declared.type;
  const init = declared.initializer?.trim();
  if (init === undefined) return undefined;
  if (/^(["'`]).*\1$/s.test(init)) return "string";
  if (/^[+-]?(\d[\d_]*\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(init)) return "number";
  if (init === "true" || init === "false") return "boolean";
  return undefined;
}

/** The injected cell's source: one declaration per parameter, papermill's comment line first. */
export function injectedParametersSource(parameters: Parameters, declared: readonly DeclaredParameter[]): string {
  const lines = ["// Parameters (injected: papermill's injected-parameters cell)"];
  for (const [name, value] of Object.entries(parameters)) {
    const declaration = declared.find((d) => d.name === name)!;
    const type = injectedType(declaration);
    const keyword = declaration.keyword === "var" ? "let" : declaration.keyword;
    lines.push(`${keyword} ${name}${type ? `: ${type}` : ""} = ${JSON.stringify(value)};`);
  }
  return lines.join("\n");
}

/**
 * The notebook with a code cell tagged `injected-parameters` after its `parameters` cell (replacing one left by an
 * earlier run, as papermill does). Every name must be declared in the parameters cell.
 */
export function injectParameters(notebook: Notebook, parameters: Parameters, file = "notebook"): Notebook {
  const names = Object.keys(parameters);
  const cells = notebook.cells.filter((cell) => !tags(cell).includes(INJECTED_PARAMETERS_TAG));
  if (names.length === 0) return { ...notebook, cells };
  const at = parametersCellIndex({ ...notebook, cells });
  if (at < 0) {
    throw new Error(
      `${file}: no code cell tagged "${PARAMETERS_TAG}", so it takes no parameters (given: ${names.join(", ")}). ` +
        `Tag the cell holding the defaults (cell metadata "tags": ["${PARAMETERS_TAG}"]).`,
    );
  }
  const declared = declaredParameters(cellText(cells[at]));
  const unknown = names.filter((name) => !declared.some((d) => d.name === name));
  if (unknown.length > 0) {
    throw new Error(
      `${file}: ${unknown.map((n) => `"${n}"`).join(", ")} ${unknown.length === 1 ? "is" : "are"} not declared in the parameters cell ` +
        `(it declares: ${declared.map((d) => d.name).join(", ") || "nothing"})`,
    );
  }
  const injected: NotebookCell = {
    cell_type: "code",
    source: injectedParametersSource(parameters, declared),
    metadata: { tags: [INJECTED_PARAMETERS_TAG] },
    outputs: [],
    execution_count: null,
  };
  if (notebook.nbformat > 4 || (notebook.nbformat === 4 && notebook.nbformat_minor >= 5)) injected.id = "injected-parameters";
  return { ...notebook, cells: [...cells.slice(0, at + 1), injected, ...cells.slice(at + 1)] };
}

/** A run's name: the notebook's plus its label (`03_x` or `03_x-fashion`): the report is `<name>.html`. */
export function runName(notebook: string, label?: string): string {
  const base = notebook.replace(/^.*[\\/]/, "").replace(/\.ipynb$/, "");
  return label ? `${base}-${label}` : base;
}

export function checkLabel(label: string): void {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(label)) {
    throw new Error(`run label "${label}": use letters, digits, ".", "_" and "-" (it becomes part of the report's file name)`);
  }
}
