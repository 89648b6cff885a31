import * as fs from "fs";
import * as path from "path";
import { checkLabel, Parameters, runName } from "./parameters";

/** One run of `npm start`'s plan (notebooks/pipeline.json). */
export interface PlannedRun {
  /** The notebook file, relative to the plan's folder. */
  notebook: string;
  /** Distinguishes runs of the same notebook; the report is `<notebook>-<label>.html`. */
  label?: string;
  /** Values injected after the notebook's `parameters` cell. */
  parameters?: Parameters;
}

/** A plan entry with its notebook path resolved. */
export interface ResolvedRun extends PlannedRun {
  notebook: string;
  name: string;
}

/**
 * Read the ordered plan `[{ "notebook": "...", "label"?: "...", "parameters"?: {...} }]`. Every mistake names the
 * file and the entry: a missing notebook, an unknown field, a label that is not a file-name part, two runs that
 * would write the same report.
 */
export function readPlan(file: string): ResolvedRun[] {
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (err) {
    throw new Error(`${file}: ${(err as Error).message}`);
  }
  if (!Array.isArray(raw)) throw new Error(`${file}: expected a list of runs [{ "notebook": "...", "label"?: "...", "parameters"?: {...} }]`);
  const dir = path.dirname(file);
  const seen = new Map<string, number>();
  return raw.map((entry: unknown, i) => {
    const where = `${file}, run ${i + 1}`;
    if (typeof entry !== "object" || entry === null || Array.isArray(entry)) throw new Error(`${where}: expected an object with a "notebook" field`);
    const run = entry as Record<string, unknown>;
    const unknown = Object.keys(run).filter((k) => !["notebook", "label", "parameters"].includes(k));
    if (unknown.length) throw new Error(`${where}: unknown field ${unknown.map((k) => `"${k}"`).join(", ")} (fields: notebook, label, parameters)`);
    if (typeof run.notebook !== "string" || !run.notebook) throw new Error(`${where}: "notebook" must be a file name`);
    const notebook = path.resolve(dir, run.notebook);
    if (!fs.existsSync(notebook)) throw new Error(`${where}: notebook not found: ${notebook}`);
    if (run.label !== undefined) {
      if (typeof run.label !== "string") throw new Error(`${where}: "label" must be a string`);
      try {
        checkLabel(run.label);
      } catch (err) {
        throw new Error(`${where}: ${(err as Error).message}`);
      }
    }
    if (run.parameters !== undefined && (typeof run.parameters !== "object" || run.parameters === null || Array.isArray(run.parameters))) {
      throw new Error(`${where}: "parameters" must be an object { "name": value }`);
    }
    const name = runName(notebook, run.label as string | undefined);
    const earlier = seen.get(name);
    if (earlier !== undefined) throw new Error(`${where}: same notebook and label as run ${earlier + 1}, both would write ${name}.html: give one a "label"`);
    seen.set(name, i);
    return { notebook, name, label: run.label as string | undefined, parameters: run.parameters as Parameters | undefined };
  });
}
