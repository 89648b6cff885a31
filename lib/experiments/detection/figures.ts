import { baseLayout, type FigureOptions, type PlotlyFigure } from "../../viz";
import type { EpochRecord } from "./train";

export interface ConvergenceRun {
  label: string;
  history: readonly EpochRecord[];
  bestEpoch: number;
}

/** Validation mAP (and AP50, dotted) per epoch for each run, the chosen (best-mAP) epoch marked with a star. */
export function convergenceFigure(runs: readonly ConvergenceRun[], options: FigureOptions = {}): PlotlyFigure {
  const data = runs.flatMap((run, i) => {
    const color = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728"][i % 4];
    const epochs = run.history.map((r) => r.epoch);
    const best = run.history.find((r) => r.epoch === run.bestEpoch);
    return [
      { type: "scatter", mode: "lines+markers", name: `${run.label} val mAP`, x: epochs, y: run.history.map((r) => r.valMap), line: { color } },
      { type: "scatter", mode: "lines", name: `${run.label} val AP50`, x: epochs, y: run.history.map((r) => r.valAp50), line: { color, dash: "dot" } },
      ...(best
        ? [{ type: "scatter", mode: "markers", name: `${run.label} best epoch ${best.epoch}`, x: [best.epoch], y: [best.valMap], marker: { color, size: 14, symbol: "star" } }]
        : []),
    ];
  });
  return { data, layout: baseLayout({ xLabel: "epoch", yLabel: "validation AP", height: 420, ...options }) };
}

export interface TimeVsMapPoint {
  label: string;
  seconds: number;
  map: number;
  /** Series name, e.g. "validation (chose the epoch)" or "test". */
  group?: string;
}

/** Training time against mAP, one labelled point per run, one colour per group. */
export function timeVsMapFigure(points: readonly TimeVsMapPoint[], options: FigureOptions = {}): PlotlyFigure {
  const groups = [...new Set(points.map((p) => p.group ?? ""))];
  return {
    data: groups.map((group) => {
      const mine = points.filter((p) => (p.group ?? "") === group);
      return {
        type: "scatter",
        mode: "markers+text",
        name: group,
        x: mine.map((p) => p.seconds),
        y: mine.map((p) => p.map),
        text: mine.map((p) => p.label),
        textposition: "top center",
        marker: { size: 12 },
      };
    }),
    layout: baseLayout({ xLabel: "training seconds", yLabel: "mAP", height: 380, ...options }),
  };
}
