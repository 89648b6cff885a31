import * as tf from "@tensorflow/tfjs";
import { COCO_SPLITS, loadCocoFolder, readSplitImage, type CocoCategory, type CocoSplit, type CocoSplitName } from "../../data/coco";
import { buildTargets, loadFeatureExtractor, type FeatureExtractor, type TargetObject } from "../../models/detection";
import { createProgress } from "../../util";

/**
 * A COCO folder turned into what the detector trains on: every image decoded once, resized to the input size, run
 * through the frozen backbone once (features cached in memory as tensors), with dense CenterNet targets for the image
 * and its horizontal / vertical mirror images (the flip augmentation mirrors the feature maps).
 */
export interface PreparedSplit {
  split: CocoSplit;
  /** [N, G, G, C8] and [N, G/2, G/2, C16]. */
  f8: tf.Tensor4D;
  f16: tf.Tensor4D;
  /** Targets per flip: 0 none, 1 horizontal, 2 vertical, 3 both; each { heatmap [N,G,G,K], regression [N,G,G,4], mask [N,G,G,1] }. */
  targets: Array<{ heatmap: tf.Tensor4D; regression: tf.Tensor4D; mask: tf.Tensor4D }>;
  count: number;
}

export interface DetectionData {
  dir: string;
  inputSize: number;
  extractor: FeatureExtractor;
  /** The training split's categories: the detector's classes, in this order. */
  categories: CocoCategory[];
  splits: Partial<Record<CocoSplitName, PreparedSplit>>;
  /** True when the instances say the data is synthetic (detect:synth sets info.synthetic). */
  synthetic: boolean;
  /** Seconds spent decoding images and computing backbone features, and the process's CPU seconds meanwhile. */
  seconds: number;
  cpuSeconds: number;
}

export interface LoadDetectionDataOptions {
  /** COCO folder (annotations/instances_<split>.json + <split>/ images, or Roboflow's export). */
  data: string;
  /** Network input side (multiple of 16). */
  size: number;
  /** Images per backbone batch (default 16). */
  batchSize?: number;
  /** Only these splits (default all present). */
  splits?: CocoSplitName[];
}

/** Objects of one image in network-input pixels, crowd regions left out (they are not objects to find). */
function objectsOf(split: CocoSplit, imageIndex: number, size: number, classIndex: Map<number, number>, flip: number): TargetObject[] {
  const image = split.instances.images[imageIndex];
  const sx = size / image.width;
  const sy = size / image.height;
  return split.instances.annotations
    .filter((a) => a.image_id === image.id && a.iscrowd === 0)
    .map((a) => {
      let [x, y, w, h] = [a.bbox[0] * sx, a.bbox[1] * sy, a.bbox[2] * sx, a.bbox[3] * sy];
      if (flip & 1) x = size - x - w;
      if (flip & 2) y = size - y - h;
      return { box: [x, y, w, h] as [number, number, number, number], classIndex: classIndex.get(a.category_id)! };
    });
}

async function prepareSplit(split: CocoSplit, extractor: FeatureExtractor, categories: CocoCategory[], batchSize: number): Promise<PreparedSplit> {
  const size = extractor.inputSize;
  const G = size / 8;
  const K = categories.length;
  const classIndex = new Map(categories.map((c, i) => [c.id, i]));
  const images = split.instances.images;
  const progress = createProgress(`features ${split.name} @${size}`, images.length, { unit: "images" });
  const f8Parts: tf.Tensor4D[] = [];
  const f16Parts: tf.Tensor4D[] = [];
  for (let start = 0; start < images.length; start += batchSize) {
    const batch = images.slice(start, start + batchSize);
    const pixels = new Float32Array(batch.length * size * size * 3);
    for (let i = 0; i < batch.length; i++) pixels.set((await readSplitImage(split, batch[i], size)).rgb, i * size * size * 3);
    const input = tf.tensor4d(pixels, [batch.length, size, size, 3]);
    const [f8, f16] = extractor.extract(input);
    input.dispose();
    f8Parts.push(f8);
    f16Parts.push(f16);
    progress.tick(batch.length);
  }
  progress.done();
  const f8 = tf.concat(f8Parts) as tf.Tensor4D;
  const f16 = tf.concat(f16Parts) as tf.Tensor4D;
  tf.dispose([...f8Parts, ...f16Parts]);
  const targets = [0, 1, 2, 3].map((flip) => {
    const heatmap = new Float32Array(images.length * G * G * K);
    const regression = new Float32Array(images.length * G * G * 4);
    const mask = new Float32Array(images.length * G * G);
    images.forEach((_, i) => {
      const t = buildTargets(objectsOf(split, i, size, classIndex, flip), G, K);
      heatmap.set(t.heatmap, i * G * G * K);
      regression.set(t.regression, i * G * G * 4);
      mask.set(t.mask, i * G * G);
    });
    return {
      heatmap: tf.tensor4d(heatmap, [images.length, G, G, K]),
      regression: tf.tensor4d(regression, [images.length, G, G, 4]),
      mask: tf.tensor4d(mask, [images.length, G, G, 1]),
    };
  });
  return { split, f8, f16, targets, count: images.length };
}

export async function loadDetectionData(options: LoadDetectionDataOptions): Promise<DetectionData> {
  const started = Date.now();
  const cpuStarted = process.cpuUsage();
  const folder = loadCocoFolder(options.data);
  const names = (options.splits ?? [...COCO_SPLITS]).filter((name) => folder[name]);
  const reference = folder.train ?? folder[names[0]];
  if (!reference) throw new Error(`loadDetectionData: ${options.data} has none of the splits ${(options.splits ?? COCO_SPLITS).join(", ")}`);
  const categories = [...reference.instances.categories].sort((a, b) => a.id - b.id);
  for (const name of names) {
    const other = folder[name]!.instances.categories.map((c) => `${c.id}:${c.name}`).sort().join(",");
    if (other !== categories.map((c) => `${c.id}:${c.name}`).sort().join(",")) {
      throw new Error(`loadDetectionData: ${folder[name]!.instancesFile} lists other categories than ${reference.instancesFile}`);
    }
  }
  const extractor = await loadFeatureExtractor(options.size);
  const splits: Partial<Record<CocoSplitName, PreparedSplit>> = {};
  for (const name of names) splits[name] = await prepareSplit(folder[name]!, extractor, categories, options.batchSize ?? 16);
  const synthetic = names.some((name) => folder[name]!.instances.info?.synthetic === true);
  const cpu = process.cpuUsage(cpuStarted);
  return { dir: options.data, inputSize: options.size, extractor, categories, splits, synthetic, seconds: (Date.now() - started) / 1000, cpuSeconds: (cpu.user + cpu.system) / 1e6 };
}

export function disposeDetectionData(data: DetectionData): void {
  for (const split of Object.values(data.splits)) {
    if (!split) continue;
    tf.dispose([split.f8, split.f16]);
    for (const t of split.targets) tf.dispose([t.heatmap, t.regression, t.mask]);
  }
}
