// Where a CV fold spends its time (data prep vs training), for one model: npx tsx bench/fusion/profile-fold.ts <model> [epochs]
import * as tf from "@tensorflow/tfjs";
import { initEngine } from "../../lib/engine";
import { loadExperimentData, prepareFold, cvFolds, trainAndEvaluate } from "../../lib/experiments";
import { getArchitecture, modelInputNames } from "../../lib/models";

async function main() {
  await initEngine();
  const spec = getArchitecture(process.argv[2] ?? "FusionConcat");
  const data = await loadExperimentData({ embeddings: modelInputNames(spec).includes("embedding") });
  await tf.setBackend(process.env.TRAIN_BACKEND ?? "cpu");
  const folds = cvFolds(data.records, { folds: 5, seed: 0 });
  let t = performance.now();
  const fold = prepareFold(data, folds[0].train, folds[0].val, { seed: 0 });
  console.log(`prepare ${((performance.now() - t) / 1000).toFixed(2)} s`);
  t = performance.now();
  const r = await trainAndEvaluate(spec, fold, { seed: 0, config: { epochs: Number(process.argv[3] ?? 3) } });
  console.log(`train ${((performance.now() - t) / 1000).toFixed(2)} s, epochs ${r.history.records.map((e) => e.seconds.toFixed(2)).join(" ")}, acc ${r.accuracy.toFixed(3)}`);
}
main();
