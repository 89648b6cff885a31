/**
 * Categorical cross-entropy as Keras defines it, with label smoothing and per-sample weights:
 *   y' = y·(1 − s) + s/K
 *   loss_i = −Σ_k y'_ik · log p_ik       (p clipped to [1e-7, 1 − 1e-7], or log-softmax of logits)
 *   loss = Σ_i w_i · loss_i / N          (Keras "sum over batch size": weights do not renormalise)
 * and the focal loss (Lin et al. 2017, as Keras' CategoricalFocalCrossentropy with alpha = 1): each class term is
 * scaled by (1 − p_ik)^γ, so well-classified samples weigh less and minority classes more.
 */
import * as tf from "@tensorflow/tfjs";

export interface LossOptions {
  /** 0 (default) … <1: mass moved from the true class to a uniform distribution. */
  labelSmoothing?: number;
  /** The model outputs logits instead of probabilities (auto-detected by `fit` from the last layer). */
  fromLogits?: boolean;
  /** Focal loss γ (0, the default, is plain cross-entropy; 2 is the paper's value). */
  focalGamma?: number;
}

const EPSILON = 1e-7;

/** One-hot targets with label smoothing, shape [n, numClasses]. */
export function smoothedOneHot(labels: ArrayLike<number>, numClasses: number, labelSmoothing = 0): tf.Tensor2D {
  return tf.tensor2d(smoothedTargets(labels, numClasses, labelSmoothing), [labels.length, numClasses]);
}

/** The values of `smoothedOneHot`, row-major. */
export function smoothedTargets(labels: ArrayLike<number>, numClasses: number, labelSmoothing = 0): Float32Array {
  if (labelSmoothing < 0 || labelSmoothing >= 1) throw new Error(`labelSmoothing must be in [0, 1), got ${labelSmoothing}`);
  const data = new Float32Array(labels.length * numClasses).fill(labelSmoothing / numClasses);
  for (let i = 0; i < labels.length; i++) {
    const label = labels[i];
    if (!Number.isInteger(label) || label < 0 || label >= numClasses) {
      throw new Error(`label ${label} at index ${i} is not a class index in [0, ${numClasses})`);
    }
    data[i * numClasses + label] += 1 - labelSmoothing;
  }
  return data;
}

/** Per-sample cross-entropy (focal when `focalGamma` > 0), shape [n]. */
export function crossEntropyPerSample(targets: tf.Tensor, outputs: tf.Tensor, fromLogits = false, focalGamma = 0): tf.Tensor1D {
  if (!(focalGamma >= 0)) throw new Error(`focalGamma must be ≥ 0, got ${focalGamma}`);
  return tf.tidy(() => {
    const logP = fromLogits ? tf.logSoftmax(outputs) : outputs.div(outputs.sum(-1, true)).clipByValue(EPSILON, 1 - EPSILON).log();
    const terms = focalGamma > 0 ? targets.mul(tf.sub(1, logP.exp()).pow(focalGamma)).mul(logP) : targets.mul(logP);
    return terms.sum(-1).neg() as tf.Tensor1D;
  });
}

/** Mean weighted cross-entropy of a batch (a scalar). `sampleWeights` default to 1. */
export function categoricalCrossEntropy(targets: tf.Tensor, outputs: tf.Tensor, options: { fromLogits?: boolean; sampleWeights?: tf.Tensor1D; focalGamma?: number } = {}): tf.Scalar {
  return tf.tidy(() => {
    let perSample: tf.Tensor = crossEntropyPerSample(targets, outputs, options.fromLogits, options.focalGamma);
    if (options.sampleWeights) perSample = perSample.mul(options.sampleWeights);
    return perSample.mean() as tf.Scalar;
  });
}
