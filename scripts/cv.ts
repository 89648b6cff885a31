/**
 * Grouped stratified k-fold cross-validation of one named model, for scripted comparisons.
 *
 *   npm run cv -- --model MetaStatsMLP --folds 5 --seed 3      # progress on stderr, one JSON object last on stdout
 *   npm run cv -- --model default --folds 5 --seed 7            # the recommended model (its real name in the JSON)
 *   npm run cv -- --list                                       # the model names
 *
 * Options: --epochs n (override), --backend cpu|wasm (default: the engine's choice, multithreaded wasm here, which trains
 * these networks about twice as fast as tfjs' cpu backend; MobileNetV2 embeddings are computed once and cached),
 * --no-track.
 * Tracked in the MLflow-format store under experiment "cv".
 */
import * as tf from "@tensorflow/tfjs";
import { initEngine } from "../lib/engine";
import { crossValidate, loadExperimentData, LEAK_ACCURACY } from "../lib/experiments";
import { DEFAULT_ARCHITECTURE, getArchitecture, listArchitectures, modelInputNames } from "../lib/models";
import { startRun } from "../lib/track";

function usage(): never {
  console.error("usage: npm run cv -- --model <name> [--folds 5] [--seed 0] [--epochs n] [--backend cpu|wasm] [--no-track] | --list");
  process.exit(2);
}

function parseArgs(argv: string[]): Record<string, string | boolean> {
  const out: Record<string, string | boolean> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith("--")) usage();
    const key = a.slice(2);
    if (key === "list" || key === "no-track") out[key] = true;
    else {
      const v = argv[++i];
      if (v === undefined) usage();
      out[key] = v;
    }
  }
  return out;
}

function intArg(args: Record<string, string | boolean>, key: string, fallback: number): number {
  const v = args[key];
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n)) {
    console.error(`--${key} must be an integer, got ${String(v)}`);
    process.exit(2);
  }
  return n;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  if (args.list) {
    console.log(`default\t${DEFAULT_ARCHITECTURE}: the recommended model`);
    for (const s of listArchitectures()) console.log(`${s.name}\t${s.description}`);
    return;
  }
  if (typeof args.model !== "string") usage();
  const spec = getArchitecture(args.model);
  const folds = intArg(args, "folds", 5);
  const seed = intArg(args, "seed", 0);
  const epochs = args.epochs === undefined ? undefined : intArg(args, "epochs", 15);
  const needsEmbedding = modelInputNames(spec).includes("embedding");

  const engine = await initEngine();
  const data = await loadExperimentData({ embeddings: needsEmbedding, log: true });
  const backend = typeof args.backend === "string" ? args.backend : engine.backend;
  if (tf.getBackend() !== backend) await tf.setBackend(backend);
  console.error(`cv: ${spec.name}, ${folds} grouped folds, seed ${seed}, backend ${tf.getBackend()} (engine ${engine.backend}), ${data.records.length} rows`);

  const run = args["no-track"] ? undefined : startRun({ experiment: "cv", runName: `${spec.name}-seed${seed}` });
  run?.logParams({ model: spec.name, folds, seed, epochs: epochs ?? "default", backend: tf.getBackend(), backbone: needsEmbedding ? spec.backbone : "none" });
  try {
    const result = await crossValidate(data, spec, {
      folds,
      seed,
      config: epochs !== undefined ? { epochs } : undefined,
      onFold: (f) => {
        console.error(`  fold ${f.fold + 1}/${folds}: accuracy ${f.accuracy.toFixed(4)}, macro-F1 ${f.macroF1.toFixed(4)} (${f.trainRows}/${f.testRows} rows, ${f.seconds.toFixed(1)} s)`);
        run?.logMetrics({ fold_accuracy: f.accuracy, fold_macro_f1: f.macroF1 }, f.fold);
      },
    });
    if (result.warning) console.error(result.warning);
    const summary = {
      model: result.model,
      folds: result.folds,
      seed: result.seed,
      accuracy_mean: round(result.accuracyMean),
      accuracy_std: round(result.accuracyStd),
      macro_f1_mean: round(result.macroF1Mean),
      macro_f1_std: round(result.macroF1Std),
    };
    run?.logMetrics({
      accuracy_mean: result.accuracyMean,
      accuracy_std: result.accuracyStd,
      macro_f1_mean: result.macroF1Mean,
      macro_f1_std: result.macroF1Std,
      seconds: result.seconds,
    });
    if (result.accuracyMean > LEAK_ACCURACY) run?.setTag("leak_warning", result.warning);
    run?.logDict(result.perFold.map((f) => ({ ...f, history: undefined })), "folds.json");
    run?.endRun("FINISHED");
    console.log(JSON.stringify(summary));
  } catch (err) {
    run?.endRun("FAILED");
    throw err;
  }
}

function round(x: number): number {
  return Math.round(x * 1e4) / 1e4;
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
