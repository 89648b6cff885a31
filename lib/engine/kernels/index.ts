import * as tf from "@tensorflow/tfjs";
import { fusedBatchNorm, fusedBatchNormGrad } from "./batchnorm";
import { conv2DBackpropFilter, conv2DBackpropInput, convForward, depthwiseBackpropFilter, depthwiseBackpropInput } from "./convolution";
import { binaryFastPaths, cast, gatherV2, identity, matMulUntransposed } from "./elementwise";
import { meanGradient, reluGradient, sumGradient } from "./gradients";
import { KernelArgs, KernelFn, stockKernels } from "./heap";
import { maxPoolGrad } from "./pooling";
import { reductionFastPaths } from "./reductions";

/**
 * Training kernels for the wasm backend (see *Training on wasm* in environment.md).
 *
 * tfjs-backend-wasm 4.22 has no Conv2DBackpropFilter, DepthwiseConv2dNativeBackpropFilter or
 * DepthwiseConv2dNativeBackpropInput, and its Conv2DBackpropInput and MaxPoolGrad are slow: they are registered here
 * (convolution.ts, pooling.ts). Stock kernels that dominate training time get a fast path for their common cases and
 * hand the rest back to the stock kernel (convolution.ts, elementwise.ts, reductions.ts, batchnorm.ts); the
 * BatchNorm, Sum, Mean and ReLU gradients are registered with single-pass versions (batchnorm.ts, gradients.ts).
 * With the multithreaded backend most of these run our own SIMD kernels (../simd) on every core; with the
 * single-threaded build, op-based versions built from fast XNNPACK ops.
 */

export { setSimdKernels, simdKernelsActive } from "./heap";

const WASM_TRAINING_KERNELS: Array<[string, (args: KernelArgs) => tf.TensorInfo]> = [
  [tf.Conv2DBackpropInput, conv2DBackpropInput],
  [tf.Conv2DBackpropFilter, conv2DBackpropFilter],
  [tf.DepthwiseConv2dNativeBackpropInput, depthwiseBackpropInput],
  [tf.DepthwiseConv2dNativeBackpropFilter, depthwiseBackpropFilter],
  [tf.MaxPoolGrad, maxPoolGrad],
];

/** Stock wasm kernels given a fast path for common cases (the rest is delegated to the originals). */

const WASM_FAST_PATHS: Array<[string, KernelFn]> = [
  [tf.GatherV2, gatherV2],
  [tf.Identity, identity],
  [tf.Cast, cast],
  [tf.Conv2D, convForward("Conv2D")],
  [tf.FusedConv2D, convForward("FusedConv2D")],
  [tf.Multiply, binaryFastPaths("Multiply")],
  [tf.Add, binaryFastPaths("Add")],
  [tf.Sub, binaryFastPaths("Sub")],
  [tf.SquaredDifference, binaryFastPaths("SquaredDifference")],
  [tf.RealDiv, binaryFastPaths("RealDiv")],
  [tf.FusedBatchNorm, fusedBatchNorm],
  [tf.Sum, reductionFastPaths("Sum")],
  [tf.Mean, reductionFastPaths("Mean")],
  [tf.BatchMatMul, matMulUntransposed("BatchMatMul")],
  [tf._FusedMatMul, matMulUntransposed("_FusedMatMul")],
];

let registered = false;

/** Register the wasm training kernels and the FusedBatchNorm gradient (idempotent). */
export function registerTrainingKernels(): void {
  if (registered) return;
  for (const [kernelName, kernelFunc] of WASM_TRAINING_KERNELS) {
    if (tf.getKernel(kernelName, "wasm") != null) tf.unregisterKernel(kernelName, "wasm");
    tf.registerKernel({ kernelName, backendName: "wasm", kernelFunc: kernelFunc as unknown as tf.KernelFunc });
  }
  for (const [kernelName, kernelFunc] of WASM_FAST_PATHS) {
    const original = tf.getKernel(kernelName, "wasm");
    if (!original) continue;
    stockKernels.set(kernelName, original.kernelFunc as unknown as KernelFn);
    tf.unregisterKernel(kernelName, "wasm");
    tf.registerKernel({ ...original, kernelFunc: kernelFunc as unknown as tf.KernelFunc });
  }
  tf.registerGradient(fusedBatchNormGrad);
  tf.registerGradient(sumGradient);
  tf.registerGradient(reluGradient);
  tf.registerGradient(meanGradient);
  registered = true;
}

/**
 * Turn the fast paths for stock kernels (GatherV2, Identity, per-channel Multiply/Add/Sub/SquaredDifference, FusedBatchNorm,
 * leading-axes Sum/Mean, matrix products with a transposed operand) off or on again,
 * e.g. to compare speed or rule them out when debugging. The training kernels stay registered.
 */
export function setWasmFastPaths(enabled: boolean): void {
  registerTrainingKernels();
  for (const [kernelName, kernelFunc] of WASM_FAST_PATHS) {
    const original = stockKernels.get(kernelName);
    const current = tf.getKernel(kernelName, "wasm");
    if (!original || !current) continue;
    tf.unregisterKernel(kernelName, "wasm");
    tf.registerKernel({ ...current, kernelFunc: (enabled ? kernelFunc : original) as unknown as tf.KernelFunc });
  }
}

/** The kernels this module provides, for tests and docs. */
export const WASM_TRAINING_KERNEL_NAMES = WASM_TRAINING_KERNELS.map(([name]) => name);
/** Stock wasm kernels that get a faster path for common cases. */
export const WASM_FAST_PATH_KERNEL_NAMES = WASM_FAST_PATHS.map(([name]) => name);
