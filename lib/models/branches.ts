/**
 * Building blocks of the fusion networks, as TensorFlow.js functional-API pieces:
 * dense blocks (Linear → BatchNorm → ReLU → Dropout, He-normal weights, zero bias), the fusion layers and the head.
 */
import * as tf from "@tensorflow/tfjs";

export type SymbolicTensor = tf.SymbolicTensor;

/** How the branch outputs are merged. */
export type FusionKind = "concat" | "gated" | "attention";
export const FUSION_KINDS: readonly FusionKind[] = ["concat", "gated", "attention"];

let layerCounter = 0;
/** Unique, readable layer names (tfjs refuses duplicates inside one model). */
function uniqueName(prefix: string): string {
  layerCounter++;
  return `${prefix}_${layerCounter}`;
}

/** One block per entry of `units`: Dense (He normal, zero bias, no activation) → BatchNorm → ReLU → Dropout. */
export function denseBlocks(input: SymbolicTensor, units: readonly number[], options: { dropout: number; name: string }): SymbolicTensor {
  let x = input;
  units.forEach((u, i) => {
    const base = `${options.name}${i + 1}`;
    x = tf.layers
      .dense({ units: u, kernelInitializer: "heNormal", biasInitializer: "zeros", name: uniqueName(`${base}_dense`) })
      .apply(x) as SymbolicTensor;
    x = tf.layers.batchNormalization({ name: uniqueName(`${base}_bn`) }).apply(x) as SymbolicTensor;
    x = tf.layers.activation({ activation: "relu", name: uniqueName(`${base}_relu`) }).apply(x) as SymbolicTensor;
    if (options.dropout > 0) x = tf.layers.dropout({ rate: options.dropout, name: uniqueName(`${base}_drop`) }).apply(x) as SymbolicTensor;
  });
  return x;
}

function project(x: SymbolicTensor, units: number, name: string, activation: "relu" | "linear" = "relu"): SymbolicTensor {
  return tf.layers
    .dense({ units, activation, kernelInitializer: "heNormal", biasInitializer: "zeros", name: uniqueName(name) })
    .apply(x) as SymbolicTensor;
}

/**
 * Merge branch outputs.
 * - concat: [h₁, …, h_k] side by side (the report's fusion).
 * - gated: every branch projected to `width`, each scaled element-wise by a sigmoid gate computed from all branches,
 *   then summed: Σ σ(W_i·[h₁…h_k]) ⊙ P_i·h_i. The network learns how much to trust the photo per sample.
 * - attention: the projected branches are k tokens; a shared scorer gives softmax weights over them, and the fused
 *   vector is their weighted mean.
 */
export function fuse(branches: readonly SymbolicTensor[], kind: FusionKind, width = 32): SymbolicTensor {
  if (branches.length === 0) throw new Error("fuse: no branches");
  if (kind === "concat") {
    return branches.length === 1 ? branches[0] : (tf.layers.concatenate({ name: uniqueName("fusion_concat") }).apply([...branches]) as SymbolicTensor);
  }
  const projected = branches.map((b, i) => project(b, width, `fusion_proj${i + 1}`));
  if (kind === "gated") {
    const all = branches.length === 1 ? branches[0] : (tf.layers.concatenate({ name: uniqueName("gate_input") }).apply([...branches]) as SymbolicTensor);
    const gated = projected.map((p, i) => {
      const gate = project(all, width, `gate${i + 1}`, "linear");
      const sigmoid = tf.layers.activation({ activation: "sigmoid", name: uniqueName(`gate${i + 1}_sigmoid`) }).apply(gate) as SymbolicTensor;
      return tf.layers.multiply({ name: uniqueName(`gated${i + 1}`) }).apply([sigmoid, p]) as SymbolicTensor;
    });
    return gated.length === 1 ? gated[0] : (tf.layers.add({ name: uniqueName("fusion_gated") }).apply(gated) as SymbolicTensor);
  }
  if (kind === "attention") {
    const k = projected.length;
    const tokens = projected.map((p, i) => tf.layers.reshape({ targetShape: [1, width], name: uniqueName(`token${i + 1}`) }).apply(p) as SymbolicTensor);
    const stacked = k === 1 ? tokens[0] : (tf.layers.concatenate({ axis: 1, name: uniqueName("tokens") }).apply(tokens) as SymbolicTensor); // [k, width]
    const scores = tf.layers
      .dense({ units: 1, useBias: false, kernelInitializer: "glorotUniform", name: uniqueName("attention_score") })
      .apply(stacked) as SymbolicTensor; // [k, 1]
    const flat = tf.layers.flatten({ name: uniqueName("attention_flat") }).apply(scores) as SymbolicTensor; // [k]
    const weights = tf.layers.softmax({ name: uniqueName("attention_weights") }).apply(flat) as SymbolicTensor; // [k]
    const repeated = tf.layers.repeatVector({ n: width, name: uniqueName("attention_repeat") }).apply(weights) as SymbolicTensor; // [width, k]
    const aligned = tf.layers.permute({ dims: [2, 1], name: uniqueName("attention_align") }).apply(repeated) as SymbolicTensor; // [k, width]
    const weighted = tf.layers.multiply({ name: uniqueName("attention_weighted") }).apply([aligned, stacked]) as SymbolicTensor;
    // Mean over the k tokens (= weighted sum / k: a constant factor the next layer absorbs).
    return tf.layers.globalAveragePooling1d({ name: uniqueName("fusion_attention") }).apply(weighted) as SymbolicTensor;
  }
  throw new Error(`fuse: unknown fusion "${kind as string}"; known: ${FUSION_KINDS.join(", ")}`);
}

/** Head: dense blocks, then Dense(numClasses) with softmax. */
export function classificationHead(x: SymbolicTensor, units: readonly number[], options: { dropout: number; numClasses: number }): SymbolicTensor {
  const h = denseBlocks(x, units, { dropout: options.dropout, name: "head" });
  return tf.layers
    .dense({ units: options.numClasses, activation: "softmax", kernelInitializer: "glorotUniform", name: uniqueName("output") })
    .apply(h) as SymbolicTensor;
}
