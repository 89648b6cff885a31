/**
 * The small CNN on Fashion-MNIST, ours against PyTorch, in one run: the same network (lib/models buildClassifier with
 * SMALL_CNN_FILTERS = small_cnn_torch.py's), the same schedule (SMALL_CNN_SCHEDULE: Adam 1e-3, batch 128, all 60 000
 * training images), the same thread count; test accuracy on the official 10 000 and training time, wall and CPU.
 *
 *   npx tsx bench/classify/run.ts [--epochs N] [--threads 2] [--seed 0] [--train-images N]   # → outputs/bench/classify.json + a table
 *
 * --train-images N trains both on the first N training images only (a timing comparison that fits a busy machine).
 *
 * Needs Debian's dataset-fashion-mnist and python3-torch (bash scripts/install.sh --bench). On a loaded machine wall
 * times mean little: compare the CPU seconds (a quiet 2-core machine runs in about CPU / 2), and note the load.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { fashionMnist, outputsDir, PROJECT_ROOT, resolveFashionMnistDir } from "../../lib/data";
import { initEngine } from "../../lib/engine";
import { fitClassifier, prepareInputs, SMALL_CNN_SCHEDULE } from "../../lib/experiments";
import { splitDataset } from "../../lib/features";
import { SMALL_CNN_FILTERS } from "../../lib/models";

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  return i < 0 ? fallback : Number(process.argv[i + 1]);
}

async function main(): Promise<void> {
  const epochs = arg("--epochs", SMALL_CNN_SCHEDULE.epochs);
  const threads = arg("--threads", 2);
  const seed = arg("--seed", 0);
  const trainImages = arg("--train-images", 0);
  const load = () => fs.readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");

  const engine = await initEngine({ threads });
  const dataset = fashionMnist();
  const all = splitDataset(dataset, { seed });
  const parts = { ...all, train: trainImages > 0 ? all.train.slice(0, trainImages) : all.train };
  const prepared = await prepareInputs(dataset, { backbone: "small-cnn" });
  const loadBefore = load();
  const cpu = process.cpuUsage();
  const ours = await fitClassifier(prepared, { ...parts, val: [] }, { epochs, batchSize: SMALL_CNN_SCHEDULE.batchSize, lr: SMALL_CNN_SCHEDULE.lr, seed });
  const used = process.cpuUsage(cpu);
  const oursRow = {
    // fit's fused step (native kernels) where they build, else TensorFlow.js ops on the engine's backend.
    framework: `ours (${ours.history.step === "fused" ? "fused step, native kernels" : `tfjs ${engine.backend}`}, ${engine.threads} threads)`,
    accuracy: ours.accuracy,
    train_seconds: ours.trainSeconds,
    // Includes the test-set prediction after training (a few seconds of the total).
    train_cpu_seconds: (used.user + used.system) / 1e6,
    epoch_seconds: ours.history.records.map((r) => r.seconds),
    load: loadBefore,
  };
  ours.model.dispose();
  process.stderr.write(`ours: ${JSON.stringify(oursRow)}\n`);

  const torchLoad = load();
  const out = execFileSync(
    "/usr/bin/python3",
    [path.join(PROJECT_ROOT, "bench", "classify", "small_cnn_torch.py"), "--data", resolveFashionMnistDir(), "--epochs", String(epochs), "--batch-size", String(SMALL_CNN_SCHEDULE.batchSize), "--lr", String(SMALL_CNN_SCHEDULE.lr), "--filters", SMALL_CNN_FILTERS.join(","), "--units", "64", "--threads", String(threads), "--seed", String(seed), "--train-images", String(trainImages)],
    { encoding: "utf8", maxBuffer: 1 << 24 },
  );
  const torchRow = { ...JSON.parse(out.trim().split("\n").pop()!), load: torchLoad };
  const result = { date: new Date().toISOString(), epochs, threads, n_train: parts.train.length, n_test: parts.test.length, ours: oursRow, pytorch: torchRow };
  fs.mkdirSync(outputsDir("bench"), { recursive: true });
  fs.writeFileSync(outputsDir("bench", "classify.json"), JSON.stringify(result, null, 2));
  const row = (r: { framework: string; accuracy: number; train_seconds: number; train_cpu_seconds: number; load: string }) =>
    `| ${r.framework} | ${r.accuracy.toFixed(4)} | ${r.train_seconds.toFixed(0)} | ${r.train_cpu_seconds.toFixed(0)} | ${r.load} |`;
  console.log(`Fashion-MNIST small CNN, ${epochs} epochs, ${parts.train.length} training images, ${threads} threads\n`);
  console.log("| framework | test accuracy | training wall s | training CPU s | load before |\n|---|---|---|---|---|");
  console.log(row(oursRow));
  console.log(row(torchRow));
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exit(1);
});
