import * as tf from "@tensorflow/tfjs";
import { heapOutput, heapOffset, simdPool, threadsFor } from "./heap";

/**
 * Gradients registered in place of tfjs-core's (the registry is per kernel name, for every backend): on wasm
 * with our SIMD kernels they run as single passes; elsewhere they keep tfjs-core's formulas.
 */

/**
 * dy (the reduced tensor, keepDims or not) broadcast back to `shape` over the reduced `axes`, divided by
 * `divisor`: the gradient of Sum (divisor 1) and Mean (the reduced size). tfjs-core builds it as dy · ones(shape) (/ size),
 * filling a ones array of the full size in JS on every step; on wasm with our kernels, when the reduced axes
 * are contiguous, it is one pass instead. Other cases and other backends keep tfjs-core's formula.
 */

export function reductionGradient(dy: tf.Tensor, shape: number[], axes: number[], divisor: number): tf.Tensor {
  const expanded = shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const sorted = [...axes].sort((p, q) => p - q);
  const contiguous = sorted.length > 0 && sorted.every((a, i) => i === 0 || a === sorted[i - 1] + 1);
  const backend = tf.backend();
  const pool = tf.getBackend() === "wasm" && dy.dtype === "float32" ? simdPool(backend) : null;
  if (!pool || !contiguous) {
    const broadcast = tf.mul(tf.reshape(dy, expanded), tf.ones(shape, "float32"));
    return divisor === 1 ? broadcast : tf.div(broadcast, divisor);
  }
  const a = shape.slice(0, sorted[0]).reduce((p, q) => p * q, 1);
  const b = sorted.reduce((p, axis) => p * shape[axis], 1);
  const c = shape.slice(sorted[sorted.length - 1] + 1).reduce((p, q) => p * q, 1);
  const out = heapOutput(backend, shape);
  const rows = a * b;
  const threads = threadsFor(pool, rows, c);
  const factorBits = new Int32Array(new Float32Array([1 / divisor]).buffer)[0];
  const [srcAt, dstAt] = [heapOffset(backend, dy), heapOffset(backend, out)];
  pool.run("broadcast_middle", rows, threads, () => [srcAt, dstAt, b, c, factorBits]);
  return tf.engine().makeTensorFromTensorInfo(out);
}

export const RELU_GRAD_BLOCK = 4096;

/** ReLU gradient, dy · (x > 0), in one SIMD pass on wasm; tfjs-core's formula elsewhere. */
export const reluGradient: tf.GradConfig = {
  kernelName: tf.Relu,
  inputsToSave: ["x"],
  gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
    const [x] = saved;
    const g = dy as tf.Tensor;
    return {
      x: () => {
        const backend = tf.backend();
        const pool = tf.getBackend() === "wasm" && g.dtype === "float32" && x.dtype === "float32" ? simdPool(backend) : null;
        if (!pool) return tf.mul(g, tf.cast(tf.step(x), "float32"));
        const out = heapOutput(backend, x.shape);
        const count = x.size;
        const rows = Math.ceil(count / RELU_GRAD_BLOCK);
        const [xAt, dyAt, dxAt] = [heapOffset(backend, x), heapOffset(backend, g), heapOffset(backend, out)];
        pool.run("relu_grad", rows, threadsFor(pool, rows, RELU_GRAD_BLOCK), () => [xAt, dyAt, dxAt, count, RELU_GRAD_BLOCK]);
        return tf.engine().makeTensorFromTensorInfo(out);
      },
    };
  },
};

/** Gradient config of a Sum (divisor 1) or Mean (divisor = the reduced size) kernel. */
function reductionGradientConfig(kernelName: string, mean: boolean): tf.GradConfig {
  return {
    kernelName,
    inputsToSave: ["x"],
    gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[], attrs: tf.NamedAttrMap) => {
      const [x] = saved;
      const axes = tf.util.parseAxisParam((attrs as unknown as tf.SumAttrs).axis, x.shape);
      const divisor = mean ? axes.reduce((p, axis) => p * x.shape[axis], 1) : 1;
      return { x: () => reductionGradient(dy as tf.Tensor, x.shape, axes, divisor) };
    },
  };
}

export const sumGradient = reductionGradientConfig(tf.Sum, false);
export const meanGradient = reductionGradientConfig(tf.Mean, true);
