import * as fs from "fs";
import * as path from "path";
import { escapeHtml } from "../viz";
import type { NotebookRun } from "./execute";
import { readReportSummary, summaryHtml } from "./summary";

/** Extra content for the report's cover page (e.g. the chosen model and its headline numbers). */
export interface CoverSection {
  heading: string;
  html: string;
}

/** A run's injected parameters, one `name = value` per line (empty: the notebook's defaults). */
function parametersHtml(parameters: NotebookRun["parameters"]): string {
  const entries = Object.entries(parameters ?? {});
  if (entries.length === 0) return `<span style="color:#888;font-family:system-ui,sans-serif;font-size:16px">defaults</span>`;
  return entries.map(([name, value]) => `${escapeHtml(name)} = ${escapeHtml(JSON.stringify(value))}`).join("<br>");
}

/**
 * Write outputs/reports/index.html, the coursework's cover: the task, the chosen model and its headline numbers and the
 * run comparison (from the evaluation notebook's summary.json, when it has run), and every run: notebook, run label,
 * injected parameters, a link to its report.
 */
export function writeIndexPage(reportsDir: string, runs: readonly NotebookRun[], sections: readonly CoverSection[] = []): string {
  const summary = readReportSummary(reportsDir);
  const rows = runs
    .map((run) => {
      const link = run.ok ? `<a href="${escapeHtml(path.basename(run.html))}">${escapeHtml(run.title)}</a>` : escapeHtml(run.title);
      const status = run.ok ? "ok" : "<b style=\"color:#b00\">failed</b>";
      const notebook = path.basename(run.notebook, ".ipynb");
      return `<tr><td>${escapeHtml(notebook)}</td><td>${escapeHtml(run.label ?? "")}</td><td>${link}</td><td class="params">${parametersHtml(run.parameters)}</td><td style="text-align:right">${run.seconds.toFixed(1)} s</td><td style="text-align:right">${run.plots}</td><td>${status}</td></tr>`;
    })
    .join("\n");
  const extra = [
    summary ? summaryHtml(summary) : "<p><i>No evaluation summary yet: run the evaluation notebook (07) to put the chosen model and its numbers here.</i></p>",
    ...sections.map((s) => `<h2>${escapeHtml(s.heading)}</h2>\n${s.html}`),
  ].join("\n");
  const html = `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>POI engagement — coursework report</title>
<style>body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse}td,th{padding:4px 10px;border-bottom:1px solid #ddd;text-align:left;vertical-align:top}
td.params{font-family:monospace;font-size:13px;white-space:nowrap}th{white-space:nowrap}</style></head>
<body>
<h1>Predicting the engagement of tourist points of interest</h1>
<p><b>Task.</b> Predict the engagement level (low / medium / high) of a tourist point of interest from its photo and
its metadata (categories, tier, tags, experience points, location). Engagement is the M2 metric of the Visits, Likes,
Dislikes and Bookmarks counts, cut into tertiles fitted on the training rows; those counts are never model inputs.
Splits are grouped (rows sharing an id or photo stay together) and everything fitted is fitted on training rows only.</p>
<p>Written in TypeScript notebooks (tslab kernel, TensorFlow.js). Each notebook below was executed headless on the
data found at run time; every number in them, and on this page, was computed then.</p>
${extra}
<h2>Notebooks</h2>
<table><thead><tr><th>notebook</th><th>run</th><th>title</th><th>parameters</th><th>run time</th><th>charts</th><th>status</th></tr></thead>
<tbody>
${rows}
</tbody></table>
<p style="color:#666;font-size:12px">Generated ${new Date().toISOString()}.</p>
</body></html>
`;
  const file = path.join(reportsDir, "index.html");
  fs.writeFileSync(file, html);
  return file;
}
