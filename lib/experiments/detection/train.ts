import * as tf from "@tensorflow/tfjs";
import * as path from "path";
import type { CocoDetection } from "../../data/coco";
import { outputsDir } from "../../data/paths";
import { cocoEvalJson, detectionConfusionMatrix, evaluateCoco, precisionRecallAtScore, type CocoEvalResult } from "../../eval/coco";
import { centerNetLoss, Detector } from "../../models/detection";
import { startRun, type Run } from "../../track";
import { createProgress, createRng } from "../../util";
import type { DetectionData, PreparedSplit } from "./data";

/**
 * The detection recipe: train the CenterNet head on cached backbone features, evaluate on the validation split with
 * COCOeval after every epoch, keep the epoch with the best validation mAP (AP@[.5:.95]) and report on test with it.
 * Runs are tracked in the MLflow file store (experiment "detection" by default).
 */
export interface TrainDetectorOptions {
  epochs?: number;
  batchSize?: number;
  /** Adam learning rate at the start; cosine-decayed to 5 % over the epochs. */
  lr?: number;
  seed?: number;
  headWidth?: number;
  headBlocks?: number;
  /** Random horizontal / vertical flips (of the cached feature maps and the targets). Default true. */
  augment?: boolean;
  /** Track the run (default true); experiment name (default "detection"); run name. */
  track?: boolean;
  experiment?: string;
  runName?: string;
  /** Where checkpoints go (default outputs/checkpoints/detection/<run id or name>). */
  checkpointDir?: string;
  /** Also keep these epochs' weights as checkpoints (e.g. an early one for comparison). */
  keepEpochs?: number[];
  /** Score threshold of the confusion matrix and the P/R table logged as artifacts (default 0.3). */
  scoreThreshold?: number;
  onEpoch?: (record: EpochRecord) => void;
}

export interface EpochRecord {
  epoch: number;
  loss: number;
  heatmapLoss: number;
  boxLoss: number;
  valMap: number;
  valAp50: number;
  /** Seconds of this epoch (training steps + validation). */
  seconds: number;
}

export interface DetectorEvaluation {
  result: CocoEvalResult;
  detections: CocoDetection[];
  json: ReturnType<typeof cocoEvalJson>;
}

export interface TrainedDetector {
  detector: Detector;
  history: EpochRecord[];
  bestEpoch: number;
  bestValMap: number;
  bestValAp50: number;
  /** Seconds of training: feature extraction (data.seconds) + every epoch with its validation. */
  seconds: number;
  /** CPU seconds of the process over the same span (all threads), beside wall time on a shared machine. */
  cpuSeconds: number;
  runId?: string;
  checkpoints: { best: string; epochs: Record<number, string> };
  test?: DetectorEvaluation;
}

/** Detections of every image of a prepared split (batched head forward on the cached features). */
export function predictSplit(detector: Detector, prepared: PreparedSplit, options: { batchSize?: number; topK?: number; minScore?: number } = {}): CocoDetection[] {
  const batchSize = options.batchSize ?? 32;
  const images = prepared.split.instances.images;
  const out: CocoDetection[] = [];
  for (let start = 0; start < prepared.count; start += batchSize) {
    const n = Math.min(batchSize, prepared.count - start);
    const outputs = tf.tidy(() => {
      const f8 = prepared.f8.slice(start, n);
      const f16 = prepared.f16.slice(start, n);
      return tf.unstack(detector.forward(f8, f16)) as tf.Tensor3D[];
    });
    outputs.forEach((output, i) => out.push(...detector.toCocoDetections(output, images[start + i], options)));
    tf.dispose(outputs);
  }
  return out;
}

export function evaluateDetector(detector: Detector, prepared: PreparedSplit): DetectorEvaluation {
  const detections = predictSplit(detector, prepared);
  const result = evaluateCoco(prepared.split.instances, detections);
  return { result, detections, json: cocoEvalJson(prepared.split.instances, result) };
}

