import type { Distribution, ParamValue } from "./distributions";
import { getParamImportances, type ImportanceOptions } from "./importance";
import type { FrozenTrial, StudyDirection } from "./types";

/**
 * A plotly figure as plain data, the same shape as lib/viz's PlotlyFigure (lib/tune does not import
 * lib/viz): notebooks show these with lib/viz's `show()`.
 */
export interface PlotlyFigure {
  data: Record<string, unknown>[];
  layout: Record<string, unknown>;
}

/** The part of a Study the plots read (a Study fits). */
export interface PlotSource {
  readonly name: string;
  readonly direction: StudyDirection;
  readonly trials: FrozenTrial[];
}

export interface TargetOptions {
  /** Plot something else than the objective value (e.g. a user attribute). */
  target?: (trial: FrozenTrial) => number;
  targetName?: string;
}

function completedTrials(study: PlotSource): FrozenTrial[] {
  return study.trials.filter((t) => t.state === "COMPLETE" && t.value !== null);
}

function targetOf(options: TargetOptions): (t: FrozenTrial) => number {
  return options.target ?? ((t) => t.value as number);
}

/** Distribution of a parameter shared by the completed trials (the latest one when it changed). */
function paramDistribution(trials: FrozenTrial[], name: string): Distribution | null {
  for (let i = trials.length - 1; i >= 0; i--) if (trials[i].distributions[name]) return trials[i].distributions[name];
  return null;
}

function allParamNames(trials: FrozenTrial[]): string[] {
  return [...new Set(trials.flatMap((t) => Object.keys(t.params)))].sort();
}

/** Objective value of each completed trial, and the best value so far (Optuna's plot_optimization_history). */
export function plotOptimizationHistory(study: PlotSource, options: TargetOptions = {}): PlotlyFigure {
  const trials = completedTrials(study);
  const target = targetOf(options);
  const name = options.targetName ?? "Objective Value";
  const values = trials.map(target);
  const best: number[] = [];
  for (const v of values) {
    const previous = best.length === 0 ? v : best[best.length - 1];
    best.push(study.direction === "minimize" ? Math.min(previous, v) : Math.max(previous, v));
  }
  const data: Record<string, unknown>[] = [
    { type: "scatter", mode: "markers", name, x: trials.map((t) => t.number), y: values, marker: { color: "#1f77b4" } },
  ];
  if (options.target === undefined) {
    data.push({ type: "scatter", mode: "lines", name: "Best Value", x: trials.map((t) => t.number), y: best, line: { color: "#ef553b" } });
  }
  return {
    data,
    layout: { title: { text: `Optimization History Plot (${study.name})` }, xaxis: { title: { text: "Trial" } }, yaxis: { title: { text: name } } },
  };
}

/** Horizontal bars of fANOVA importances (see getParamImportances), most important on top. */
export function plotParamImportances(study: PlotSource, options: ImportanceOptions & { targetName?: string } = {}): PlotlyFigure {
  const importances = getParamImportances(study, options);
  const entries = Object.entries(importances).reverse();
  return {
    data: [
      {
        type: "bar",
        orientation: "h",
        x: entries.map(([, v]) => v),
        y: entries.map(([k]) => k),
        text: entries.map(([, v]) => (v < 0.01 ? "<0.01" : v.toFixed(2))),
        textposition: "outside",
        marker: { color: "#1f77b4" },
        hovertemplate: "%{y}: %{x:.3f}<extra></extra>",
      },
    ],
    layout: {
      title: { text: "Hyperparameter Importances" },
      xaxis: { title: { text: `Importance for ${options.targetName ?? "Objective Value"} (fANOVA)` }, range: [0, 1.1] },
      yaxis: { title: { text: "Hyperparameter" }, automargin: true },
      margin: { l: 120 },
    },
  };
}

function axisForDistribution(dist: Distribution | null): Record<string, unknown> {
  if (dist && dist.type !== "categorical" && dist.log) return { type: "log" };
  if (dist && dist.type === "categorical") return { type: "category", categoryorder: "array", categoryarray: dist.choices.map(String) };
  return {};
}

function displayValue(v: ParamValue): number | string {
  return typeof v === "number" ? v : String(v);
}

