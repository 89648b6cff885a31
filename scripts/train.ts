/**
 * Train and evaluate a classifier on any dataset, for scripted runs:
 *
 *   npm run train -- --data <folder|csv|fashion-mnist|poi:main-category> [--image-column C] [--target C]
 *     [--metadata a,b] [--classes a,b,c] [--backbone small-cnn|mobilenet-v2] [--augment none|A1|A2|A3|A4]
 *     [--epochs N] [--seed S]
 *
 * Trains on the dataset's own train/test split when it has one (train/ + test/ folders, a split column, Fashion-MNIST's
 * official test set), else on a stratified (and grouped, with --group) 80/20 split drawn with the seed; evaluates
 * once on the test part. Progress goes to stderr; the last line on stdout is one JSON object:
 *   {"data", "classes", "n_train", "n_test", "skipped": [{"file", "reason"}], "accuracy", "macro_f1",
 *    "per_class_f1": {"<class>": f1}, "seconds", ...}
 * where seconds is the training time (decoding and embedding excluded; they are in "prepare_seconds").
 *
 * More options: --group C, --split C (tables); --on-invalid error|skip (bad images/rows: fail, or skip and list them);
 * --batch-size N, --lr X, --image-size N (small-cnn input side), --class-weights balanced, --sampling balanced,
 * --focal-gamma G, --label-smoothing S, --no-metadata; --backbone none (metadata only), --linear (no hidden layers:
 * with --backbone none, multinomial logistic regression on the train-fitted metadata encoding);
 * --folds K: grouped stratified K-fold cross-validation over all rows instead of one split (the same seed gives the
 * same folds for every model), the JSON then carries the mean ± std and each fold.
 */
import { describeDataset, type InvalidPolicy } from "../lib/data";
import { initEngine } from "../lib/engine";
import { crossValidateClassifier, fitClassifier, loadDataset, prepareInputs, CLASSIFIER_BACKBONES, SMALL_CNN_SCHEDULE, type ClassifierBackbone, type ClassifierOptions } from "../lib/experiments";
import { splitDataset } from "../lib/features";
import { augmentationPresetNames } from "../lib/images";

const USAGE =
  "usage: npm run train -- --data <folder|file.csv|fashion-mnist|poi:main-category|poi:engagement> [--image-column C] [--target C] " +
  "[--metadata a,b] [--classes a,b,c] [--backbone small-cnn|mobilenet-v2] [--augment none|A1|A2|A3|A4] [--epochs N] [--seed S] " +
  "[--group C] [--split C] [--on-invalid error|skip] [--batch-size N] [--lr X] [--image-size N] [--class-weights balanced] " +
  "[--sampling balanced] [--focal-gamma G] [--label-smoothing S] [--no-metadata] [--backbone none] [--linear] [--folds K]";

const FLAGS = new Set(["--no-metadata", "--linear"]);

function parseArgs(argv: string[]): Map<string, string> {
  const args = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const key = argv[i];
    if (!key.startsWith("--")) throw new Error(`unexpected argument ${JSON.stringify(key)}\n${USAGE}`);
    if (FLAGS.has(key)) {
      args.set(key, "true");
      continue;
    }
    const value = argv[i + 1];
    if (value === undefined || value.startsWith("--")) throw new Error(`${key} needs a value\n${USAGE}`);
    args.set(key, value);
    i++;
  }
  return args;
}

function numberArg(args: Map<string, string>, key: string, integer = false): number | undefined {
  const text = args.get(key);
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!Number.isFinite(value) || (integer && !Number.isInteger(value))) throw new Error(`${key} must be ${integer ? "an integer" : "a number"}, got ${JSON.stringify(text)}`);
  return value;
}

