import * as tf from "@tensorflow/tfjs";
import type { Backbone } from "../engine";
import { withSeed } from "../train";

/**
 * The classification heads of the baselines. The backbone-comparison seed's head is
 * Dense(128, relu) → Dropout(0.3) → Dense(classes, softmax); the metadata MLP uses the same shape.
 */
export interface HeadOptions {
  /** Hidden units (default 128). */
  units?: number;
  /** Dropout rate after the hidden layer (default 0.3). */
  dropout?: number;
  /** Output classes (default 3). */
  classes?: number;
  /** Seed of the initial weights (default 0). */
  seed?: number;
  name?: string;
}

export const SEED_HEAD = { units: 128, dropout: 0.3 } as const;

function headLayers(x: tf.SymbolicTensor, options: HeadOptions, prefix: string): tf.SymbolicTensor {
  const units = options.units ?? SEED_HEAD.units;
  const dropout = options.dropout ?? SEED_HEAD.dropout;
  const classes = options.classes ?? 3;
  if (!Number.isInteger(units) || units < 1) throw new Error(`head: units must be a whole number ≥ 1, got ${units}`);
  if (!(dropout >= 0 && dropout < 1)) throw new Error(`head: dropout must be in [0, 1), got ${dropout}`);
  if (!Number.isInteger(classes) || classes < 2) throw new Error(`head: classes must be a whole number ≥ 2, got ${classes}`);
  let h = tf.layers.dense({ units, activation: "relu", name: `${prefix}_dense` }).apply(x) as tf.SymbolicTensor;
  if (dropout > 0) h = tf.layers.dropout({ rate: dropout, name: `${prefix}_dropout` }).apply(h) as tf.SymbolicTensor;
  return tf.layers.dense({ units: classes, activation: "softmax", name: `${prefix}_softmax` }).apply(h) as tf.SymbolicTensor;
}

/** A head on plain feature vectors (frozen embeddings or metadata): [batch, inputDim] → class probabilities. */
export function denseHead(inputDim: number, options: HeadOptions = {}): tf.LayersModel {
  if (!Number.isInteger(inputDim) || inputDim < 1) throw new Error(`denseHead: inputDim must be a whole number ≥ 1, got ${inputDim}`);
  return withSeed(options.seed ?? 0, () => {
    const input = tf.input({ shape: [inputDim], name: "features" });
    return tf.model({ inputs: input, outputs: headLayers(input, options, "head"), name: options.name ?? "dense_head" });
  });
}

/**
 * The head on top of a trainable backbone (e.g. the small CNN trained from scratch): pixels → probabilities.
 * The backbone keeps its own (seeded) weights; only the head's weights come from `options.seed`.
 * Inputs are what `backbone.model` takes (already scaled, see `backbone.preprocess`).
 */
export function backboneClassifier(backbone: Backbone, options: HeadOptions = {}): tf.LayersModel {
  return withSeed(options.seed ?? 0, () => {
    const features = backbone.model.outputs[0];
    return tf.model({ inputs: backbone.model.inputs, outputs: headLayers(features, options, "head"), name: options.name ?? `${backbone.name.replace(/-/g, "_")}_classifier` });
  });
}
