import * as fs from "fs";
import * as path from "path";
import { outputsDir } from "../data";
import { escapeHtml, figureHtml, formatNumber, PlotlyFigure, plotlyLibraryScript, tableHtml } from "../viz";

/** A headline number of the final model, e.g. test accuracy, or CV macro-F1 mean ± std. */
export interface HeadlineMetric {
  name: string;
  value: number;
  std?: number;
  /** Where it was measured, e.g. "test split (236 rows)" or "5 grouped folds × 3 seeds". */
  on: string;
}

/**
 * What the evaluation notebook concluded, written as JSON next to the reports so the cover page (index.html) can show
 * it. Every value is produced by the notebook's code on the run that wrote it.
 */
export interface ReportSummary {
  generatedAt: string;
  /** The model chosen for the coursework and why, in a sentence or two. */
  chosenModel: { name: string; description: string; runId?: string; experiment?: string };
  headline: HeadlineMetric[];
  /** Facts about the data the numbers come from (rows, images, split sizes...). */
  data: Record<string, string | number>;
  /** Best tracked runs of notebooks 04–06 as table rows. */
  comparison: object[];
  comparisonFigure?: PlotlyFigure;
}

export const SUMMARY_FILE = "summary.json";

export function writeReportSummary(summary: ReportSummary, reportsDir = outputsDir("reports")): string {
  fs.mkdirSync(reportsDir, { recursive: true });
  const file = path.join(reportsDir, SUMMARY_FILE);
  fs.writeFileSync(file, JSON.stringify(summary, null, 2));
  return file;
}

export function readReportSummary(reportsDir = outputsDir("reports")): ReportSummary | null {
  const file = path.join(reportsDir, SUMMARY_FILE);
  return fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, "utf8")) as ReportSummary) : null;
}

/** The cover's "result" part: chosen model, headline numbers, data facts and the run comparison. */
export function summaryHtml(summary: ReportSummary): string {
  const headline = summary.headline
    .map((m) => `<tr><td>${escapeHtml(m.name)}</td><td style="text-align:right;font-size:1.3em"><b>${formatNumber(m.value, 3)}</b>${m.std !== undefined ? ` ± ${formatNumber(m.std, 3)}` : ""}</td><td>${escapeHtml(m.on)}</td></tr>`)
    .join("\n");
  const facts = Object.entries(summary.data).map(([k, v]) => `<li>${escapeHtml(k)}: ${escapeHtml(typeof v === "number" ? formatNumber(v, 3) : v)}</li>`).join("");
  const figure = summary.comparisonFigure ? plotlyLibraryScript() + figureHtml(summary.comparisonFigure) : "";
  return `<h2>Chosen model: ${escapeHtml(summary.chosenModel.name)}</h2>
<p>${escapeHtml(summary.chosenModel.description)}${summary.chosenModel.runId ? ` <span style="color:#666">(run ${escapeHtml(summary.chosenModel.runId)}${summary.chosenModel.experiment ? `, experiment ${escapeHtml(summary.chosenModel.experiment)}` : ""})</span>` : ""}</p>
<table><thead><tr><th>metric</th><th>value</th><th>measured on</th></tr></thead><tbody>${headline}</tbody></table>
<h2>Data</h2><ul>${facts}</ul>
<h2>Run comparison</h2>
${tableHtml(summary.comparison, { maxRows: 40 })}
${figure}
<p style="color:#666;font-size:12px">Summary written by the evaluation notebook at ${escapeHtml(summary.generatedAt)}.</p>`;
}
