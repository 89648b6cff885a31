/**
 * One engine benchmark in this process (run by bench/engine/run.ts, one fresh process per benchmark so that
 * start-up state and peak RSS are its own). Prints one JSON line: {"value": …, "unit": …, "samples": […], …}.
 *
 *   node --import tsx bench/engine/ours.ts mobilenet|mobilenet-tfjs|smallcnn|smallcnn-ops|embed-all|new-preset [--runs 5] [--seed S]
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as tf from "@tensorflow/tfjs";
import { embedImages, frozenForward, initEngine, loadMobileNetV2 } from "../../lib/engine";
import { nativeKernelStatus } from "../../lib/engine/native";
import { fit } from "../../lib/train";
import { augmentationPreset, compose } from "../../lib/images";
import { NEW_PRESET_SPECS, trainingPhotos } from "./photos";
import { smallCnnModel } from "./small-cnn";
import { imagePath, loadPoiDataset } from "../../lib/poi";
import { createRng } from "../../lib/util";

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function randomTensor(shape: number[], seed: number, low: number, high: number): tf.Tensor {
  const rng = createRng(seed);
  const size = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(size);
  for (let i = 0; i < size; i++) data[i] = rng.uniform(low, high);
  return tf.tensor(data, shape);
}

/**
 * Frozen MobileNetV2 224×224, batch 32: images per second (forward only, preprocessing included), on the path
 * embedImages takes (`engine`: the engine's choice, ONNX Runtime on a CPU backend) or on tfjs (`tfjs`: backbone.embed).
 */
async function mobilenet(runs: number, route: "engine" | "tfjs"): Promise<object> {
  const backbone = await loadMobileNetV2();
  const pixels = randomTensor([32, 224, 224, 3], 1, 0, 255) as tf.Tensor4D;
  const values = pixels.dataSync() as Float32Array;
  const forward = route === "engine" ? await frozenForward(backbone, 224) : null;
  const once = async (): Promise<number> => {
    const start = performance.now();
    if (forward) await forward.run(values, 32);
    else {
      const out = backbone.embed(pixels);
      out.dataSync();
      out.dispose();
    }
    return (performance.now() - start) / 1000;
  };
  await once();
  await once(); // warm-up: operator creation, weight packing
  const seconds: number[] = [];
  for (let i = 0; i < runs; i++) seconds.push(await once());
  return { value: 32 / median(seconds), unit: "img/s", samples: seconds.map((s) => 32 / s), runtime: forward?.runtime ?? "tfjs" };
}

/**
 * A new augmentation preset, as notebook 04 meets it when a user changes one and re-runs its cell: the 1133 training
 * photos × 2 variants at 224 and at 128 px (04 embeds both sizes; 06 reads the 224 rows). Before the timing, what 04
 * has done by then: the clean rows are cached and one other preset (A1) has been embedded, so the photos' decoded
 * pixels are on disk. Each timed pass embeds the new preset under another seed (a new cache key: all 4532 rows
 * computed); one more pass without the decoded pixels (a preset on photos nothing has augmented yet) is reported as
 * `coldSeconds`. Wall seconds of the two embedImages calls (decode or read, augment, forward, cache write).
 */
async function newPreset(seed: number, runs: number): Promise<object> {
  const files = trainingPhotos();
  const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), "poi-bench-preset-"));
  try {
    const backbones = [await loadMobileNetV2(), await loadMobileNetV2(undefined, { inputSize: 128 })];
    for (const backbone of backbones) await embedImages({ backbone, files, cacheDir, log: false });
    for (const backbone of backbones) await embedImages({ backbone, files, augmentation: augmentationPreset("A1"), variants: 2, seed, cacheDir, log: false });
    const augmentation = compose(NEW_PRESET_SPECS, "A1-rotate20");
    const pass = async (passSeed: number) => {
      const started = performance.now();
      const cpu = process.cpuUsage();
      const perSize: Record<string, number> = {};
      let computed = 0;
      for (const backbone of backbones) {
        const result = await embedImages({ backbone, files, augmentation, variants: 2, seed: passSeed, cacheDir, log: false });
        computed += result.computed;
        perSize[`${backbone.inputSize}px`] = result.seconds;
      }
      const used = process.cpuUsage(cpu);
      // CPU seconds of every thread (ONNX Runtime's, sharp's, JS): what the work costs whatever else the machine runs.
      return { seconds: (performance.now() - started) / 1000, computed, perSize, cpuSeconds: (used.user + used.system) / 1e6 };
    };
    const timed = [];
    for (let r = 0; r < runs; r++) timed.push(await pass(seed + 1 + r));
    fs.rmSync(path.join(cacheDir, "decoded-images"), { recursive: true, force: true });
    const cold = await pass(seed + 1 + runs);
    const seconds = timed.map((t) => t.seconds);
    // rows: what the notebooks get (1133 photos × 2 variants × 2 sizes); forwardPasses: distinct images run through the
    // network (some photos appear under several rows and are embedded once).
    return {
      value: median(seconds), unit: "s", samples: seconds, rows: files.length * 2 * backbones.length, forwardPasses: timed[0].computed,
      perSize: timed.map((t) => t.perSize), cpuSeconds: timed.map((t) => t.cpuSeconds), coldSeconds: cold.seconds, coldCpuSeconds: cold.cpuSeconds,
      peakRssMb: process.resourceUsage().maxRSS / 1024,
    };
  } finally {
    fs.rmSync(cacheDir, { recursive: true, force: true });
  }
}

