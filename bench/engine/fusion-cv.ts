/**
 * The fusion network's grouped 5-fold CV (what `npm run cv -- --model NetEngagementPOIFinal --folds 5 --seed 0`
 * trains), timed here and exported for the PyTorch reference (torch_fusion_cv.py), so both train on identical arrays.
 *
 *   node --import tsx bench/engine/fusion-cv.ts export <dir> [--model NetEngagementPOIFinal] [--folds 5] [--seed 0]
 *   node --import tsx bench/engine/fusion-cv.ts time [--model …] [--folds 5] [--seed 0]
 *
 * `export` writes, per fold, the protocol's prepared inputs (lib/experiment's prepareFold: train-fitted thresholds,
 * metadata pipeline, embedding PCA + scaler) as raw float32 / int32 files plus manifest.json (network, schedule).
 * `time` prepares the same folds, then times training + test-fold evaluation of all folds (trainAndEvaluate, as
 * crossValidate runs it) after a one-epoch warm-up; fold preparation is timed separately. Prints one JSON line.
 */
import * as fs from "fs";
import * as path from "path";
import { initEngine } from "../../lib/engine";
import { cvFolds, defaultTrainConfig, loadExperimentData, prepareFold, trainAndEvaluate, type PreparedFold } from "../../lib/experiments";
import { getArchitecture, modelInputNames, type ArchitectureSpec } from "../../lib/models";

function option(name: string, fallback: string): string {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 ? process.argv[at + 1] : fallback;
}

async function preparedFolds(spec: ArchitectureSpec, folds: number, seed: number): Promise<{ prepared: PreparedFold[]; seconds: number }> {
  const data = await loadExperimentData({ embeddings: modelInputNames(spec).includes("embedding") });
  const started = performance.now();
  // The seeds crossValidate uses for fold f: seed·1000 + f.
  const prepared = cvFolds(data.records, { folds, seed }).map((fold, f) => prepareFold(data, fold.train, fold.val, { seed: seed * 1000 + f }));
  return { prepared, seconds: (performance.now() - started) / 1000 };
}

function write(file: string, values: Float32Array | Int32Array): void {
  fs.writeFileSync(file, Buffer.from(values.buffer, values.byteOffset, values.byteLength));
}

async function exportFolds(dir: string, spec: ArchitectureSpec, folds: number, seed: number): Promise<void> {
  const { prepared } = await preparedFolds(spec, folds, seed);
  fs.mkdirSync(dir, { recursive: true });
  const inputs = modelInputNames(spec);
  const manifest = {
    model: spec.name,
    seed,
    inputs,
    network: { meta: spec.meta, embedding: spec.embeddingUnits, stats: spec.statsUnits, head: spec.head, fusion: spec.fusion, kind: spec.kind },
    config: defaultTrainConfig(spec),
    folds: prepared.map((fold, f) => {
      for (const [part, data] of [["train", fold.train], ["test", fold.test]] as const) {
        for (const name of inputs) write(path.join(dir, `fold${f}-${part}-${name}.f32`), data.inputs[name] as Float32Array);
        write(path.join(dir, `fold${f}-${part}-y.i32`), Int32Array.from(data.y));
      }
      return { trainRows: fold.train.y.length, testRows: fold.test.y.length, dims: fold.dims, classes: fold.classLabels.length };
    }),
  };
  fs.writeFileSync(path.join(dir, "manifest.json"), `${JSON.stringify(manifest, null, 2)}\n`);
  console.log(JSON.stringify({ value: prepared.length, unit: "folds", exported: dir }));
}

async function time(spec: ArchitectureSpec, folds: number, seed: number): Promise<void> {
  const engine = await initEngine();
  const { prepared, seconds: prepareSeconds } = await preparedFolds(spec, folds, seed);
  const warm = await trainAndEvaluate(spec, prepared[0], { seed, config: { epochs: 1 } });
  warm.model.dispose();
  const started = performance.now();
  const results = [];
  for (let f = 0; f < prepared.length; f++) {
    const result = await trainAndEvaluate(spec, prepared[f], { seed: seed * 1000 + f });
    result.model.dispose();
    results.push({ accuracy: result.accuracy, macroF1: result.macroF1, step: result.history.step });
  }
  const seconds = (performance.now() - started) / 1000;
  const mean = (values: number[]): number => values.reduce((a, b) => a + b, 0) / values.length;
  console.log(
    JSON.stringify({
      value: seconds,
      unit: "s",
      prepareSeconds,
      accuracyMean: mean(results.map((r) => r.accuracy)),
      macroF1Mean: mean(results.map((r) => r.macroF1)),
      folds: results,
      backend: engine.backend,
      threads: engine.threads,
    }),
  );
}

async function main(): Promise<void> {
  const mode = process.argv[2];
  const spec = getArchitecture(option("model", "NetEngagementPOIFinal"));
  const folds = Number(option("folds", "5"));
  const seed = Number(option("seed", "0"));
  if (mode === "export") await exportFolds(process.argv[3], spec, folds, seed);
  else if (mode === "time") await time(spec, folds, seed);
  else throw new Error("usage: fusion-cv.ts export <dir> | time [--model M] [--folds 5] [--seed 0]");
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
