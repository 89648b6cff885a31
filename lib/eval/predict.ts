/**
 * A `PredictProbaFn` (what permutation importance and Shapley sampling call) from a tfjs LayersModel: the feature
 * matrix → the model's inputs → class probabilities (lib/train's `predictProba`: inference mode, batched, softmax
 * when the model outputs logits), with every tensor it creates disposed.
 */
import * as tf from "@tensorflow/tfjs";
import type { FeatureMatrix } from "../features";
import { groupIndices } from "../features";
import { predictProba } from "../train";
import type { PredictProbaFn } from "./importance";

/** The columns of the given groups (in that order) as a row-major Float32Array [rows × columns]. */
export function groupColumns(X: FeatureMatrix, groups: readonly string[]): { data: Float32Array; width: number } {
  const indices = groups.flatMap((g) => groupIndices(X, g));
  const width = X.columns.length;
  const data = new Float32Array(X.rows * indices.length);
  for (let r = 0; r < X.rows; r++) indices.forEach((j, k) => (data[r * indices.length + k] = X.data[r * width + j]));
  return { data, width: indices.length };
}

/** A 2-D tensor of the columns of the given groups (all columns when omitted); the caller disposes it. */
export function matrixTensor(X: FeatureMatrix, groups?: readonly string[]): tf.Tensor2D {
  if (!groups) return tf.tensor2d(X.data, [X.rows, X.columns.length]);
  const { data, width } = groupColumns(X, groups);
  return tf.tensor2d(data, [X.rows, width]);
}

export interface ModelPredictOptions {
  /**
   * The model's inputs (in `model.inputs` order) as lists of feature groups, e.g. a fusion model on an image
   * embedding plus metadata: `[["image_embedding"], ["tags", "categories", "tier", "xps", "location"]]`.
   * Default: one input with every column of the matrix.
   */
  inputGroups?: readonly (readonly string[])[];
  batchSize?: number;
  /** Default: detected from the last layer (lib/train's `outputsLogits`). */
  fromLogits?: boolean;
}

/** Wrap a LayersModel as a `PredictProbaFn` for permutationImportance / shapleySampling. */
export function modelPredictFn(model: tf.LayersModel, options: ModelPredictOptions = {}): PredictProbaFn {
  return async (X: FeatureMatrix) => {
    const inputs = options.inputGroups ? options.inputGroups.map((groups) => matrixTensor(X, groups)) : [matrixTensor(X)];
    if (inputs.length !== model.inputs.length) {
      tf.dispose(inputs);
      throw new Error(`modelPredictFn: model ${model.name} takes ${model.inputs.length} inputs but inputGroups gives ${inputs.length}`);
    }
    try {
      return await predictProba(model, inputs.length === 1 ? inputs[0] : inputs, { batchSize: options.batchSize, fromLogits: options.fromLogits });
    } finally {
      tf.dispose(inputs);
    }
  };
}
