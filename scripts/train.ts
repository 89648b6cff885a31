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
 * --focal-gamma G, --label-smoothing S, --no-metadata.
 */
import { describeDataset, type InvalidPolicy } from "../lib/data";
import { initEngine } from "../lib/engine";
import { fitClassifier, loadDataset, prepareInputs, CLASSIFIER_BACKBONES, SMALL_CNN_SCHEDULE, type ClassifierBackbone } from "../lib/experiments";
import { splitDataset } from "../lib/features";
import { augmentationPresetNames } from "../lib/images";

const USAGE =
  "usage: npm run train -- --data <folder|file.csv|fashion-mnist|poi:main-category|poi:engagement> [--image-column C] [--target C] " +
  "[--metadata a,b] [--classes a,b,c] [--backbone small-cnn|mobilenet-v2] [--augment none|A1|A2|A3|A4] [--epochs N] [--seed S] " +
  "[--group C] [--split C] [--on-invalid error|skip] [--batch-size N] [--lr X] [--image-size N] [--class-weights balanced] " +
  "[--sampling balanced] [--focal-gamma G] [--label-smoothing S] [--no-metadata]";

const FLAGS = new Set(["--no-metadata"]);

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
  const known = new Set(["--data", "--image-column", "--target", "--metadata", "--classes", "--backbone", "--augment", "--epochs", "--seed", "--group", "--split", "--on-invalid", "--batch-size", "--lr", "--image-size", "--class-weights", "--sampling", "--focal-gamma", "--label-smoothing", "--no-metadata"]);
  for (const key of args.keys()) if (!known.has(key)) throw new Error(`unknown option ${key}\n${USAGE}`);
  const data = args.get("--data");
  if (!data) throw new Error(`--data is required\n${USAGE}`);
  const backbone = (args.get("--backbone") ?? "small-cnn") as ClassifierBackbone;
  if (!CLASSIFIER_BACKBONES.includes(backbone)) throw new Error(`--backbone must be one of ${CLASSIFIER_BACKBONES.join(", ")}, got ${backbone}`);
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
  const parts = splitDataset(dataset, { seed, testFraction: 0.2 });
  log(`split: ${parts.fromSource ? "the dataset's own" : `stratified${dataset.items.some((i) => i.group !== undefined) ? " grouped" : ""} 80/20, seed ${seed}`}: train ${parts.train.length}, test ${parts.test.length}`);
  const engine = await initEngine();
  const prepared = await prepareInputs(dataset, {
    backbone,
    augment,
    imageSize: numberArg(args, "--image-size", true),
    seed,
    onProgress: (what, done, total) => done === total && log(`${what}: ${total} images`),
  });
  const prepareSeconds = (Date.now() - started) / 1000;
  const schedule = backbone === "small-cnn" ? SMALL_CNN_SCHEDULE : { epochs: 20, batchSize: 64, lr: 1e-3 };
  const result = await fitClassifier(prepared, { ...parts, val: [] }, {
    metadata: args.get("--no-metadata") ? false : undefined,
    epochs: numberArg(args, "--epochs", true) ?? schedule.epochs,
    batchSize: numberArg(args, "--batch-size", true) ?? schedule.batchSize,
    lr: numberArg(args, "--lr") ?? schedule.lr,
    classWeights: classWeights as "balanced" | undefined,
    sampling: sampling as "balanced" | "shuffle" | undefined,
    focalGamma: numberArg(args, "--focal-gamma"),
    labelSmoothing: numberArg(args, "--label-smoothing"),
    seed,
    onEpoch: (r) => log(`epoch ${r.epoch}: loss ${r.trainLoss.toFixed(4)}, train accuracy ${r.trainAcc.toFixed(4)}, ${r.seconds.toFixed(1)} s`),
  });
  log(result.report);
  result.model.dispose();
  const summary = {
    data,
    classes: result.classes,
    n_train: result.nTrain,
    n_test: result.nTest,
    skipped: dataset.skipped.map((s) => ({ file: s.file, ...(s.row !== undefined ? { row: s.row } : {}), ...(s.field ? { field: s.field } : {}), reason: s.reason })),
    accuracy: result.accuracy,
    macro_f1: result.macroF1,
    per_class_f1: result.perClassF1,
    seconds: result.trainSeconds,
    prepare_seconds: prepareSeconds,
    backbone,
    augment,
    epochs: result.history.records.length,
    seed,
    split: parts.fromSource ? "source" : "stratified-80-20",
    dropped_by_class_filter: dataset.droppedByClassFilter,
    engine: `${engine.backend} (${engine.threads} threads)`,
  };
  process.stdout.write(`${JSON.stringify(summary)}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
