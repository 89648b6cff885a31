/**
 * Train the CPU detector (frozen pretrained MobileNetV2 features + CenterNet head) on a COCO folder, choose the epoch
 * on validation mAP, and evaluate it on the test split.
 *
 *   npm run detect:train -- --data <coco-folder> [--epochs 12] [--size 128] [--seed 0] [--lr 0.003] [--no-track]
 *
 * Progress on stderr; one JSON object last on stdout: the test split's COCOeval numbers (the keys of coco-eval),
 * "seconds" of training (image decoding + backbone features + epochs with their validation), the best epoch and its
 * validation mAP, the run id (MLflow file store, experiment "detection") and the best checkpoint's folder.
 */
import * as os from "os";
import { initEngine } from "../lib/engine";
import { disposeDetectionData, loadDetectionData, trainDetector } from "../lib/experiments/detection";

function usage(message?: string): never {
  if (message) console.error(message);
  console.error("usage: npm run detect:train -- --data <coco-folder> [--epochs 12] [--size 128] [--seed 0] [--lr 0.003] [--no-track]");
  process.exit(2);
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const args: Record<string, string | true> = {};
  for (let i = 0; i < argv.length; i++) {
    if (!argv[i].startsWith("--")) usage(`unexpected argument ${argv[i]}`);
    const key = argv[i].slice(2);
    if (key === "no-track") args[key] = true;
    else if (argv[i + 1] === undefined) usage(`--${key} needs a value`);
    else args[key] = argv[++i];
  }
  const num = (key: string, fallback: number, integer = true): number => {
    const raw = args[key];
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isFinite(n) || (integer && !Number.isInteger(n))) usage(`--${key} must be ${integer ? "an integer" : "a number"}, got ${String(raw)}`);
    return n;
  };
  if (typeof args.data !== "string") usage("--data is required");
  await initEngine();
  const size = num("size", 128);
  const data = await loadDetectionData({ data: args.data, size });
  const trained = await trainDetector(data, { epochs: num("epochs", 12), seed: num("seed", 0), lr: num("lr", 3e-3, false), track: !args["no-track"] });
  if (!trained.test) throw new Error(`${args.data} has no test split to report on`);
  disposeDetectionData(data);
  const { per_class, ...stats } = trained.test.json;
  console.log(
    JSON.stringify({
      ...stats,
      per_class,
      seconds: Math.round(trained.seconds * 10) / 10,
      cpu_seconds: Math.round(trained.cpuSeconds * 10) / 10,
      load_average: os.loadavg().map((v: number) => Math.round(v * 100) / 100),
      best_epoch: trained.bestEpoch,
      best_val_map: trained.bestValMap,
      input_size: size,
      synthetic: data.synthetic,
      run_id: trained.runId ?? null,
      checkpoint: trained.checkpoints.best,
    }),
  );
}

main().catch((error) => {
  console.error(`detect:train: ${(error as Error).stack ?? error}`);
  process.exit(1);
});
