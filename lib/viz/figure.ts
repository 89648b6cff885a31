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

/** Axis settings for plain numbers: thousands separated by commas, no SI suffixes (k, M) or exponents. */
export const PLAIN_TICKS = { exponentformat: "none", separatethousands: true } as const;

export function baseLayout(options: FigureOptions): Record<string, unknown> {
  return {
    title: options.title ? { text: options.title } : undefined,
    // Plain numbers on the axes ("10,005", never plotly's SI "10.005k").
    xaxis: { title: { text: options.xLabel ?? "" }, automargin: true, ...PLAIN_TICKS },
    yaxis: { title: { text: options.yLabel ?? "" }, automargin: true, ...PLAIN_TICKS },
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

/** A plotly colour scale as explicit stops: `[[0, "#rrggbb"], ..., [1, "#rrggbb"]]`. */
export type ColorScale = [number, string][];

/**
 * The named scales heatmaps use, as explicit stops (so the page and the text colours agree on every cell's colour).
 * RdBu is ColorBrewer's diverging red–white–blue (light in the middle, where correlations are near 0); Blues runs from
 * white to dark blue (matplotlib's direction, the one readers expect for counts and shares).
 */
export const COLOR_SCALES: Record<string, ColorScale> = {
  RdBu: [[0, "#67001f"], [0.1, "#b2182b"], [0.2, "#d6604d"], [0.3, "#f4a582"], [0.4, "#fddbc7"], [0.5, "#f7f7f7"], [0.6, "#d1e5f0"], [0.7, "#92c5de"], [0.8, "#4393c3"], [0.9, "#2166ac"], [1, "#053061"]],
  Blues: [[0, "#f7fbff"], [0.125, "#deebf7"], [0.25, "#c6dbef"], [0.375, "#9ecae1"], [0.5, "#6baed6"], [0.625, "#4292c6"], [0.75, "#2171b5"], [0.875, "#08519c"], [1, "#08306b"]],
  Greens: [[0, "#f7fcf5"], [0.25, "#c7e9c0"], [0.5, "#74c476"], [0.75, "#238b45"], [1, "#00441b"]],
  Viridis: [[0, "#440154"], [0.25, "#3b528b"], [0.5, "#21918c"], [0.75, "#5ec962"], [1, "#fde725"]],
};

function rgbOf(color: string): [number, number, number] {
  const hex = color.match(/^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i);
  if (hex) return [parseInt(hex[1], 16), parseInt(hex[2], 16), parseInt(hex[3], 16)];
  const rgb = color.match(/^rgba?\(\s*([\d.]+)\s*,\s*([\d.]+)\s*,\s*([\d.]+)/i);
  if (rgb) return [Number(rgb[1]), Number(rgb[2]), Number(rgb[3])];
  throw new Error(`colour ${color}: expected #rrggbb or rgb(r, g, b)`);
}

export function resolveColorScale(scale: string | ColorScale, reverse = false): ColorScale {
  const stops = typeof scale === "string" ? COLOR_SCALES[scale] : scale;
  if (!stops) throw new Error(`unknown colour scale "${scale as string}" (known: ${Object.keys(COLOR_SCALES).join(", ")}, or stops [[0, "#rrggbb"], …, [1, "#rrggbb"]])`);
  return reverse ? stops.map(([t, c]) => [1 - t, c] as [number, string]).reverse() : stops.map(([t, c]) => [t, c] as [number, string]);
}

/** The colour a scale gives at t ∈ [0, 1] (linear between stops, as plotly draws it). */
export function colorAt(scale: ColorScale, t: number): [number, number, number] {
  const x = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0));
  for (let i = 1; i < scale.length; i++) {
    const [t1, c1] = scale[i];
    if (x <= t1) {
      const [t0, c0] = scale[i - 1];
      const f = t1 === t0 ? 0 : (x - t0) / (t1 - t0);
      const a = rgbOf(c0);
      const b = rgbOf(c1);
      return [0, 1, 2].map((k) => a[k] + f * (b[k] - a[k])) as [number, number, number];
    }
  }
  return rgbOf(scale[scale.length - 1][1]);
}

/** WCAG relative luminance of an sRGB colour (0 black … 1 white). */
export function relativeLuminance([r, g, b]: readonly number[]): number {
  const lin = (v: number) => {
    const c = v / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
}

/** Text colour readable on a background: white on dark cells, near-black on light ones (the higher WCAG contrast). */
export function textColorOn(background: readonly number[]): string {
  const l = relativeLuminance(background);
  // Contrast with white (1.05 / (l + 0.05)) against contrast with #222 ((l + 0.05) / 0.066).
  return 1.05 / (l + 0.05) > (l + 0.05) / 0.066 ? "white" : "#222";
}

/** The text colour for a heatmap cell of value `value` on `scale` between zmin and zmax. */
export function heatmapTextColor(value: number, scale: ColorScale, zmin: number, zmax: number): string {
  return textColorOn(colorAt(scale, zmax === zmin ? 0.5 : (value - zmin) / (zmax - zmin)));
}

export interface HeatmapOptions extends FigureOptions {
  /** A named scale (COLOR_SCALES) or explicit stops; default RdBu (low red, middle white, high blue). */
  colorscale?: string | ColorScale;
  reversescale?: boolean;
  zmin?: number;
  zmax?: number;
  /** Write each cell's value (default true), in a colour readable on the cell. */
  annotate?: boolean;
  digits?: number;
  /** Text per cell instead of the value (e.g. "12<br>40%"). */
  text?: readonly (readonly string[])[];
  fontSize?: number;
}

/**
 * A heatmap whose numbers stay readable: each cell's text is white on dark cells and dark on light ones, from the
 * colour the scale gives that cell.
 */
export function heatmap(
  z: readonly (readonly number[])[],
  xLabels: readonly string[],
  yLabels: readonly string[],
  options: HeatmapOptions = {},
): PlotlyFigure {
  const finite = z.flat().filter((v) => Number.isFinite(v));
  const zmin = options.zmin ?? Math.min(...finite);
  const zmax = options.zmax ?? Math.max(...finite);
  const scale = resolveColorScale(options.colorscale ?? "RdBu", options.reversescale ?? false);
  const annotations = options.annotate === false
    ? []
    : z.flatMap((row, i) =>
        row.map((value, j) => ({
          x: xLabels[j],
          y: yLabels[i],
          text: options.text?.[i]?.[j] ?? formatNumber(value, options.digits ?? 2),
          showarrow: false,
          font: { size: options.fontSize ?? 10, color: heatmapTextColor(value, scale, zmin, zmax) },
        })),
      );
  return {
    data: [{ type: "heatmap", z, x: xLabels, y: yLabels, colorscale: scale, zmin, zmax }],
    layout: { ...baseLayout(options), annotations, yaxis: { autorange: "reversed", automargin: true, title: { text: options.yLabel ?? "" }, ...PLAIN_TICKS } },
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
