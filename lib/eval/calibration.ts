/**
 * Calibration of class probabilities: does "80 % confident" mean right 80 % of the time?
 * Expected calibration error with equal-width confidence bins (Guo et al. 2017):
 *   ECE = Σ_b (n_b / n) · |accuracy_b − mean confidence_b|,  bin b = (b/B, (b+1)/B]  (confidence = max probability).
 */
import type { FigureOptions, PlotlyFigure } from "../viz";
import { baseLayout } from "../viz";
import { argmax, type ProbabilityRows } from "./report";

export interface CalibrationBin {
  lower: number;
  upper: number;
  count: number;
  /** Fraction correct in the bin (NaN when empty). */
  accuracy: number;
  /** Mean confidence in the bin (NaN when empty). */
  confidence: number;
  /** |accuracy − confidence| · count / n: this bin's share of the ECE. */
  contribution: number;
}

export interface Calibration {
  bins: CalibrationBin[];
  /** Expected calibration error in [0, 1]. */
  ece: number;
  /** Maximum calibration error: the largest |accuracy − confidence| over non-empty bins. */
  mce: number;
  /** Overall accuracy and mean confidence (over- or under-confidence at a glance). */
  accuracy: number;
  meanConfidence: number;
}

/** The bin b with b/B < value ≤ (b+1)/B (value 0 goes to the first bin), edges computed as b/B. */
function binOf(value: number, bins: number): number {
  let b = Math.min(bins - 1, Math.max(0, Math.ceil(value * bins) - 1));
  while (b > 0 && value <= b / bins) b--;
  while (b < bins - 1 && value > (b + 1) / bins) b++;
  return b;
}

/** Calibration of the top-class confidence over `bins` equal-width bins (default 10). */
export function calibration(yTrue: ArrayLike<number>, proba: ProbabilityRows, options: { bins?: number } = {}): Calibration {
  if (yTrue.length !== proba.length) throw new Error(`calibration: ${yTrue.length} labels but ${proba.length} probability rows`);
  const numBins = options.bins ?? 10;
  if (!Number.isInteger(numBins) || numBins < 1) throw new Error(`calibration: bins must be a positive integer, got ${numBins}`);
  const count = new Array<number>(numBins).fill(0);
  const correct = new Array<number>(numBins).fill(0);
  const confidenceSum = new Array<number>(numBins).fill(0);
  let totalCorrect = 0;
  let totalConfidence = 0;
  for (let i = 0; i < proba.length; i++) {
    const predicted = argmax(proba[i]);
    const confidence = proba[i][predicted];
    if (!(confidence >= 0 && confidence <= 1 + 1e-6)) throw new Error(`calibration: row ${i} has confidence ${confidence}, not a probability`);
    const b = binOf(confidence, numBins);
    const hit = predicted === yTrue[i] ? 1 : 0;
    count[b] += 1;
    correct[b] += hit;
    confidenceSum[b] += confidence;
    totalCorrect += hit;
    totalConfidence += confidence;
  }
  const n = proba.length;
  const bins = count.map((c, b) => {
    const accuracy = c === 0 ? NaN : correct[b] / c;
    const confidence = c === 0 ? NaN : confidenceSum[b] / c;
    return { lower: b / numBins, upper: (b + 1) / numBins, count: c, accuracy, confidence, contribution: c === 0 ? 0 : (Math.abs(accuracy - confidence) * c) / n };
  });
  const nonEmpty = bins.filter((b) => b.count > 0);
  return {
    bins,
    ece: bins.reduce((s, b) => s + b.contribution, 0),
    mce: nonEmpty.length === 0 ? 0 : Math.max(...nonEmpty.map((b) => Math.abs(b.accuracy - b.confidence))),
    accuracy: n === 0 ? 0 : totalCorrect / n,
    meanConfidence: n === 0 ? 0 : totalConfidence / n,
  };
}

/** Expected calibration error alone. */
export function expectedCalibrationError(yTrue: ArrayLike<number>, proba: ProbabilityRows, bins = 10): number {
  return calibration(yTrue, proba, { bins }).ece;
}

/**
 * Reliability diagram: per bin, accuracy (bars) against mean confidence (markers) and the diagonal of perfect
 * calibration; bars below the diagonal = over-confident. Sample counts per bin on a second axis.
 */
export function reliabilityDiagram(result: Calibration, options: FigureOptions = {}): PlotlyFigure {
  const centers = result.bins.map((b) => (b.lower + b.upper) / 2);
  const width = result.bins.length ? result.bins[0].upper - result.bins[0].lower : 0.1;
  const layout = baseLayout({
    title: options.title ?? `Reliability diagram (ECE ${result.ece.toFixed(3)}, accuracy ${result.accuracy.toFixed(3)}, mean confidence ${result.meanConfidence.toFixed(3)})`,
    xLabel: options.xLabel ?? "confidence (max probability)",
    yLabel: options.yLabel ?? "accuracy",
    height: options.height ?? 460,
    width: options.width ?? 620,
  });
  // Two stacked panels sharing the confidence axis: accuracy on top, sample counts below.
  layout.xaxis = { range: [0, 1], anchor: "y", automargin: true };
  layout.yaxis = { ...(layout.yaxis as object), range: [0, 1], domain: [0.32, 1] };
  layout.xaxis2 = { range: [0, 1], anchor: "y2", matches: "x", automargin: true, title: { text: options.xLabel ?? "confidence (max probability)" } };
  layout.yaxis2 = { title: { text: "samples" }, domain: [0, 0.22], anchor: "x2", automargin: true };
  layout.legend = { x: 0.02, y: 0.98 };
  return {
    data: [
      {
        type: "bar",
        name: "accuracy",
        x: centers,
        y: result.bins.map((b) => (b.count === 0 ? null : b.accuracy)),
        width,
        marker: { color: "rgba(31,119,180,0.75)", line: { color: "#1f77b4", width: 1 } },
        customdata: result.bins.map((b) => [b.lower, b.upper, b.count]),
        hovertemplate: "(%{customdata[0]:.2f}, %{customdata[1]:.2f}]<br>accuracy %{y:.3f}<br>%{customdata[2]} samples<extra></extra>",
      },
      {
        type: "scatter",
        mode: "markers",
        name: "mean confidence",
        x: centers,
        y: result.bins.map((b) => (b.count === 0 ? null : b.confidence)),
        marker: { color: "#d62728", symbol: "line-ew-open", size: 16, line: { width: 3 } },
      },
      { type: "scatter", mode: "lines", name: "perfect calibration", x: [0, 1], y: [0, 1], line: { dash: "dash", color: "#777" }, hoverinfo: "skip" },
      { type: "bar", name: "samples", x: centers, y: result.bins.map((b) => b.count), width, xaxis: "x2", yaxis: "y2", marker: { color: "#999" }, showlegend: false },
    ],
    layout: { ...layout, bargap: 0 },
  };
}