/** One panel per parameter: objective vs parameter value, coloured by trial number (Optuna's plot_slice). */
export function plotSlice(study: PlotSource, options: TargetOptions & { params?: string[] } = {}): PlotlyFigure {
  const trials = completedTrials(study);
  const target = targetOf(options);
  const names = options.params ?? allParamNames(trials);
  const n = Math.max(names.length, 1);
  const gap = 0.03;
  const width = (1 - gap * (n - 1)) / n;
  const data: Record<string, unknown>[] = [];
  const layout: Record<string, unknown> = {
    title: { text: "Slice Plot" },
    showlegend: false,
    yaxis: { title: { text: options.targetName ?? "Objective Value" } },
  };
  names.forEach((name, i) => {
    const withParam = trials.filter((t) => name in t.params);
    const suffix = i === 0 ? "" : String(i + 1);
    data.push({
      type: "scatter",
      mode: "markers",
      name,
      x: withParam.map((t) => displayValue(t.params[name])),
      y: withParam.map(target),
      xaxis: `x${suffix}`,
      yaxis: "y",
      marker: {
        color: withParam.map((t) => t.number),
        colorscale: "Blues",
        showscale: i === names.length - 1,
        colorbar: { title: { text: "Trial" } },
        line: { width: 0.5, color: "Grey" },
      },
      hovertemplate: `${name}: %{x}<br>value: %{y}<extra></extra>`,
    });
    layout[`xaxis${suffix}`] = {
      ...axisForDistribution(paramDistribution(withParam, name)),
      title: { text: name },
      domain: [i * (width + gap), i * (width + gap) + width],
      anchor: "y",
    };
  });
  return { data, layout };
}

export interface ContourOptions extends TargetOptions {
  /** The two parameters on the axes (default: the two most important ones). */
  params?: [string, string];
  /** Grid resolution per axis. Default 50. */
  resolution?: number;
}

/**
 * Objective over two parameters: a contour of the completed trials' values interpolated on a grid
 * (inverse-distance weighting, power 2, in the axes' own scales — log for log parameters, choice
 * index for categorical ones), with the trials themselves as points (Optuna's plot_contour interpolates too).
 */
export function plotContour(study: PlotSource, options: ContourOptions = {}): PlotlyFigure {
  const trials = completedTrials(study);
  const target = targetOf(options);
  let names = options.params;
  if (!names) {
    const ranked = Object.keys(getParamImportances(study));
    if (ranked.length < 2) throw new Error("plotContour: needs two parameters");
    names = [ranked[0], ranked[1]];
  }
  const [xName, yName] = names;
  const usable = trials.filter((t) => xName in t.params && yName in t.params);
  if (usable.length < 2) throw new Error(`plotContour: fewer than 2 completed trials have both "${xName}" and "${yName}"`);
  const dists = names.map((n) => paramDistribution(usable, n) as Distribution);
  const toAxis = (dist: Distribution, v: ParamValue): number => {
    if (dist.type === "categorical") return dist.choices.findIndex((c) => c === v);
    return dist.log ? Math.log10(v as number) : (v as number);
  };
  const px = usable.map((t) => toAxis(dists[0], t.params[xName]));
  const py = usable.map((t) => toAxis(dists[1], t.params[yName]));
  const pz = usable.map(target);
  const range = (values: number[], dist: Distribution): [number, number] => {
    if (dist.type === "categorical") return [0, dist.choices.length - 1];
    const lo = dist.log ? Math.log10(dist.low) : dist.low;
    const hi = dist.log ? Math.log10(dist.high) : dist.high;
    return lo === hi ? [Math.min(...values) - 0.5, Math.max(...values) + 0.5] : [lo, hi];
  };
  const [x0, x1] = range(px, dists[0]);
  const [y0, y1] = range(py, dists[1]);
  const res = options.resolution ?? 50;
  const gx = Array.from({ length: res }, (_, i) => x0 + ((x1 - x0) * i) / (res - 1));
  const gy = Array.from({ length: res }, (_, i) => y0 + ((y1 - y0) * i) / (res - 1));
  const z = gy.map((yv) =>
    gx.map((xv) => {
      let num = 0;
      let den = 0;
      for (let k = 0; k < px.length; k++) {
        const d2 = ((xv - px[k]) / (x1 - x0 || 1)) ** 2 + ((yv - py[k]) / (y1 - y0 || 1)) ** 2;
        if (d2 < 1e-18) return pz[k];
        num += pz[k] / d2;
        den += 1 / d2;
      }
      return num / den;
    }),
  );
  const fromAxis = (dist: Distribution, v: number): number | string =>
    dist.type === "categorical" ? String(dist.choices[Math.round(v)]) : dist.log ? 10 ** v : v;
  const axis = (dist: Distribution, name: string): Record<string, unknown> =>
    dist.type === "categorical"
      ? { title: { text: name }, tickvals: dist.choices.map((_, i) => i), ticktext: dist.choices.map(String) }
      : dist.log
        ? { title: { text: `${name} (log10)` } }
        : { title: { text: name } };
  return {
    data: [
      {
        type: "contour",
        x: gx,
        y: gy,
        z,
        colorscale: "Blues",
        reversescale: study.direction === "minimize",
        colorbar: { title: { text: options.targetName ?? "Objective Value" } },
        contours: { coloring: "heatmap" },
        hoverinfo: "skip",
      },
      {
        type: "scatter",
        mode: "markers",
        x: px,
        y: py,
        text: usable.map((t, k) => `trial ${t.number}: ${xName}=${fromAxis(dists[0], px[k])}, ${yName}=${fromAxis(dists[1], py[k])}, value=${pz[k]}`),
        hoverinfo: "text",
        marker: { color: "black", size: 6, line: { color: "white", width: 1 } },
        showlegend: false,
      },
    ],
    layout: { title: { text: "Contour Plot" }, xaxis: axis(dists[0], xName), yaxis: axis(dists[1], yName) },
  };
}

