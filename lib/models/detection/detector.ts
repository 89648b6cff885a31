import * as tf from "@tensorflow/tfjs";
import * as fs from "fs";
import * as path from "path";
import type { CocoCategory, CocoDetection } from "../../data/coco";
import { diskModelHandler } from "../../engine";
import { clipBox, scaleBox } from "./boxes";
import { buildCenterNetHead, decodeOutput, OUTPUT_STRIDE } from "./centernet";
import { loadFeatureExtractor, type FeatureExtractor } from "./features";

/**
 * The detector: frozen pretrained MobileNetV2 features (stride 8 + 16) → trainable CenterNet head → COCO detections.
 * Images are resized to inputSize × inputSize; boxes are mapped back to each image's own width × height.
 */
export interface DetectorConfig {
  inputSize: number;
  /** The dataset's categories in class-index order (the head's heatmap channels). */
  categories: CocoCategory[];
  headWidth: number;
  headBlocks: number;
  seed: number;
  /** sha256 of the backbone weights the head was trained on. */
  backboneHash: string;
}

export interface ImageSize {
  id: number;
  width: number;
  height: number;
}

export class Detector {
  private constructor(
    readonly config: DetectorConfig,
    readonly extractor: FeatureExtractor,
    readonly head: tf.LayersModel,
  ) {}

  static async create(config: Omit<DetectorConfig, "backboneHash" | "headWidth" | "headBlocks"> & { headWidth?: number; headBlocks?: number }): Promise<Detector> {
    return Detector.withExtractor(await loadFeatureExtractor(config.inputSize), config);
  }

  /** A new head on an extractor already loaded (several runs at one size share it and its cached features). */
  static withExtractor(extractor: FeatureExtractor, config: Omit<DetectorConfig, "backboneHash" | "headWidth" | "headBlocks" | "inputSize"> & { headWidth?: number; headBlocks?: number }): Detector {
    const full: DetectorConfig = { headWidth: 64, headBlocks: 2, ...config, inputSize: extractor.inputSize, backboneHash: extractor.weightsHash };
    const [c8, c16] = extractor.model.outputs.map((o) => o.shape[3] as number);
    const head = buildCenterNetHead({ numClasses: config.categories.length, channels8: c8, channels16: c16, width: full.headWidth, blocks: full.headBlocks, seed: config.seed });
    return new Detector(full, extractor, head);
  }

  get numClasses(): number {
    return this.config.categories.length;
  }

  get gridSize(): number {
    return this.config.inputSize / OUTPUT_STRIDE;
  }

  /** Head output [batch, G, G, K + 4] for feature maps (from extractor.extract). */
  forward(f8: tf.Tensor4D, f16: tf.Tensor4D, training = false): tf.Tensor4D {
    return this.head.apply([f8, f16], { training }) as tf.Tensor4D;
  }

  /** COCO detections of one image from its head output [G, G, K + 4]. */
  toCocoDetections(output: tf.Tensor3D, image: ImageSize, options: { topK?: number; minScore?: number } = {}): CocoDetection[] {
    const sx = image.width / this.config.inputSize;
    const sy = image.height / this.config.inputSize;
    const out: CocoDetection[] = [];
    for (const raw of decodeOutput(output, this.numClasses, options)) {
      const box = clipBox(scaleBox(raw.box, sx, sy), image.width, image.height);
      if (!box) continue;
      out.push({ image_id: image.id, category_id: this.config.categories[raw.classIndex].id, bbox: box, score: raw.score });
    }
    return out;
  }

  /** Detect on RGB images already resized to inputSize (bytes [size·size·3] each). */
  detect(images: ReadonlyArray<{ rgb: Uint8Array; image: ImageSize }>, options: { topK?: number; minScore?: number } = {}): CocoDetection[] {
    const size = this.config.inputSize;
    const out: CocoDetection[] = [];
    for (const { rgb, image } of images) {
      const output = tf.tidy(() => {
        const pixels = tf.tensor4d(Float32Array.from(rgb), [1, size, size, 3]);
        const [f8, f16] = this.extractor.extract(pixels);
        return this.forward(f8, f16).squeeze([0]) as tf.Tensor3D;
      });
      out.push(...this.toCocoDetections(output, image, options));
      output.dispose();
    }
    return out;
  }

  /** Save the head (tfjs model.json + weights) and detector.json; the backbone is the shared pretrained file. */
  async save(dir: string, extra: Record<string, unknown> = {}): Promise<void> {
    fs.mkdirSync(dir, { recursive: true });
    await this.head.save(
      tf.io.withSaveHandler(async (artifacts) => {
        const weights = Buffer.from(artifacts.weightData as ArrayBuffer);
        fs.writeFileSync(path.join(dir, "weights.bin"), weights);
        const manifest = [{ paths: ["weights.bin"], weights: artifacts.weightSpecs }];
        fs.writeFileSync(path.join(dir, "model.json"), JSON.stringify({ modelTopology: artifacts.modelTopology, weightsManifest: manifest, format: "layers-model" }));
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: "JSON", weightDataBytes: weights.length } };
      }),
    );
    fs.writeFileSync(path.join(dir, "detector.json"), JSON.stringify({ ...this.config, ...extra }, null, 2));
  }

  static async load(dir: string): Promise<Detector> {
    const file = path.join(dir, "detector.json");
    if (!fs.existsSync(file)) throw new Error(`Detector.load: ${file} not found (not a saved detector)`);
    const config = JSON.parse(fs.readFileSync(file, "utf8")) as DetectorConfig;
    const extractor = await loadFeatureExtractor(config.inputSize);
    if (extractor.weightsHash !== config.backboneHash) {
      throw new Error(`Detector.load: ${dir} was trained on backbone weights ${config.backboneHash.slice(0, 12)}…, found ${extractor.weightsHash.slice(0, 12)}… at ${extractor.source}`);
    }
    const head = await tf.loadLayersModel(diskModelHandler(dir));
    return new Detector(config, extractor, head);
  }

  /** Copy of the head's weights (for keeping the best epoch in memory). */
  snapshot(): tf.Tensor[] {
    return this.head.getWeights().map((w) => w.clone());
  }

  restore(weights: tf.Tensor[]): void {
    this.head.setWeights(weights);
  }
}