/**
 * The small CNN: conv16-bn-pool-conv32-gap-dense; 256 images 64×64, batch 32, Adam 1e-3: seconds per epoch of
 * lib/train's fit, the loop the notebooks train with (`fused`: its fused step with the native kernels; `ops`: the
 * TensorFlow.js op-based step, the path where no C compiler is found). One fit of runs + 1 epochs, the first a warm-up.
 */
async function smallCnn(runs: number, step: "fused" | "ops"): Promise<object> {
  const model = smallCnnModel(1);
  const x = randomTensor([256, 64, 64, 3], 2, -1, 1);
  const labels = createRng(3);
  const y = Array.from({ length: 256 }, () => labels.int(3));
  const tensors = tf.memory().numTensors;
  const history = await fit(model, { x, y, epochs: runs + 1, batchSize: 32, seed: 4, optimizer: { name: "adam", lr: 1e-3 }, verbose: 0, fastPath: step === "fused" });
  if (history.step !== step) throw new Error(`small CNN: fit took the ${history.step} step, not ${step} (native kernels: ${nativeKernelStatus().detail})`);
  if (tf.memory().numTensors !== tensors) throw new Error(`small CNN: tensors ${tensors} → ${tf.memory().numTensors} (leak)`);
  const seconds = history.records.slice(1).map((r) => r.seconds);
  return { value: median(seconds), unit: "s/epoch", samples: seconds, step: history.step, native: nativeKernelStatus().detail, nativeThreads: nativeKernelStatus().kernels?.threads() ?? null };
}

/** All dataset images: decode + resize to 224 + MobileNetV2 forward + cache write, into an empty cache. */
async function embedAll(): Promise<object> {
  const started = performance.now();
  const dataset = loadPoiDataset();
  const files = dataset.records.map((record) => imagePath(dataset.dataDir, record));
  const backbone = await loadMobileNetV2();
  const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), "poi-bench-cache-"));
  try {
    const result = await embedImages({ backbone, files, cacheDir, batchSize: 32 });
    const seconds = (performance.now() - started) / 1000;
    const peakRssMb = process.resourceUsage().maxRSS / 1024;
    return { value: seconds, unit: "s", images: files.length, computed: result.computed, peakRssMb };
  } finally {
    fs.rmSync(cacheDir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const which = process.argv[2];
  const runsAt = process.argv.indexOf("--runs");
  const runs = runsAt > 0 ? Number(process.argv[runsAt + 1]) : 5;
  const engine = await initEngine();
  let result: object;
  const seedAt = process.argv.indexOf("--seed");
  if (which === "mobilenet") result = await mobilenet(runs, "engine");
  else if (which === "mobilenet-tfjs") result = await mobilenet(runs, "tfjs");
  else if (which === "new-preset") result = await newPreset(seedAt > 0 ? Number(process.argv[seedAt + 1]) : 0, runs);
  else if (which === "smallcnn") result = await smallCnn(runs, "fused");
  else if (which === "smallcnn-ops") result = await smallCnn(runs, "ops");
  else if (which === "embed-all") result = await embedAll();
  else throw new Error(`bench/engine/ours.ts: unknown benchmark "${which}" (mobilenet | mobilenet-tfjs | smallcnn | smallcnn-ops | embed-all | new-preset)`);
  console.log(JSON.stringify({ ...result, backend: engine.backend, threads: engine.threads, inference: engine.inference.reason }));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
