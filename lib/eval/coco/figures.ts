import { baseLayout, heatmap, type FigureOptions, type PlotlyFigure } from "../../viz";
import type { CocoStats } from "./summary";
import { COCO_STAT_LABELS, COCO_STAT_NAMES, type ClassPrecisionRecall, type DetectionConfusion, type PrCurve } from "./summary";

/** Interpolated PR curves (COCOeval's 101 recall points), one line per class with ground truth. */
export function prCurvesFigure(curves: readonly PrCurve[], options: FigureOptions = {}): PlotlyFigure {
  return {
    data: curves
      .filter((c) => c.precision.some((p) => p > -1))
      .map((c) => ({ type: "scatter", mode: "lines", name: c.category, x: c.recall, y: c.precision.map((p) => Math.max(0, p)) })),
    layout: { ...baseLayout({ xLabel: "recall", yLabel: "precision (interpolated)", ...options }), yaxis: { range: [0, 1.02], title: { text: "precision" } } },
  };
}

/** The detection confusion matrix, counts annotated; rows = true class (+ background), columns = predicted. */
export function detectionConfusionFigure(confusion: DetectionConfusion, options: FigureOptions = {}): PlotlyFigure {
  return heatmap(confusion.counts, confusion.labels, confusion.labels, {
    colorscale: "Viridis",
    digits: 0,
    xLabel: "predicted",
    yLabel: "true",
    title: `score ≥ ${confusion.scoreThreshold}, IoU ≥ ${confusion.iouThreshold}`,
    height: 480,
    ...options,
  });
}

/** The 12 numbers as table rows, with pycocotools' labels. */
export function cocoStatsRows(stats: CocoStats): Array<{ metric: string; name: string; value: number }> {
  return COCO_STAT_NAMES.map((name) => ({ metric: COCO_STAT_LABELS[name], name, value: stats[name] }));
}

/** Per-class table rows: AP, AP50, and precision / recall / F1 at the score threshold. */
export function perClassRows(rows: readonly ClassPrecisionRecall[]): Array<Record<string, string | number>> {
  const f = (v: number) => (Number.isNaN(v) ? "–" : v === -1 ? "-1 (no ground truth)" : Number(v.toFixed(3)));
  return rows.map((r) => ({
    class: r.category,
    "ground truth": r.groundTruth,
    "AP@[.5:.95]": f(r.ap),
    AP50: f(r.ap50),
    detections: r.detections,
    TP: r.truePositives,
    FP: r.falsePositives,
    precision: f(r.precision),
    recall: f(r.recall),
    F1: f(r.f1),
  }));
}

/** Two confusion matrices side by side (e.g. an early and a late checkpoint), each with its own title. */
export function confusionPairFigure(left: DetectionConfusion, right: DetectionConfusion, titles: [string, string], options: FigureOptions = {}): PlotlyFigure {
  const sides = [left, right];
  const data = sides.map((c, i) => ({
    type: "heatmap",
    z: c.counts,
    x: c.labels,
    y: c.labels,
    colorscale: "Blues",
    reversescale: true,
    showscale: i === 1,
    xaxis: i === 0 ? "x" : "x2",
    yaxis: i === 0 ? "y" : "y2",
  }));
  const annotations = sides.flatMap((c, i) =>
    c.counts.flatMap((row, r) =>
      row.map((value, k) => ({ x: c.labels[k], y: c.labels[r], text: String(value), showarrow: false, font: { size: 9 }, xref: i === 0 ? "x" : "x2", yref: i === 0 ? "y" : "y2" })),
    ),
  );
  const axis = (domain: [number, number], title: string) => ({ domain, title: { text: title }, tickangle: -40, automargin: true });
  return {
    data,
    layout: {
      ...baseLayout({ height: 520, ...options }),
      annotations: [
        ...annotations,
        ...titles.map((text, i) => ({ text, x: i === 0 ? 0.2 : 0.8, y: 1.08, xref: "paper", yref: "paper", showarrow: false, font: { size: 13 } })),
      ],
      xaxis: axis([0, 0.45], "predicted"),
      xaxis2: axis([0.55, 1], "predicted"),
      yaxis: { autorange: "reversed", automargin: true, title: { text: "true" } },
      yaxis2: { autorange: "reversed", automargin: true, anchor: "x2" },
    },
  };
}
