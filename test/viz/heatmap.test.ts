import { test } from "node:test";
import assert from "node:assert/strict";
import { colorAt, describeFitted, heatmap, heatmapTextColor, relativeLuminance, resolveColorScale, tableText, textColorOn } from "../../lib/viz";
import { confusionMatrixFigure } from "../../lib/eval";

type Annotation = { text: string; font: { color: string } };

test("text on a heatmap cell is white on dark colours and dark on light ones", () => {
  assert.equal(textColorOn([8, 48, 107]), "white"); // Blues' darkest
  assert.equal(textColorOn([247, 251, 255]), "#222"); // Blues' lightest
  assert.equal(textColorOn([103, 0, 31]), "white"); // RdBu's dark red
  const rdbu = resolveColorScale("RdBu");
  assert.equal(heatmapTextColor(-1, rdbu, -1, 1), "white");
  assert.equal(heatmapTextColor(0, rdbu, -1, 1), "#222");
  assert.equal(heatmapTextColor(1, rdbu, -1, 1), "white");
  assert.ok(relativeLuminance(colorAt(rdbu, 0.5)) > 0.9, "the diverging scale is light in the middle");
  assert.deepEqual(colorAt(resolveColorScale([[0, "#000000"], [1, "rgb(255, 255, 255)"]]), 0.5), [127.5, 127.5, 127.5]);
  assert.deepEqual(resolveColorScale("Blues", true)[0], [0, "#08306b"]);
  assert.throws(() => resolveColorScale("Nope"), /unknown colour scale "Nope"/);
});

test("every heatmap annotates its cells in a colour readable on that cell", () => {
  const figure = heatmap([[1, 0.1], [-0.95, 0]], ["a", "b"], ["a", "b"], { zmin: -1, zmax: 1 });
  const annotations = figure.layout.annotations as Annotation[];
  assert.deepEqual(annotations.map((a) => a.text), ["1", "0.10", "-0.95", "0"]);
  assert.deepEqual(annotations.map((a) => a.font.color), ["white", "#222", "white", "#222"]);
  // The trace carries the same explicit stops the text colours were computed from.
  assert.deepEqual(figure.data[0].colorscale, resolveColorScale("RdBu"));
  const noRange = heatmap([[0, 10]], ["x", "y"], ["r"], { colorscale: "Blues" });
  assert.deepEqual((noRange.layout.annotations as Annotation[]).map((a) => a.font.color), ["#222", "white"]);
});

test("the confusion matrix writes counts and shares, white on the dark diagonal", () => {
  const figure = confusionMatrixFigure([[90, 10], [30, 70]], ["low", "high"]);
  const annotations = figure.layout.annotations as Annotation[];
  assert.deepEqual(annotations.map((a) => a.text), ["90<br>90%", "10<br>10%", "30<br>30%", "70<br>70%"]);
  assert.deepEqual(annotations.map((a) => a.font.color), ["white", "#222", "#222", "white"]);
});

test("fitted objects read as sentences, not raw JSON", () => {
  assert.equal(describeFitted({ kind: "tags", scale: { mean: 8.258605472197706, std: 4.699554785080753 } }, { omit: ["kind"] }), "scale: mean 8.259, std 4.7");
  assert.equal(
    describeFitted({ kind: "categories", vocabulary: ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"], unknown: "error" }, { omit: ["kind"] }),
    "vocabulary: a, b, c, d, e, f, g, h, … (10 in all); unknown: error",
  );
  assert.equal(describeFitted({ k: 3, centroids: [[-1.77351, -79.3404], [23.6359, 126.0867]] }), "k: 3; centroids: 2 × 2: (-1.774, -79.34), (23.64, 126.1)");
  assert.equal(describeFitted([{ op: "hflip", p: 0.5 }, { op: "rotate", degrees: 36, fill: "reflect" }]), "hflip(p 0.5), rotate(degrees 36, fill reflect)");
  assert.equal(describeFitted({ Visits: 10005, lr: 0.000123 }), "Visits: 10,005; lr: 0.000123");
  assert.equal(describeFitted([]), "none");
  assert.equal(tableText([{ state: { mean: 1.5, tags: ["x", "y"] } }]).split("\n")[1], "mean: 1.500; tags: [x, y]");
});
