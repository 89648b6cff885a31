/**
 * Classification report and confusion matrix for notebooks: the numbers come from lib/train's sklearn-exact
 * metrics; this file adds the row-normalised matrix (sklearn's `normalize="true"`), table rows, an HTML table
 * and plotly heat maps.
 */
import { classificationReport, confusionMatrix, type ClassificationReport, type ClassScores } from "../train";
import { captioned, escapeHtml, formatNumber, heatmap, tableHtml, type FigureOptions, type PlotlyFigure } from "../viz";

/** Probability rows (any model's output): one row per sample, one column per class. */
export type ProbabilityRows = readonly ArrayLike<number>[];

/** Index of the largest value (first one on ties, as numpy's argmax). */
export function argmax(row: ArrayLike<number>): number {
  let best = 0;
  for (let j = 1; j < row.length; j++) if (row[j] > row[best]) best = j;
  return best;
}

/** Predicted class per sample: argmax of each probability row. */
export function predictedClasses(proba: ProbabilityRows): number[] {
  return proba.map((row) => argmax(row));
}

export type Normalization = "true" | "pred" | "all";

/**
 * sklearn's `confusion_matrix(..., normalize=...)`: "true" divides each row (true class) by its total, so the
 * diagonal is per-class recall; "pred" divides each column; "all" divides by the number of samples. A row or
 * column without samples becomes zeros (sklearn's `nan_to_num`).
 */
export function normalizeConfusionMatrix(matrix: readonly (readonly number[])[], normalize: Normalization = "true"): number[][] {
  const rowSums = matrix.map((row) => row.reduce((a, b) => a + b, 0));
  const colSums = matrix[0]?.map((_, j) => matrix.reduce((sum, row) => sum + row[j], 0)) ?? [];
  const total = rowSums.reduce((a, b) => a + b, 0);
  return matrix.map((row, i) =>
    row.map((count, j) => {
      const denominator = normalize === "true" ? rowSums[i] : normalize === "pred" ? colSums[j] : total;
      return denominator === 0 ? 0 : count / denominator;
    }),
  );
}

/** Counts and row-normalised confusion matrix over the classes 0..k-1 (rows: true class, columns: predicted). */
export function confusionMatrices(
  yTrue: ArrayLike<number>,
  yPred: ArrayLike<number>,
  classNames: readonly string[],
): { labels: number[]; classNames: string[]; counts: number[][]; rowNormalized: number[][] } {
  const labels = classNames.map((_, i) => i);
  const counts = confusionMatrix(yTrue, yPred, labels);
  return { labels, classNames: [...classNames], counts, rowNormalized: normalizeConfusionMatrix(counts, "true") };
}

/** The classification report over the classes 0..k-1 named by `classNames` (sklearn's `labels` + `target_names`). */
export function evaluationReport(yTrue: ArrayLike<number>, yPred: ArrayLike<number>, classNames: readonly string[], digits = 3): ClassificationReport {
  return classificationReport(yTrue, yPred, classNames.map((_, i) => i), classNames, digits);
}

export interface ReportRow {
  /** Class name, or "accuracy" / "micro avg" / "macro avg" / "weighted avg". */
  class: string;
  precision: number | null;
  recall: number | null;
  "f1-score": number;
  support: number;
}

/** The report as table rows in sklearn's order (the accuracy row has only F1 = accuracy and the support). */
export function reportRows(report: ClassificationReport): ReportRow[] {
  const row = (name: string, s: ClassScores): ReportRow => ({ class: name, precision: s.precision, recall: s.recall, "f1-score": s["f1-score"], support: s.support });
  const rows = report.targetNames.map((name) => row(name, report.classes[name]));
  if (report.accuracy !== undefined) rows.push({ class: "accuracy", precision: null, recall: null, "f1-score": report.accuracy, support: report.macroAvg.support });
  if (report.microAvg) rows.push(row("micro avg", report.microAvg));
  rows.push(row("macro avg", report.macroAvg), row("weighted avg", report.weightedAvg));
  return rows;
}

/** The report as an HTML table (numbers rounded to `digits` decimals, as sklearn's text). */
export function reportHtml(report: ClassificationReport, options: { digits?: number; caption?: string } = {}): string {
  const digits = options.digits ?? 3;
  const fixed = (value: number | null): string | null => (value === null ? null : value.toFixed(digits));
  const rows = reportRows(report).map((r) => ({ class: r.class, precision: fixed(r.precision), recall: fixed(r.recall), "f1-score": fixed(r["f1-score"]), support: r.support }));
  return tableHtml(rows, { caption: options.caption ?? "Classification report", maxRows: rows.length });
}

/**
 * A confusion-matrix heat map: colour = row share (recall per true class, comparable across classes of
 * different sizes), text = count and row share. `normalized: true` writes only the shares.
 */
export function confusionMatrixFigure(
  counts: readonly (readonly number[])[],
  classNames: readonly string[],
  options: FigureOptions & { normalized?: boolean } = {},
): PlotlyFigure {
  const shares = normalizeConfusionMatrix(counts, "true");
  const figure = heatmap(shares, classNames, classNames, {
    title: options.title ?? (options.normalized ? "Confusion matrix (row-normalised)" : "Confusion matrix"),
    xLabel: options.xLabel ?? "predicted",
    yLabel: options.yLabel ?? "true",
    colorscale: "Blues",
    zmin: 0,
    zmax: 1,
    text: counts.map((row, i) => row.map((count, j) => (options.normalized ? formatNumber(shares[i][j], 2) : `${count}<br>${(shares[i][j] * 100).toFixed(0)}%`))),
    // Three classes fit 460 × 380 px; more classes get room for two lines of text per cell (and long names).
    fontSize: classNames.length > 6 ? 11 : 13,
    height: options.height ?? Math.max(380, 150 + 48 * classNames.length),
    width: options.width ?? Math.max(460, 260 + 60 * classNames.length),
  });
  figure.data[0].colorbar = { title: { text: "row share" } };
  figure.data[0].hovertemplate = "true %{y}<br>predicted %{x}<br>row share %{z:.3f}<extra></extra>";
  return figure;
}

/** The confusion matrix as an HTML table: "count (row %)" per cell, rows = true class. */
export function confusionMatrixHtml(counts: readonly (readonly number[])[], classNames: readonly string[], caption = "Confusion matrix (rows: true, columns: predicted)"): string {
  const shares = normalizeConfusionMatrix(counts, "true");
  const header = `<tr><th style="padding:2px 8px">true \\ pred</th>${classNames.map((n) => `<th style="padding:2px 8px">${escapeHtml(n)}</th>`).join("")}<th style="padding:2px 8px">total</th></tr>`;
  const body = counts
    .map((row, i) => {
      const total = row.reduce((a, b) => a + b, 0);
      const cells = row
        .map((count, j) => {
          const background = `rgba(31,119,180,${(shares[i][j] * 0.8).toFixed(3)})`;
          return `<td style="text-align:right;padding:2px 8px;background:${background}">${count} (${(shares[i][j] * 100).toFixed(1)}%)</td>`;
        })
        .join("");
      return `<tr><th style="text-align:left;padding:2px 8px">${escapeHtml(classNames[i])}</th>${cells}<td style="text-align:right;padding:2px 8px">${total}</td></tr>`;
    })
    .join("");
  return captioned(escapeHtml(caption), `<table class="poi-table" style="border-collapse:collapse;font-size:12px"><thead>${header}</thead><tbody>${body}</tbody></table>`);
}
