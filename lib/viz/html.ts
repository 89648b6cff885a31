import * as fs from "fs";
import { PlotlyFigure } from "./figure";

/** Marks the one inline copy of plotly.js in a page; the report exporter relies on it. */
export const PLOTLY_LIB_MARKER = "poi-plotly-lib";

let plotlySource: string | undefined;

/** plotly.js (minified) from node_modules, read once. */
export function plotlyLibrarySource(): string {
  if (plotlySource === undefined) plotlySource = fs.readFileSync(require.resolve("plotly.js-dist-min/plotly.min.js"), "utf8");
  return plotlySource;
}

/**
 * A <script> that defines window.Plotly offline and then draws every figure that was waiting for it.
 * `define`/`module`/`exports` are shadowed so an AMD loader on the page (Jupyter's require.js) cannot capture plotly.
 */
export function plotlyLibraryScript(): string {
  const source = plotlyLibrarySource().replace(/<\/script/gi, "<\\/script");
  return (
    `<script id="${PLOTLY_LIB_MARKER}" type="text/javascript">` +
    `(function(define, module, exports){${source}\n}).call(window);` +
    `(window.__poiPlotQueue || []).splice(0).forEach(function (draw) { draw(); });` +
    `</script>`
  );
}

let figureCounter = 0;

/** A div plus a script that draws the figure as soon as plotly is on the page. */
export function figureHtml(figure: PlotlyFigure): string {
  const id = `poi-plot-${process.pid}-${Date.now().toString(36)}-${figureCounter++}`;
  const height = typeof figure.layout.height === "number" ? figure.layout.height : 420;
  const json = JSON.stringify({ data: figure.data, layout: figure.layout }).replace(/</g, "\\u003c");
  return (
    `<div id="${id}" class="poi-plot" style="width:100%;min-height:${height}px"></div>` +
    `<script type="text/javascript">(function () {` +
    `var fig = ${json};` +
    `var draw = function () { Plotly.newPlot("${id}", fig.data, fig.layout, {responsive: true, displaylogo: false}); };` +
    `if (window.Plotly) { draw(); } else { (window.__poiPlotQueue = window.__poiPlotQueue || []).push(draw); }` +
    `})();</script>`
  );
}

export function escapeHtml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}
