import * as tf from "@tensorflow/tfjs";
import { CHANNEL_FAST_PATH_MIN_SIZE, channelAffineSimd, channelVectorLength, depthwiseView } from "./elementwise";
import { KernelArgs, accumulateInChunks, asTensor, heapFloats, heapOffset, outputOf, simdPool, stock, threadsFor } from "./heap";

/** BatchNorm forward as one per-channel affine map, and its gradient with the per-channel sums in one pass. */

/**
 * FusedBatchNorm forward with per-channel statistics as one multithreaded XNNPACK 1×1 depthwise convolution:
 * y = x·s + o with s = γ/√(σ²+ε) and o = β − μ·s computed on the C-element vectors first.
 */

export function fusedBatchNorm(args: KernelArgs): tf.TensorInfo | tf.TensorInfo[] {
  const { inputs, backend, attrs } = args;
  const x = inputs.x as tf.TensorInfo;
  const channels = x.shape[x.shape.length - 1];
  const vectors = [inputs.mean, inputs.variance, inputs.scale, inputs.offset].filter((t): t is tf.TensorInfo => t != null);
  const perChannel = vectors.every((t) => t.dtype === "float32" && channelVectorLength(t) === channels);
  const size = x.shape.reduce((a, b) => a * b, 1);
  if (x.dtype !== "float32" || x.shape.length < 2 || !perChannel || channels < 8 || size < CHANNEL_FAST_PATH_MIN_SIZE) {
    return stock(tf.FusedBatchNorm)(args);
  }
  const { varianceEpsilon } = attrs as unknown as tf.FusedBatchNormAttrs;
  const pool = simdPool(backend);
  if (pool) {
    const read = (info: tf.TensorInfo | undefined): Float32Array | null => (info == null ? null : heapFloats(backend, info));
    const [mean, variance, scale, offset] = [read(inputs.mean)!, read(inputs.variance)!, read(inputs.scale), read(inputs.offset)];
    const factor = new Float32Array(channels);
    const shift = new Float32Array(channels);
    for (let c = 0; c < channels; c++) {
      factor[c] = (scale ? scale[c] : 1) / Math.sqrt(variance[c] + varianceEpsilon);
      shift[c] = (offset ? offset[c] : 0) - mean[c] * factor[c];
    }
    return channelAffineSimd(pool, backend, x, factor, shift, false);
  }
  return outputOf(backend, () => {
    const vector = (info: tf.TensorInfo | undefined, name: string): tf.Tensor | null =>
      info == null ? null : tf.reshape(asTensor(info, name), [channels]);
    const mean = vector(inputs.mean, "mean")!;
    const variance = vector(inputs.variance, "variance")!;
    const scale = vector(inputs.scale, "scale");
    const offset = vector(inputs.offset, "offset");
    let factor = tf.rsqrt(tf.add(variance, tf.scalar(varianceEpsilon)));
    if (scale) factor = tf.mul(factor, scale);
    let shift = tf.neg(tf.mul(mean, factor));
    if (offset) shift = tf.add(shift, offset);
    const xt = asTensor(x, "x");
    const dims = xt.shape;
    const view = depthwiseView(xt, channels);
    const y = tf.fused.depthwiseConv2d({
      x: view as tf.Tensor4D,
      filter: tf.reshape(factor, [1, 1, channels, 1]) as tf.Tensor4D,
      strides: 1,
      pad: "valid",
      bias: shift,
    });
    return tf.reshape(y, dims);
  });
}

/**
 * Σ dy and Σ dy·(x − mean) per channel in one SIMD pass, shaped like `mean`, when x is [..., C] reduced over every
 * axis but the last and the SIMD kernels run; else null.
 */
export function batchNormGradSums(dy: tf.Tensor, x: tf.Tensor, mean: tf.Tensor, axes: number[]): [tf.Tensor, tf.Tensor] | null {
  const channels = x.shape[x.shape.length - 1];
  if (tf.getBackend() !== "wasm" || x.dtype !== "float32" || dy.dtype !== "float32" || mean.size !== channels) return null;
  if (axes.length !== x.rank - 1 || !axes.every((a, i) => a === i)) return null;
  const backend = tf.backend();
  const pool = simdPool(backend);
  if (!pool) return null;
  const rows = x.size / channels;
  const threads = threadsFor(pool, rows, channels * 2);
  const args = [heapOffset(backend, dy), heapOffset(backend, x), heapOffset(backend, mean), 0, channels];
  const sums = Float32Array.from(accumulateInChunks(pool, backend, "batchnorm_grad_sums", rows, threads, args, 3, 2 * channels));
  return [tf.tensor(sums.subarray(0, channels), mean.shape), tf.tensor(sums.subarray(channels), mean.shape)];
}

/** FusedBatchNorm gradient: same math as tfjs-core's, with per-channel factors applied by broadcasting. */
export const fusedBatchNormGrad: tf.GradConfig = {
  kernelName: tf.FusedBatchNorm,
  inputsToSave: ["x", "mean", "variance", "scale"],
  gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[], attrs: tf.NamedAttrMap) => {
    const dY = dy as tf.Tensor;
    const { varianceEpsilon } = attrs as unknown as tf.FusedBatchNormAttrs;
    const [x, mean, variance, scale] = saved;
    const scaleValue = scale == null ? tf.scalar(1) : scale;
    const axes = tf.backend_util.getReductionAxes(mean.shape, x.shape);
    const reduce = (t: tf.Tensor): tf.Tensor => (axes.length > 0 ? tf.sum(t, axes) : t);
    const invStd = tf.rsqrt(tf.add(variance, tf.scalar(varianceEpsilon)));
    // Computed here, not inside the closures: backprop runs each closure in its own tidy.
    const [sumDy, sumDyXc] = batchNormGradSums(dY, x, mean, axes) ?? [reduce(dY), reduce(tf.mul(dY, tf.sub(x, mean)))];
    const dySum = (): tf.Tensor => sumDy;
    const dyXcSum = (): tf.Tensor => sumDyXc;
    return {
      x: () => tf.reshape(tf.mul(dY, tf.mul(invStd, scaleValue)), x.shape),
      mean: () => tf.reshape(tf.mul(tf.neg(tf.mul(invStd, scaleValue)), dySum()), mean.shape),
      variance: () => {
        const minusHalfInvStdCubed = tf.mul(tf.pow(invStd, tf.scalar(3)), tf.scalar(-0.5));
        return tf.reshape(tf.mul(tf.mul(minusHalfInvStdCubed, scaleValue), dyXcSum()), mean.shape);
      },
      scale: () => tf.reshape(tf.mul(invStd, dyXcSum()), mean.shape),
      offset: () => tf.reshape(dySum(), mean.shape),
    };
  },
};
