// Execute notebooks headless in order, write self-contained HTML reports and an index, and check them in
// headless Chromium. Usage:
//   npm start                         the plan in notebooks/pipeline.json (--plan <file> for another)
//   npm run notebook -- <notebook.ipynb> [more.ipynb ...] [-p name=value ...] [--label <label>]
//     -p name=value (or -p name value): injected after the notebook's `parameters` cell, the value parsed like
//     papermill's -p (numbers, true/false, null, JSON lists/objects, else a string); -r name value: always a string.
//     --label: the report is <notebook>-<label>.html.
import * as fs from "fs";
import * as path from "path";
import { outputsDir, PROJECT_ROOT } from "../lib/data";
import { checkLabel, checkPages, executeNotebook, injectParameters, NotebookRun, readNotebook, parseParameterArgs, readPlan, ResolvedRun, runName, writeIndexPage } from "../lib/report";

function plannedRuns(argv: readonly string[]): ResolvedRun[] {
  const { parameters, rest } = parseParameterArgs(argv);
  const onlyIndex = rest.indexOf("--only");
  const option = (flag: string): string | undefined => {
    const at = rest.indexOf(flag);
    if (at < 0) return undefined;
    const value = rest[at + 1];
    if (value === undefined || value.startsWith("-")) throw new Error(`${flag} needs a value`);
    rest.splice(at, 2);
    return value;
  };
  const label = option("--label");
  const planFile = option("--plan");
  if (onlyIndex < 0) {
    if (Object.keys(parameters).length > 0 || label) throw new Error("-p and --label go with npm run notebook -- <notebook>; npm start runs the plan's own parameters");
    const file = path.resolve(planFile ?? path.join(PROJECT_ROOT, "notebooks", "pipeline.json"));
    if (!fs.existsSync(file)) throw new Error(`no pipeline plan at ${file}`);
    return readPlan(file);
  }
  const notebooks = rest.filter((arg) => arg !== "--only").map((p) => path.resolve(p));
  const flags = notebooks.filter((p) => path.basename(p).startsWith("-"));
  if (flags.length) throw new Error(`unknown option ${path.basename(flags[0])} (options: -p name=value, -r name value, --label <label>)`);
  if (notebooks.length === 0) throw new Error("no notebook given: npm run notebook -- notebooks/<file>.ipynb [-p name=value ...] [--label <label>]");
  if (label) checkLabel(label);
  for (const nb of notebooks) if (!fs.existsSync(nb)) throw new Error(`notebook not found: ${nb}`);
  return notebooks.map((notebook) => ({ notebook, name: runName(notebook, label), label, parameters: Object.keys(parameters).length ? parameters : undefined }));
}

async function main(): Promise<number> {
  const plan = plannedRuns(process.argv.slice(2));
  // Every run's parameters are checked against its notebook before the first one starts.
  for (const run of plan) injectParameters(readNotebook(run.notebook), run.parameters ?? {}, run.notebook);

  const reportsDir = outputsDir("reports");
  fs.mkdirSync(reportsDir, { recursive: true });
  const runsFile = path.join(reportsDir, "runs.json");
  const previous: NotebookRun[] = fs.existsSync(runsFile) ? JSON.parse(fs.readFileSync(runsFile, "utf8")) : [];
  const runs = new Map(previous.map((run) => [run.name, run]));

  const started = Date.now();
  let failed = 0;
  for (const planned of plan) {
    const parameters = Object.entries(planned.parameters ?? {}).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(" ");
    console.log(`\n▶ ${path.relative(PROJECT_ROOT, planned.notebook)}${planned.label ? ` [${planned.label}]` : ""}${parameters ? ` ${parameters}` : ""}`);
    const run = await executeNotebook(planned.notebook, { reportsDir, echo: true, label: planned.label, parameters: planned.parameters });
    runs.set(run.name, run);
    if (run.ok) console.log(`✓ ${run.name}: ${run.seconds.toFixed(1)} s, ${run.plots} charts → ${path.relative(PROJECT_ROOT, run.html)}`);
    else {
      failed++;
      console.error(`✗ ${run.name} failed after ${run.seconds.toFixed(1)} s:\n${run.error}`);
    }
  }
  const ordered = [...runs.values()].filter((run) => fs.existsSync(run.notebook)).sort((a, b) => a.name.localeCompare(b.name));
  fs.writeFileSync(runsFile, JSON.stringify(ordered, null, 2));
  const index = writeIndexPage(reportsDir, ordered);
  console.log(`\nindex: ${path.relative(PROJECT_ROOT, index)} (${((Date.now() - started) / 1000).toFixed(0)} s in all)`);

  const ranNow = new Set(plan.map((run) => run.name));
  const pages = [index, ...ordered.filter((run) => run.ok && ranNow.has(run.name)).map((run) => run.html)];
  const checks = await checkPages(pages);
  for (const check of checks) {
    const problems = [
      check.rendered < check.plots ? `${check.plots - check.rendered} charts not drawn` : "",
      check.externalRequests.length ? `network requests: ${check.externalRequests.slice(0, 3).join(", ")}` : "",
      check.pageErrors.length ? `page errors: ${check.pageErrors.slice(0, 3).join("; ")}` : "",
      check.overflowing > 0 ? `${check.overflowing} code or text blocks run past the right edge` : "",
    ].filter(Boolean);
    console.log(`${check.ok ? "✓" : "✗"} offline render ${path.basename(check.file)}: ${check.rendered}/${check.plots} charts drawn, screenshot ${path.relative(PROJECT_ROOT, check.screenshot)}${problems.length ? " — " + problems.join("; ") : ""}`);
    if (!check.ok) failed++;
  }
  return failed === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  },
);