function listArg(args: Map<string, string>, key: string): string[] | undefined {
  const text = args.get(key);
  return text === undefined ? undefined : text.split(",").map((s) => s.trim()).filter((s) => s !== "");
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const known = new Set(["--data", "--image-column", "--target", "--metadata", "--classes", "--backbone", "--augment", "--epochs", "--seed", "--group", "--split", "--on-invalid", "--batch-size", "--lr", "--image-size", "--class-weights", "--sampling", "--focal-gamma", "--label-smoothing", "--no-metadata", "--linear", "--folds"]);
  for (const key of args.keys()) if (!known.has(key)) throw new Error(`unknown option ${key}\n${USAGE}`);
  const data = args.get("--data");
  if (!data) throw new Error(`--data is required\n${USAGE}`);
  const backboneArg = args.get("--backbone") ?? "small-cnn";
  if (backboneArg !== "none" && !CLASSIFIER_BACKBONES.includes(backboneArg as ClassifierBackbone)) throw new Error(`--backbone must be one of ${CLASSIFIER_BACKBONES.join(", ")}, none; got ${backboneArg}`);
  const backbone = backboneArg === "none" ? null : (backboneArg as ClassifierBackbone);
  const folds = numberArg(args, "--folds", true);
  const augment = args.get("--augment") ?? "none";
  if (!augmentationPresetNames().includes(augment)) throw new Error(`--augment must be one of ${augmentationPresetNames().join(", ")}, got ${augment}`);
  const onInvalid = (args.get("--on-invalid") ?? "error") as InvalidPolicy;
  const seed = numberArg(args, "--seed", true) ?? 0;
  const classWeights = args.get("--class-weights");
  if (classWeights !== undefined && classWeights !== "balanced") throw new Error(`--class-weights: only "balanced" is known, got ${classWeights}`);
  const sampling = args.get("--sampling");
  if (sampling !== undefined && sampling !== "balanced" && sampling !== "shuffle") throw new Error(`--sampling must be balanced or shuffle, got ${sampling}`);

  const started = Date.now();
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const dataset = await loadDataset(data, {
    imageColumn: args.get("--image-column"),
    target: args.get("--target"),
    metadata: listArg(args, "--metadata"),
    classes: listArg(args, "--classes"),
    group: args.get("--group"),
    split: args.get("--split"),
    onInvalid,
  });
  log(describeDataset(dataset));
  for (const s of dataset.skipped) log(`skipped: ${s.file}${s.row !== undefined ? `, row ${s.row}` : ""}${s.field ? `, field "${s.field}"` : ""}: ${s.reason}`);
  const grouped = dataset.items.some((i) => i.group !== undefined) ? " grouped" : "";
  const parts = splitDataset(dataset, { seed, testFraction: 0.2 });
  if (folds === undefined) log(`split: ${parts.fromSource ? "the dataset's own" : `stratified${grouped} 80/20, seed ${seed}`}: train ${parts.train.length}, test ${parts.test.length}`);
  else log(`${folds}-fold stratified${grouped} cross-validation over all ${dataset.items.length} rows, seed ${seed}`);
  const engine = await initEngine();
  const prepared = await prepareInputs(dataset, {
    backbone,
    augment,
    imageSize: numberArg(args, "--image-size", true),
    seed,
    onProgress: (what, done, total) => done === total && log(`${what}: ${total} images`),
  });
  const prepareSeconds = (Date.now() - started) / 1000;
  const linear = args.get("--linear") === "true";
  const schedule = backbone === "small-cnn" ? SMALL_CNN_SCHEDULE : linear ? { epochs: 100, batchSize: 32, lr: 1e-2 } : { epochs: 30, batchSize: 64, lr: 1e-3 };
  const options: ClassifierOptions = {
    metadata: args.get("--no-metadata") ? false : undefined,
    imageUnits: linear ? [] : undefined,
    metaUnits: linear ? [] : undefined,
    epochs: numberArg(args, "--epochs", true) ?? schedule.epochs,
    batchSize: numberArg(args, "--batch-size", true) ?? schedule.batchSize,
    lr: numberArg(args, "--lr") ?? schedule.lr,
    classWeights: classWeights as "balanced" | undefined,
    sampling: sampling as "balanced" | "shuffle" | undefined,
    focalGamma: numberArg(args, "--focal-gamma"),
    labelSmoothing: numberArg(args, "--label-smoothing"),
    seed,
    onEpoch: (r) => (folds === undefined || r.epoch % 10 === 0) && log(`epoch ${r.epoch}: loss ${r.trainLoss.toFixed(4)}, train accuracy ${r.trainAcc.toFixed(4)}, ${r.seconds.toFixed(1)} s`),
  };
  const skipped = dataset.skipped.map((s) => ({ file: s.file, ...(s.row !== undefined ? { row: s.row } : {}), ...(s.field ? { field: s.field } : {}), reason: s.reason }));
  const common = { backbone: backboneArg, linear, augment, seed, dropped_by_class_filter: dataset.droppedByClassFilter, engine: `${engine.backend} (${engine.threads} threads)` };
  if (folds !== undefined) {
    const cv = await crossValidateClassifier(prepared, { ...options, folds, onFold: (f, r) => log(`fold ${f}: accuracy ${r.accuracy.toFixed(4)}, macro-F1 ${r.macroF1.toFixed(4)} (${r.nTest} rows)`) });
    const summary = {
      data,
      classes: dataset.classes,
      folds,
      n: dataset.items.length,
      skipped,
      accuracy: cv.accuracy,
      macro_f1: cv.macroF1,
      per_class_f1: cv.perClassF1,
      fold_results: cv.folds.map((f) => ({ n_train: f.nTrain, n_test: f.nTest, accuracy: f.accuracy, macro_f1: f.macroF1 })),
      seconds: cv.folds.reduce((a, f) => a + f.trainSeconds, 0),
      prepare_seconds: prepareSeconds,
      ...common,
    };
    process.stdout.write(`${JSON.stringify(summary)}\n`);
    return;
  }
  const result = await fitClassifier(prepared, { ...parts, val: [] }, options);
  log(result.report);
  result.model.dispose();
  const summary = {
    data,
    classes: result.classes,
    n_train: result.nTrain,
    n_test: result.nTest,
    skipped,
    accuracy: result.accuracy,
    macro_f1: result.macroF1,
    per_class_f1: result.perClassF1,
    seconds: result.trainSeconds,
    prepare_seconds: prepareSeconds,
    epochs: result.history.records.length,
    split: parts.fromSource ? "source" : "stratified-80-20",
    ...common,
  };
  process.stdout.write(`${JSON.stringify(summary)}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
