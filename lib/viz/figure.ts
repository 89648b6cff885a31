/** A plotly figure as plain data: what `Plotly.newPlot(div, data, layout)` takes. */
export interface PlotlyFigure {
  data: Record<string, unknown>[];
  layout: Record<string, unknown>;
}

export interface FigureOptions {
  title?: string;
  xLabel?: string;
  yLabel?: string;
  height?: number;
  width?: number;
}

export function baseLayout(options: FigureOptions): Record<string, unknown> {
  return {
    title: options.title ? { text: options.title } : undefined,
    xaxis: { title: { text: options.xLabel ?? "" }, automargin: true },
    yaxis: { title: { text: options.yLabel ?? "" }, automargin: true },
    height: options.height ?? 420,
    width: options.width,
    margin: { l: 60, r: 30, t: options.title ? 60 : 30, b: 60 },
    template: undefined,
  };
}

export function histogram(values: readonly number[], options: FigureOptions & { bins?: number; name?: string } = {}): PlotlyFigure {
  return {
    data: [{ type: "histogram", x: values, nbinsx: options.bins ?? 40, name: options.name ?? "", marker: { line: { width: 0.5, color: "white" } } }],
    layout: { ...baseLayout({ yLabel: "count", ...options }), bargap: 0.02 },
  };
}

/** Several histograms overlaid (e.g. the same quantity per split or per class). */
export function overlaidHistograms(series: Record<string, readonly number[]>, options: FigureOptions & { bins?: number } = {}): PlotlyFigure {
  return {
    data: Object.entries(series).map(([name, values]) => ({ type: "histogram", x: values, name, opacity: 0.6, nbinsx: options.bins ?? 40 })),
    layout: { ...baseLayout({ yLabel: "count", ...options }), barmode: "overlay" },
  };
}

/** One box per group. */
export function boxPlot(groups: Record<string, readonly number[]>, options: FigureOptions & { points?: "outliers" | "all" | false } = {}): PlotlyFigure {
  return {
    data: Object.entries(groups).map(([name, values]) => ({ type: "box", y: values, name, boxpoints: options.points ?? "outliers", boxmean: true })),
    layout: { ...baseLayout(options), showlegend: false },
  };
}

export function barChart(labels: readonly string[], values: readonly number[], options: FigureOptions & { horizontal?: boolean; text?: readonly string[] } = {}): PlotlyFigure {
  const bar = options.horizontal
    ? { type: "bar", orientation: "h", y: labels, x: values }
    : { type: "bar", x: labels, y: values };
  return {
    data: [{ ...bar, text: options.text ?? values.map((v) => formatNumber(v)), textposition: "auto" }],
    layout: baseLayout(options),
  };
}

/** Bars grouped by category: one trace per series (e.g. backbone × augmentation preset). */
export function groupedBarChart(categories: readonly string[], series: Record<string, readonly number[]>, options: FigureOptions & { errors?: Record<string, readonly number[]> } = {}): PlotlyFigure {
  return {
    data: Object.entries(series).map(([name, values]) => ({
      type: "bar",
      name,
      x: categories,
      y: values,
      error_y: options.errors?.[name] ? { type: "data", array: options.errors[name], visible: true } : undefined,
    })),
    layout: { ...baseLayout(options), barmode: "group" },
  };
}

export function heatmap(
  z: readonly (readonly number[])[],
  xLabels: readonly string[],
  yLabels: readonly string[],
  options: FigureOptions & { colorscale?: string; zmin?: number; zmax?: number; annotate?: boolean; digits?: number } = {},
): PlotlyFigure {
  const annotations = options.annotate === false
    ? []
    : z.flatMap((row, i) =>
        row.map((value, j) => ({ x: xLabels[j], y: yLabels[i], text: formatNumber(value, options.digits ?? 2), showarrow: false, font: { size: 10 } })),
      );
  return {
    data: [{ type: "heatmap", z, x: xLabels, y: yLabels, colorscale: options.colorscale ?? "RdBu", zmin: options.zmin, zmax: options.zmax, reversescale: options.colorscale === undefined }],
    layout: { ...baseLayout(options), annotations, yaxis: { autorange: "reversed", automargin: true, title: { text: options.yLabel ?? "" } } },
  };
}

export interface ScatterOptions extends FigureOptions {
  text?: readonly string[];
  /** Group name per point: one trace (colour) per group. */
  groups?: readonly string[];
  markerSize?: number;
  /** Keep one unit on x equal to one unit on y (maps). */
  equalAspect?: boolean;
}

export function scatter(x: readonly number[], y: readonly number[], options: ScatterOptions = {}): PlotlyFigure {
  const groupNames = options.groups ? [...new Set(options.groups)].sort() : [""];
  const data = groupNames.map((group) => {
    const index = x.map((_, i) => i).filter((i) => !options.groups || options.groups[i] === group);
    return {
      type: "scatter",
      mode: "markers",
      name: group,
      x: index.map((i) => x[i]),
      y: index.map((i) => y[i]),
      text: options.text ? index.map((i) => options.text![i]) : undefined,
      marker: { size: options.markerSize ?? 6, opacity: 0.75 },
    };
  });
  const layout = baseLayout(options);
  if (options.equalAspect) layout.yaxis = { ...(layout.yaxis as object), scaleanchor: "x", scaleratio: 1 };
  return { data, layout: { ...layout, showlegend: groupNames.length > 1 } };
}

/**
 * Points on longitude/latitude axes. Plotly's geo and tile maps fetch base maps from the internet, so offline
 * reports use a plain scatter with a cos(latitude) aspect ratio, which keeps distances honest at city scale.
 */
export function lonLatMap(lon: readonly number[], lat: readonly number[], options: ScatterOptions = {}): PlotlyFigure {
  const meanLat = lat.reduce((a, b) => a + b, 0) / Math.max(1, lat.length);
  const figure = scatter(lon, lat, { xLabel: "longitude", yLabel: "latitude", height: 560, ...options });
  figure.layout.yaxis = { ...(figure.layout.yaxis as object), scaleanchor: "x", scaleratio: 1 / Math.cos((meanLat * Math.PI) / 180) };
  return figure;
}

/** Lines sharing an x axis (e.g. per-epoch training curves). */
export function lineChart(x: readonly number[], series: Record<string, readonly number[]>, options: FigureOptions = {}): PlotlyFigure {
  return {
    data: Object.entries(series).map(([name, y]) => ({ type: "scatter", mode: "lines+markers", name, x, y })),
    layout: baseLayout(options),
  };
}

export function formatNumber(value: number, digits = 3): string {
  if (!Number.isFinite(value)) return String(value);
  if (Number.isInteger(value)) return String(value);
  const abs = Math.abs(value);
  if (abs !== 0 && (abs < 1e-3 || abs >= 1e6)) return value.toExponential(digits - 1);
  return value.toFixed(digits);
}
