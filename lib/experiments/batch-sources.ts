import * as tf from "@tensorflow/tfjs";
import type { RgbImage } from "../data";
import type { BatchSource } from "../train";
import { createRng } from "../util";

/**
 * BatchSources for `fit`: what a training step sees is drawn per (epoch, sample) from a seeded RNG, so a run
 * repeats exactly; evaluation (training = false) always sees the clean inputs.
 */

/** Rows × dim float32 values, row-major (an EmbeddingMatrix or a FeatureMatrix both fit). */
export interface DenseRows {
  rows: number;
  data: Float32Array;
}

function dimOf(m: DenseRows, what: string): number {
  if (m.rows <= 0) throw new Error(`${what}: no rows`);
  const dim = m.data.length / m.rows;
  if (!Number.isInteger(dim)) throw new Error(`${what}: ${m.data.length} values do not split into ${m.rows} rows`);
  return dim;
}

function gatherRows(m: DenseRows, dim: number, indices: readonly number[]): Float32Array {
  const out = new Float32Array(indices.length * dim);
  indices.forEach((row, i) => out.set(m.data.subarray(row * dim, (row + 1) * dim), i * dim));
  return out;
}

/** The whole matrix as a [rows, dim] tensor (caller disposes). */
export function matrixTensor(m: DenseRows): tf.Tensor2D {
  const dim = dimOf(m, "matrixTensor");
  return tf.tensor2d(m.data, [m.rows, dim]);
}

/**
 * Frozen-backbone augmentation: each training sample, each epoch, is one of its K cached augmented embeddings
 * (drawn uniformly, seeded by (seed, epoch)); evaluation uses the clean embedding.
 */
export function embeddingVariantSource(clean: DenseRows, variants: readonly DenseRows[], seed = 0): BatchSource {
  const dim = dimOf(clean, "embeddingVariantSource");
  variants.forEach((v, k) => {
    if (v.rows !== clean.rows || v.data.length !== clean.data.length) {
      throw new Error(`embeddingVariantSource: variant ${k} has ${v.rows} rows × ${v.data.length / Math.max(1, v.rows)} values, clean has ${clean.rows} × ${dim}`);
    }
  });
  const choices = new Map<number, Uint8Array>();
  const choiceOf = (epoch: number): Uint8Array => {
    let c = choices.get(epoch);
    if (!c) {
      const rng = createRng(seed).fork(`variants:${epoch}`);
      c = Uint8Array.from({ length: clean.rows }, () => rng.int(variants.length));
      choices.set(epoch, c);
    }
    return c;
  };
  return {
    size: clean.rows,
    batch(indices, ctx) {
      if (!ctx.training || variants.length === 0) return tf.tensor2d(gatherRows(clean, dim, indices), [indices.length, dim]);
      const pick = choiceOf(ctx.epoch);
      const out = new Float32Array(indices.length * dim);
      indices.forEach((row, i) => out.set(variants[pick[row]].data.subarray(row * dim, (row + 1) * dim), i * dim));
      return tf.tensor2d(out, [indices.length, dim]);
    },
  };
}

/** What an image augmentation needs to offer (lib/images' ImageAugmentation satisfies it). */
export interface Augmenter {
  readonly key: string;
  apply(image: RgbImage, rng: ReturnType<typeof createRng>): RgbImage;
}

export interface ImageSourceOptions {
  /** Applied to training batches only; image i in epoch e is augmented with createRng(seed).fork(`${e}:${i}`). */
  augmentation?: Augmenter | null;
  seed?: number;
  /** Pixels [0, 255] → the network's input range; default (p − 128) / 128, i.e. [-1, 1) as the engine's backbones. */
  scale?: (value: number) => number;
}

/**
 * Decoded images as batches [n, h, w, 3] for a network trained on pixels (augmented on the fly when training).
 * All images must have the same size.
 */
export function imageBatchSource(images: readonly RgbImage[], options: ImageSourceOptions = {}): BatchSource {
  if (images.length === 0) throw new Error("imageBatchSource: no images");
  const { width, height } = images[0];
  images.forEach((img, i) => {
    if (img.width !== width || img.height !== height) throw new Error(`imageBatchSource: image ${i} is ${img.width}×${img.height}, image 0 is ${width}×${height}`);
  });
  const scale = options.scale ?? ((v: number) => (v - 128) / 128);
  const pixels = width * height * 3;
  const root = createRng(options.seed ?? 0);
  return {
    size: images.length,
    batch(indices, ctx) {
      const out = new Float32Array(indices.length * pixels);
      indices.forEach((row, i) => {
        let img = images[row];
        if (ctx.training && options.augmentation) {
          img = options.augmentation.apply(img, root.fork(`${ctx.epoch}:${row}`));
          if (img.width !== width || img.height !== height) {
            throw new Error(`imageBatchSource: augmentation ${options.augmentation.key} changed image ${row} to ${img.width}×${img.height}`);
          }
        }
        const base = i * pixels;
        for (let j = 0; j < pixels; j++) out[base + j] = scale(img.data[j]);
      });
      return tf.tensor4d(out, [indices.length, height, width, 3]);
    },
  };
}