function logEvaluation(run: Run, name: string, prepared: PreparedSplit, evaluation: DetectorEvaluation, scoreThreshold: number): void {
  const gt = prepared.split.instances;
  run.logDict(evaluation.json, `coco_eval_${name}.json`);
  run.logDict(precisionRecallAtScore(gt, evaluation.result, { scoreThreshold }), `per_class_${name}.json`);
  run.logDict(detectionConfusionMatrix(gt, evaluation.detections, { scoreThreshold }), `confusion_matrix_${name}.json`);
  run.logDict(evaluation.detections, `detections_${name}.json`);
  const stats = Object.fromEntries(Object.entries(evaluation.json).filter(([, v]) => typeof v === "number").map(([k, v]) => [`${name}_${k}`, v as number]));
  run.logMetrics(stats);
}

export async function trainDetector(data: DetectionData, options: TrainDetectorOptions = {}): Promise<TrainedDetector> {
  const train = data.splits.train;
  const val = data.splits.val;
  if (!train) throw new Error(`trainDetector: ${data.dir} has no train split`);
  if (!val) throw new Error(`trainDetector: ${data.dir} has no val split (the best epoch is chosen on it, never on test)`);
  const epochs = options.epochs ?? 12;
  const batchSize = options.batchSize ?? 16;
  const lr = options.lr ?? 3e-3;
  const seed = options.seed ?? 0;
  const augment = options.augment ?? true;
  const scoreThreshold = options.scoreThreshold ?? 0.3;
  const detector = Detector.withExtractor(data.extractor, { categories: data.categories, seed, headWidth: options.headWidth, headBlocks: options.headBlocks });
  const K = detector.numClasses;
  const params = {
    data: data.dir,
    synthetic: data.synthetic,
    input_size: data.inputSize,
    epochs,
    batch_size: batchSize,
    lr,
    seed,
    augment,
    head_width: detector.config.headWidth,
    head_blocks: detector.config.headBlocks,
    backbone: "mobilenet_v2_1.0_224 ImageNet (frozen, features add_21/add_47)",
    backend: tf.getBackend(),
    classes: data.categories.map((c) => c.name).join(","),
    train_images: train.count,
    val_images: val.count,
  };
  const run = options.track === false ? undefined : startRun({ experiment: options.experiment ?? "detection", runName: options.runName ?? `centernet-${data.inputSize}-s${seed}` });
  run?.logParams(params);
  if (data.synthetic) run?.setTag("data", "SYNTHETIC (detect:synth)");
  const checkpointRoot = options.checkpointDir ?? outputsDir("checkpoints", "detection", run?.runId ?? `${data.inputSize}-s${seed}-${Date.now()}`);
  const checkpoints = { best: path.join(checkpointRoot, "best"), epochs: {} as Record<number, string> };
  const keep = new Set(options.keepEpochs ?? []);

  const optimizer = tf.train.adam(lr);
  const rng = createRng(seed).fork("batches");
  const history: EpochRecord[] = [];
  let best: { epoch: number; map: number; ap50: number; weights: tf.Tensor[] } | null = null;
  const started = Date.now();
  const cpuStarted = process.cpuUsage();
  const progress = createProgress(`train detector @${data.inputSize}`, epochs, { unit: "epochs" });
  try {
    for (let epoch = 1; epoch <= epochs; epoch++) {
      const epochStart = Date.now();
      (optimizer as unknown as { learningRate: number }).learningRate = lr * (0.05 + 0.95 * 0.5 * (1 + Math.cos((Math.PI * (epoch - 1)) / epochs)));
      const order = rng.shuffle([...Array(train.count).keys()]);
      let sums = [0, 0, 0];
      let batches = 0;
      for (let start = 0; start < order.length; start += batchSize) {
        const flip = augment ? rng.int(4) : 0;
        const indices = tf.tensor1d(order.slice(start, start + batchSize), "int32");
        const parts = tf.tidy(() => {
          let f8 = tf.gather(train.f8, indices) as tf.Tensor4D;
          let f16 = tf.gather(train.f16, indices) as tf.Tensor4D;
          const axes = [...(flip & 1 ? [2] : []), ...(flip & 2 ? [1] : [])];
          if (axes.length) {
            f8 = tf.reverse(f8, axes);
            f16 = tf.reverse(f16, axes);
          }
          const target = train.targets[flip];
          const heat = tf.gather(target.heatmap, indices) as tf.Tensor4D;
          const reg = tf.gather(target.regression, indices) as tf.Tensor4D;
          const mask = tf.gather(target.mask, indices) as tf.Tensor4D;
          let parts: { heatmap: tf.Scalar; box: tf.Scalar } | null = null;
          optimizer.minimize(() => {
            const loss = centerNetLoss(detector.forward(f8, f16, true), heat, reg, mask, K);
            parts = { heatmap: tf.keep(loss.heatmap), box: tf.keep(loss.box) };
            return loss.total;
          });
          return parts as unknown as { heatmap: tf.Scalar; box: tf.Scalar };
        });
        indices.dispose();
        const h = (await parts.heatmap.data())[0];
        const b = (await parts.box.data())[0];
        tf.dispose([parts.heatmap, parts.box]);
        sums = [sums[0] + h + b, sums[1] + h, sums[2] + b];
        batches++;
      }
      const evaluation = evaluateDetector(detector, val);
      const record: EpochRecord = {
        epoch,
        loss: sums[0] / batches,
        heatmapLoss: sums[1] / batches,
        boxLoss: sums[2] / batches,
        valMap: evaluation.json.ap,
        valAp50: evaluation.json.ap50,
        seconds: (Date.now() - epochStart) / 1000,
      };
      history.push(record);
      run?.logMetrics({ train_loss: record.loss, train_heatmap_loss: record.heatmapLoss, train_box_loss: record.boxLoss, val_map: record.valMap, val_ap50: record.valAp50, epoch_seconds: record.seconds }, epoch);
      if (!best || record.valMap > best.map) {
        if (best) tf.dispose(best.weights);
        best = { epoch, map: record.valMap, ap50: record.valAp50, weights: detector.snapshot() };
      }
      if (keep.has(epoch)) {
        checkpoints.epochs[epoch] = path.join(checkpointRoot, `epoch_${epoch}`);
        await detector.save(checkpoints.epochs[epoch], { epoch, valMap: record.valMap, synthetic: data.synthetic });
      }
      options.onEpoch?.(record);
      progress.tick(1, `loss ${record.loss.toFixed(3)}, val mAP ${record.valMap.toFixed(3)}, AP50 ${record.valAp50.toFixed(3)}`);
    }
    progress.done();
    const seconds = data.seconds + (Date.now() - started) / 1000;
    const cpu = process.cpuUsage(cpuStarted);
    const cpuSeconds = data.cpuSeconds + (cpu.user + cpu.system) / 1e6;
    detector.restore(best!.weights);
    tf.dispose(best!.weights);
    await detector.save(checkpoints.best, { epoch: best!.epoch, valMap: best!.map, valAp50: best!.ap50, synthetic: data.synthetic });
    run?.logMetrics({ best_epoch: best!.epoch, best_val_map: best!.map, best_val_ap50: best!.ap50, train_seconds: seconds, train_cpu_seconds: cpuSeconds });
    const trained: TrainedDetector = { detector, history, bestEpoch: best!.epoch, bestValMap: best!.map, bestValAp50: best!.ap50, seconds, cpuSeconds, runId: run?.runId, checkpoints };
    if (run) {
      logEvaluation(run, "val", val, evaluateDetector(detector, val), scoreThreshold);
      run.logArtifacts(checkpoints.best, "checkpoint_best");
    }
    if (data.splits.test) {
      trained.test = evaluateDetector(detector, data.splits.test);
      if (run) logEvaluation(run, "test", data.splits.test, trained.test, scoreThreshold);
    }
    run?.endRun();
    return trained;
  } catch (error) {
    run?.endRun("FAILED");
    throw error;
  } finally {
    optimizer.dispose();
  }
}
