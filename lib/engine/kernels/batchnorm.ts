import * as tf from "@tensorflow/tfjs";
import { CHANNEL_FAST_PATH_MIN_SIZE, channelAffineSimd, channelVectorLength, depthwiseView } from "./elementwise";
import { KernelArgs, accumulateInChunks, asTensor, heapFloats, heapOffset, heapOutput, heapVector, outputOf, simdPool, stock, threadsFor, type WasmBackendInternals } from "./heap";

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

/**
 * BatchNorm in training mode (batch statistics over every axis but the last) as three passes forward and two
 * backward with our SIMD kernels, where tfjs-layers runs tf.moments + batchNormalization (sub, square, two means,
 * the normalisation, and about ten full-size ops for their gradients). Null where the SIMD kernels do not run.
 *
 * Forward: per-channel sums, then Σ x·(x − μ) (= Σ (x − μ)², the biased variance times N, as tf.moments) in one
 * pass of the BatchNorm-gradient kernel, then y = x·s + o with s = γ/√(σ² + ε), o = β − μ·s.
 * Backward (the full gradient through μ and σ², as autodiff of the op-based version gives):
 *   S₁ = Σ dy, S₂ = Σ dy·(x − μ) (one pass);  dγ = S₂/√(σ² + ε), dβ = S₁;
 *   dx = dy·A + x·B + C with A = γ/√(σ² + ε), B = −A·S₂/(N(σ² + ε)), C = −A·S₁/N − B·μ (one pass).
 * Returns the output and the batch mean and variance (for the moving averages; no gradient flows through them).
 */
export function batchNormTraining(x: tf.Tensor, gamma: tf.Tensor | null, beta: tf.Tensor | null, epsilon: number): { y: tf.Tensor; mean: tf.Tensor1D; variance: tf.Tensor1D } | null {
  if (tf.getBackend() !== "wasm" || x.dtype !== "float32" || x.rank < 2) return null;
  const backend = tf.backend();
  const pool = simdPool(backend);
  if (!pool) return null;
  const channels = x.shape[x.rank - 1];
  const rows = x.size / channels;
  if (rows < 2) return null;
  const wasm = (backend as unknown as WasmBackendInternals).wasm;
  const threads = threadsFor(pool, rows, channels * 2);
  const sums = accumulateInChunks(pool, backend, "channel_sums", rows, threads, [heapOffset(backend, x), 0, channels], 1, channels);
  const mean = Float32Array.from(sums, (s) => s / rows);
  const meanAt = heapVector(backend, mean);
  let variance: Float32Array;
  try {
    const both = accumulateInChunks(pool, backend, "batchnorm_grad_sums", rows, threads, [heapOffset(backend, x), heapOffset(backend, x), meanAt, 0, channels], 3, 2 * channels);
    variance = Float32Array.from(both.subarray(channels), (s) => Math.max(s, 0) / rows);
  } finally {
    wasm._free(meanAt);
  }
  const gammaValues = gamma ? (gamma.dataSync() as Float32Array) : new Float32Array(channels).fill(1);
  const betaValues = beta ? (beta.dataSync() as Float32Array) : new Float32Array(channels);
  const invStd = Float64Array.from(variance, (v) => 1 / Math.sqrt(v + epsilon));
  const scale = Float32Array.from(invStd, (s, c) => gammaValues[c] * s);
  const shift = Float32Array.from(scale, (s, c) => betaValues[c] - mean[c] * s);
  const inputs: tf.Tensor[] = [x, ...(gamma ? [gamma] : []), ...(beta ? [beta] : [])];
  const op = tf.customGrad((...args: unknown[]) => {
    const save = args[args.length - 1] as tf.GradSaveFunc;
    const input = args[0] as tf.Tensor;
    save([input]);
    const y = tf.engine().makeTensorFromTensorInfo(channelAffineSimd(pool, backend, input, scale, shift, false));
    return {
      value: y,
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const g = dy as tf.Tensor;
        const xIn = saved[0];
        const meanAt2 = heapVector(backend, mean);
        let s1: Float64Array;
        let s2: Float64Array;
        try {
          const both = accumulateInChunks(pool, backend, "batchnorm_grad_sums", rows, threads, [heapOffset(backend, g), heapOffset(backend, xIn), meanAt2, 0, channels], 3, 2 * channels);
          s1 = both.slice(0, channels);
          s2 = both.slice(channels);
        } finally {
          wasm._free(meanAt2);
        }
        const a = Float32Array.from(scale);
        const b = Float32Array.from(invStd, (s, c) => (-scale[c] * s * s * s2[c]) / rows);
        const k = Float32Array.from(a, (value, c) => (-value * s1[c]) / rows - b[c] * mean[c]);
        const out = heapOutput(backend, xIn.shape);
        const [aAt, bAt, kAt] = [heapVector(backend, a), heapVector(backend, b), heapVector(backend, k)];
        try {
          const [dyAt, xAt, dxAt] = [heapOffset(backend, g), heapOffset(backend, xIn), heapOffset(backend, out)];
          pool.run("channel_affine2", rows, threads, () => [dyAt, xAt, aAt, bAt, kAt, dxAt, channels]);
        } finally {
          wasm._free(aAt);
          wasm._free(bAt);
          wasm._free(kAt);
        }
        const grads: tf.Tensor[] = [tf.engine().makeTensorFromTensorInfo(out)];
        if (gamma) grads.push(tf.tensor1d(Float32Array.from(s2, (s, c) => s * invStd[c])));
        if (beta) grads.push(tf.tensor1d(Float32Array.from(s1)));
        return grads;
      },
    };
  });
  const y = (op as (...t: tf.Tensor[]) => tf.Tensor)(...inputs);
  return { y, mean: tf.tensor1d(mean), variance: tf.tensor1d(variance) };
}