/** One line per completed trial across the objective and every parameter (Optuna's plot_parallel_coordinate). */
export function plotParallelCoordinate(study: PlotSource, options: TargetOptions & { params?: string[] } = {}): PlotlyFigure {
  const trials = completedTrials(study);
  const target = targetOf(options);
  const names = options.params ?? allParamNames(trials);
  // Only trials with every plotted parameter can be drawn as a full line.
  const usable = trials.filter((t) => names.every((n) => n in t.params));
  const values = usable.map(target);
  const dimensions: Record<string, unknown>[] = [{ label: options.targetName ?? "Objective Value", values, range: [Math.min(...values), Math.max(...values)] }];
  for (const name of names) {
    const dist = paramDistribution(usable, name);
    const raw = usable.map((t) => t.params[name]);
    if (dist && dist.type === "categorical") {
      const choices = dist.choices.filter((c) => raw.some((v) => v === c));
      dimensions.push({ label: name, values: raw.map((v) => choices.findIndex((c) => c === v)), tickvals: choices.map((_, i) => i), ticktext: choices.map(String) });
    } else if (dist && "log" in dist && dist.log) {
      const logs = (raw as number[]).map(Math.log10);
      const lo = Math.floor(Math.min(...logs));
      const hi = Math.ceil(Math.max(...logs));
      const ticks = Array.from({ length: hi - lo + 1 }, (_, i) => lo + i);
      dimensions.push({ label: `${name} (log)`, values: logs, tickvals: ticks, ticktext: ticks.map((k) => `1e${k}`) });
    } else {
      dimensions.push({ label: name, values: raw as number[] });
    }
  }
  return {
    data: [
      {
        type: "parcoords",
        dimensions,
        line: {
          color: values,
          colorscale: "Blues",
          reversescale: study.direction === "minimize",
          showscale: true,
          colorbar: { title: { text: options.targetName ?? "Objective Value" } },
        },
      },
    ],
    layout: { title: { text: "Parallel Coordinate Plot" } },
  };
}

/** Learning curves reported with trial.report(), one line per trial (Optuna's plot_intermediate_values). */
export function plotIntermediateValues(study: PlotSource): PlotlyFigure {
  const trials = study.trials.filter((t) => Object.keys(t.intermediateValues).length > 0);
  return {
    data: trials.map((t) => {
      const steps = Object.keys(t.intermediateValues).map(Number).sort((a, b) => a - b);
      return {
        type: "scatter",
        mode: "lines+markers",
        name: `Trial${t.number}${t.state === "PRUNED" ? " (pruned)" : ""}`,
        x: steps,
        y: steps.map((s) => t.intermediateValues[s]),
        line: t.state === "PRUNED" ? { dash: "dot" } : {},
      };
    }),
    layout: { title: { text: "Intermediate Values Plot" }, xaxis: { title: { text: "Step" } }, yaxis: { title: { text: "Intermediate Value" } } },
  };
}

