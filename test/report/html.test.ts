import { test } from "node:test";
import assert from "node:assert/strict";
import { clearOutputs, hasOutputs, makeSelfContained, Notebook } from "../../lib/report";
import { figureHtml, histogram, plotlyLibraryScript, PLOTLY_LIB_MARKER } from "../../lib/viz";

const count = (text: string, needle: string) => text.split(needle).length - 1;

test("exported pages keep exactly one inline plotly and drop scripts from elsewhere", () => {
  const figure = figureHtml(histogram([1, 2, 3]));
  const page = `<html><head><script src="file:///usr/share/javascript/requirejs/require.min.js"></script>` +
    `<script src="https://cdn.example/mathjax.js"></script><link rel="stylesheet" href="https://cdn.example/x.css"></head>` +
    `<body>${plotlyLibraryScript()}${figure}${figure}</body></html>`;
  const result = makeSelfContained(page);
  assert.equal(result.plots, 2);
  assert.equal(result.removedExternal, 3);
  assert.equal(count(result.html, `id="${PLOTLY_LIB_MARKER}"`), 1);
  assert.ok(!/<script[^>]*\bsrc=/.test(result.html) && !/<link[^>]*\bhref=/.test(result.html));

  // A page whose library went missing (a re-executed cell) gets it back, after the figures.
  const repaired = makeSelfContained(`<html><body>${figure}</body></html>`);
  assert.equal(count(repaired.html, `id="${PLOTLY_LIB_MARKER}"`), 1);
  assert.ok(repaired.html.indexOf(PLOTLY_LIB_MARKER) > repaired.html.indexOf("poi-plot"));
  // Two copies (cells merged by hand) become one.
  const doubled = makeSelfContained(`<html><body>${plotlyLibraryScript()}${figure}${plotlyLibraryScript()}</body></html>`);
  assert.equal(count(doubled.html, `id="${PLOTLY_LIB_MARKER}"`), 1);
});

test("clearing a notebook removes outputs and execution counts only", () => {
  const notebook: Notebook = {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: { kernelspec: { name: "tslab" } },
    cells: [
      { cell_type: "markdown", source: "# T", metadata: {} },
      { cell_type: "code", source: "1+1", metadata: {}, outputs: [{ output_type: "execute_result" }], execution_count: 3 },
    ],
  };
  assert.ok(hasOutputs(notebook));
  const cleared = clearOutputs(notebook);
  assert.ok(!hasOutputs(cleared));
  assert.equal(cleared.cells[1].source, "1+1");
  assert.deepEqual(cleared.metadata, notebook.metadata);
});
