import { test } from "node:test";
import assert from "node:assert/strict";
import {
  createStudy,
  getParamImportances,
  MedianPruner,
  NopPruner,
  plotContour,
  plotIntermediateValues,
  plotOptimizationHistory,
  plotParallelCoordinate,
  plotParamImportances,
  plotSlice,
  RandomSampler,
  TrialPruned,
  type PlotlyFigure,
  type Study,
} from "../../lib/tune";

/** 40 random trials; with pruning, the completed ones are biased towards small x. */
async function sampleStudy(prune: boolean): Promise<Study> {
  const pruner = prune ? new MedianPruner({ nStartupTrials: 3 }) : new NopPruner();
  const study = createStudy({ name: "plots", sampler: new RandomSampler({ seed: 21 }), pruner, verbosity: 0 });
  await study.optimize(
    (t) => {
      const x = t.suggestFloat("x", -1, 1);
      const lr = t.suggestFloat("lr", 1e-4, 1e-1, { log: true });
      const act = t.suggestCategorical("act", ["relu", "tanh"]);
      const value = 10 * x * x + 0.3 * Math.abs(Math.log10(lr) + 2) + (act === "relu" ? 0 : 0.05);
      for (let step = 0; step < 3; step++) {
        t.report(value + (3 - step), step);
        if (t.shouldPrune()) throw new TrialPruned();
      }
      return value;
    },
    { nTrials: 40 },
  );
  return study;
}

function assertJsonFigure(figure: PlotlyFigure): void {
  assert.ok(Array.isArray(figure.data) && figure.data.length > 0);
  assert.equal(typeof figure.layout, "object");
  // plain data: survives a JSON round trip unchanged (no functions, no class instances)
  assert.deepEqual(JSON.parse(JSON.stringify(figure)), figure);
}

test("fANOVA importances: sum to 1, rank the dominant parameter first, ~all for a one-parameter function", async () => {
  const study = await sampleStudy(false);
  const imp = getParamImportances(study);
  assert.deepEqual(Object.keys(imp).sort(), ["act", "lr", "x"]);
  assert.equal(Object.keys(imp)[0], "x");
  assert.ok(Math.abs(Object.values(imp).reduce((s, v) => s + v, 0) - 1) < 1e-9);
  // Var(10x²) ≈ 8.9 dwarfs the lr term's ≈ 0.03 and act's ≈ 0.0006
  assert.ok(imp.x > 0.95, JSON.stringify(imp));
  assert.deepEqual(getParamImportances(study), imp, "deterministic under the default seed");

  const only = createStudy({ sampler: new RandomSampler({ seed: 2 }), verbosity: 0 });
  await only.optimize((t) => (t.suggestFloat("a", 0, 1) - 0.3) ** 2 + 0 * t.suggestInt("b", 0, 5), { nTrials: 30 });
  const imp2 = getParamImportances(only);
  assert.ok(imp2.a > 0.95, JSON.stringify(imp2));
});

test("plots are plain plotly figures with the trials' data", async () => {
  const study = await sampleStudy(true);
  const completed = study.trials.filter((t) => t.state === "COMPLETE");
  assert.ok(study.trials.some((t) => t.state === "PRUNED"), "some trials were pruned");

  const history = plotOptimizationHistory(study);
  assertJsonFigure(history);
  const [points, best] = history.data as { x: number[]; y: number[] }[];
  assert.deepEqual(points.x, completed.map((t) => t.number));
  assert.equal(best.y[best.y.length - 1], study.bestValue);
  assert.ok(best.y.every((v, i) => i === 0 || v <= best.y[i - 1]), "best-so-far never increases when minimizing");

  const importances = plotParamImportances(await sampleStudy(false));
  assertJsonFigure(importances);
  assert.equal((importances.data[0] as { y: string[] }).y.slice(-1)[0], "x", "most important on top");

  const slice = plotSlice(study);
  assertJsonFigure(slice);
  assert.equal(slice.data.length, 3);
  assert.deepEqual((slice.layout as { xaxis2: { type: string } }).xaxis2.type, "log", "lr (second, alphabetically) on a log axis");

  const contour = plotContour(study, { params: ["x", "lr"], resolution: 20 });
  assertJsonFigure(contour);
  const grid = (contour.data[0] as { z: number[][] }).z;
  assert.equal(grid.length, 20);
  assert.ok(grid.flat().every(Number.isFinite));
  const zs = completed.map((t) => t.value as number);
  assert.ok(Math.min(...grid.flat()) >= Math.min(...zs) - 1e-9 && Math.max(...grid.flat()) <= Math.max(...zs) + 1e-9, "interpolation stays within the data");

  const parallel = plotParallelCoordinate(study);
  assertJsonFigure(parallel);
  const dims = (parallel.data[0] as { dimensions: { label: string; values: number[] }[] }).dimensions;
  assert.deepEqual(dims.map((d) => d.label), ["Objective Value", "act", "lr (log)", "x"]);
  assert.ok(dims.every((d) => d.values.length === completed.length));

  const curves = plotIntermediateValues(study);
  assertJsonFigure(curves);
  assert.equal(curves.data.length, study.trials.length);
});
