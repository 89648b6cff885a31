// Execute the notebooks headless in order, write self-contained HTML reports and an index, and check them in
// headless Chromium. Usage: npm start            (every notebook in notebooks/)
//                           npm run notebook -- notebooks/01_exploration.ipynb [more.ipynb ...]
import * as fs from "fs";
import * as path from "path";
import { outputsDir, PROJECT_ROOT } from "../lib/data";
import { checkPages, executeNotebook, listNotebooks, NotebookRun, writeIndexPage } from "../lib/report";

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  const onlyIndex = argv.indexOf("--only");
  const notebooks = onlyIndex >= 0 ? argv.slice(onlyIndex + 1).map((p) => path.resolve(p)) : listNotebooks(path.join(PROJECT_ROOT, "notebooks"));
  if (notebooks.length === 0) throw new Error("no notebooks to run");
  for (const nb of notebooks) if (!fs.existsSync(nb)) throw new Error(`notebook not found: ${nb}`);

  const reportsDir = outputsDir("reports");
  fs.mkdirSync(reportsDir, { recursive: true });
  const runsFile = path.join(reportsDir, "runs.json");
  const previous: NotebookRun[] = fs.existsSync(runsFile) ? JSON.parse(fs.readFileSync(runsFile, "utf8")) : [];
  const runs = new Map(previous.map((run) => [run.name, run]));

  const started = Date.now();
  let failed = 0;
  for (const notebook of notebooks) {
    console.log(`\n▶ ${path.relative(PROJECT_ROOT, notebook)}`);
    const run = await executeNotebook(notebook, { reportsDir, echo: true });
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

  const pages = [index, ...ordered.filter((run) => run.ok && notebooks.includes(run.notebook)).map((run) => run.html)];
  const checks = await checkPages(pages);
  for (const check of checks) {
    const problems = [
      check.rendered < check.plots ? `${check.plots - check.rendered} charts not drawn` : "",
      check.externalRequests.length ? `network requests: ${check.externalRequests.slice(0, 3).join(", ")}` : "",
      check.pageErrors.length ? `page errors: ${check.pageErrors.slice(0, 3).join("; ")}` : "",
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
