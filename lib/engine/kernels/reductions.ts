import * as tf from "@tensorflow/tfjs";
import type { SimdPool } from "../simd";
import { KernelArgs, KernelFn, heapOutput, accumulateInChunks, asTensor, heapFloats, heapOffset, outputOf, simdPool, stock, threadsFor } from "./heap";

/** Sum/Mean over leading axes (per-channel statistics) and over middle axes (global average pooling). */

/** The number of leading axes reduced, when `axis` is exactly 0..k−1 of a rank-r tensor with k < r; else 0. */

export function leadingAxes(axis: number | number[], rank: number): number {
  const axes = tf.util.parseAxisParam(axis, new Array(rank).fill(1)).sort((a, b) => a - b);
  if (axes.length === 0 || axes.length >= rank) return 0;
  return axes.every((a, i) => a === i) ? axes.length : 0;
}

/** Column sums of x viewed as [rows, channels], times `factor`: one partial sum per thread, added up here. */
export function channelReductionSimd(
  pool: SimdPool,
  backend: tf.KernelBackend,
  x: tf.TensorInfo,
  rows: number,
  channels: number,
  outShape: number[],
  factor: number,
): tf.TensorInfo {
  const threads = threadsFor(pool, rows, channels);
  const sums = accumulateInChunks(pool, backend, "channel_sums", rows, threads, [heapOffset(backend, x), 0, channels], 1, channels);
  const out = heapOutput(backend, outShape);
  heapFloats(backend, out).set(sums.map((sum) => sum * factor));
  return out;
}

export const REDUCTION_FAST_PATH_MIN_SIZE = 16384;

/**
 * Sum/Mean fast paths for float32 tensors of at least REDUCTION_FAST_PATH_MIN_SIZE values: over the leading axes,
 * then over contiguous middle axes; anything else goes to the stock kernel.
 */
export function reductionFastPaths(kind: "Sum" | "Mean"): KernelFn {
  return (args) => {
    const x = args.inputs.x as tf.TensorInfo;
    const size = x.shape.reduce((a, b) => a * b, 1);
    if (x.dtype !== "float32" || size < REDUCTION_FAST_PATH_MIN_SIZE) return stock(kind)(args);
    return leadingReduction(kind, args) ?? middleReduction(kind, args) ?? stock(kind)(args);
  };
}

/**
 * Sum/Mean over the leading axes — per-channel statistics of NHWC activations (BatchNorm moments, bias and
 * BatchNorm gradients) — with our SIMD kernel, or else as an XNNPACK average pooling (multithreaded) over a
 * [A, B, 1, C] view, then a small mean over A. The stock kernel transposes the reduced axes to the end and reduces
 * on one thread. Null when the reduced axes are not leading ones.
 */
function leadingReduction(kind: "Sum" | "Mean", { inputs, backend, attrs }: KernelArgs): tf.TensorInfo | null {
  const x = inputs.x as tf.TensorInfo;
  const { axis, keepDims } = attrs as unknown as tf.SumAttrs;
  const k = leadingAxes(axis, x.shape.length);
  if (k === 0 || x.shape[k - 1] < 2) return null;
  const b = x.shape[k - 1];
  const reducedSize = x.shape.slice(0, k).reduce((p, q) => p * q, 1);
  const rest = x.shape.slice(k);
  const channels = rest.reduce((p, q) => p * q, 1);
  const a = reducedSize / b;
  const outShape = keepDims ? [...new Array(k).fill(1), ...rest] : rest;
  const pool = simdPool(backend);
  if (pool) return channelReductionSimd(pool, backend, x, reducedSize, channels, outShape, kind === "Mean" ? 1 / reducedSize : 1);
  return outputOf(backend, () => {
    const view = tf.reshape(asTensor(x, "x"), [a, b, 1, channels]) as tf.Tensor4D;
    const pooled = tf.avgPool(view, [b, 1], 1, "valid");
    const mean = a > 1 ? tf.mean(tf.reshape(pooled, [a, channels]), 0) : tf.reshape(pooled, [channels]);
    return tf.reshape(kind === "Sum" ? tf.mul(mean, reducedSize) : mean, outShape);
  });
}

/**
 * Sum/Mean over contiguous middle axes (global average pooling: [N, H, W, C] over H and W) with our SIMD kernel,
 * one group of leading indices per row. Null when not applicable (no SIMD kernels, or the axes are not a
 * contiguous block strictly inside the shape).
 */
function middleReduction(kind: "Sum" | "Mean", { inputs, backend, attrs }: KernelArgs): tf.TensorInfo | null {
  const pool = simdPool(backend);
  if (!pool) return null;
  const x = inputs.x as tf.TensorInfo;
  const { axis, keepDims } = attrs as unknown as tf.SumAttrs;
  const axes = tf.util.parseAxisParam(axis, x.shape).sort((p, q) => p - q);
  if (axes.length === 0 || axes[0] === 0 || !axes.every((a, i) => i === 0 || a === axes[i - 1] + 1)) return null;
  const last = axes[axes.length - 1];
  const a = x.shape.slice(0, axes[0]).reduce((p, q) => p * q, 1);
  const b = axes.reduce((p, i) => p * x.shape[i], 1);
  const c = x.shape.slice(last + 1).reduce((p, q) => p * q, 1);
  const outShape = keepDims ? x.shape.map((d, i) => (axes.includes(i) ? 1 : d)) : x.shape.filter((_, i) => !axes.includes(i));
  const out = heapOutput(backend, outShape);
  const factorBits = new Int32Array(new Float32Array([kind === "Mean" ? 1 / b : 1]).buffer)[0];
  const [xAt, outAt] = [heapOffset(backend, x), heapOffset(backend, out)];
  pool.run("middle_sums", a, threadsFor(pool, a, b * c), () => [xAt, outAt, b, c, factorBits]);
  return out;
}
