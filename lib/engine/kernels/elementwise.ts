import * as tf from "@tensorflow/tfjs";
import type { SimdPool } from "../simd";
import { KernelArgs, KernelFn, WasmBackendInternals, WasmHeapAccess, asTensor, heapFloats, heapOffset, heapOutput, heapVector, outputOf, simdPool, stock, threadsFor } from "./heap";

/**
 * Elementwise fast paths: row gathers, data-sharing Identity/Cast, per-channel broadcasts (bias adds,
 * BatchNorm), and small broadcasts in JS.
 */

/**
 * GatherV2 along axis 0 (what batching does: x[indices]) as row copies on the wasm heap; the stock kernel
 * indexes element by element. Other cases go to the stock kernel.
 */

export function gatherV2(args: KernelArgs): tf.TensorInfo | tf.TensorInfo[] {
  const { inputs, backend, attrs } = args;
  const x = inputs.x as tf.TensorInfo;
  const indices = inputs.indices as tf.TensorInfo;
  const { axis, batchDims } = attrs as unknown as tf.GatherV2Attrs;
  const rank = x.shape.length;
  const normalizedAxis = axis < 0 ? axis + rank : axis;
  if (normalizedAxis !== 0 || (batchDims ?? 0) !== 0 || x.dtype !== "float32" || indices.dtype !== "int32" || rank < 1) {
    return stock(tf.GatherV2)(args);
  }
  const heap = backend as unknown as WasmHeapAccess & { typedArrayFromHeap(info: tf.TensorInfo): Float32Array | Int32Array };
  const index = heap.typedArrayFromHeap(indices) as unknown as Int32Array;
  const rows = x.shape[0];
  for (let i = 0; i < index.length; i++) {
    if (index[i] < 0 || index[i] >= rows) return stock(tf.GatherV2)(args); // the stock kernel reports the bad index
  }
  const rowSize = x.shape.slice(1).reduce((a, b) => a * b, 1);
  const out = heapOutput(backend, [...indices.shape, ...x.shape.slice(1)]);
  const target = heap.typedArrayFromHeap(out);
  const source = heap.typedArrayFromHeap(x);
  const ids = heap.typedArrayFromHeap(indices) as unknown as Int32Array; // re-read: the allocation may have moved the heap
  for (let i = 0; i < ids.length; i++) target.set(source.subarray(ids[i] * rowSize, (ids[i] + 1) * rowSize), i * rowSize);
  return out;
}

/**
 * Identity (tf.clone; the engine clones every tensor it saves for backprop) shares the data instead of copying it,
 * as the cpu backend does: tensors are immutable, and the wasm backend reference-counts shared data.
 */
export function identity(args: KernelArgs): tf.TensorInfo | tf.TensorInfo[] {
  const x = args.inputs.x as tf.TensorInfo;
  if (x.dtype === "string") return stock(tf.Identity)(args);
  (args.backend as unknown as { incRef(dataId: object): void }).incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}

/** y = x·scale + shift per channel (then squared when `square`), x viewed as [rows, channels]. */
export function channelAffineSimd(
  pool: SimdPool,
  backend: tf.KernelBackend,
  x: tf.TensorInfo,
  scale: Float32Array,
  shift: Float32Array,
  square: boolean,
): tf.TensorInfo {
  const wasm = (backend as unknown as WasmBackendInternals).wasm;
  const channels = scale.length;
  const rows = x.shape.reduce((p, q) => p * q, 1) / channels;
  const out = heapOutput(backend, x.shape);
  const scaleAt = heapVector(backend, scale);
  const shiftAt = heapVector(backend, shift);
  try {
    const threads = threadsFor(pool, rows, channels);
    const [xAt, yAt] = [heapOffset(backend, x), heapOffset(backend, out)];
    pool.run("channel_affine", rows, threads, () => [xAt, scaleAt, shiftAt, yAt, channels, square ? 1 : 0]);
    return out;
  } finally {
    wasm._free(scaleAt);
    wasm._free(shiftAt);
  }
}

/** x [..., C] as a 4-D NHWC view whose leading dims give XNNPACK rows to share among threads. */
export function depthwiseView(x: tf.Tensor, channels: number): tf.Tensor4D {
  const dims = x.shape;
  if (dims.length === 4) return x as tf.Tensor4D;
  if (dims.length === 2) return tf.reshape(x, [dims[0], 1, 1, channels]);
  return tf.reshape(x, [dims.slice(0, -2).reduce((p, q) => p * q, 1), dims[dims.length - 2], 1, channels]);
}

/**
 * Per-channel broadcasts — `x ∘ v` with x [..., C] and v of C values ([C] or [1, …, 1, C]) — are everywhere in
 * training (bias adds, BatchNorm and its gradient) and run several times slower than same-shape ops on stock
 * wasm. Here they run as one multithreaded XNNPACK 1×1 depthwise convolution: x·v = filter v; x + v = filter 1,
 * bias v; x − v = filter 1, bias −v; v − x = filter −1, bias v. Everything else goes to the stock kernel.
 */
export type ChannelOp = "Multiply" | "Add" | "Sub" | "SquaredDifference";

export function channelVectorLength(info: tf.TensorInfo): number {
  const shape = info.shape;
  if (shape.length === 0) return 0;
  for (let i = 0; i < shape.length - 1; i++) if (shape[i] !== 1) return 0;
  return shape[shape.length - 1];
}

export const CHANNEL_FAST_PATH_MIN_SIZE = 16384;

export function channelBroadcast(kind: ChannelOp): KernelFn {
  return (args) => {
    const { inputs, backend } = args;
    const a = inputs.a as tf.TensorInfo;
    const b = inputs.b as tf.TensorInfo;
    const bigIsA = a.shape.length >= 2 && channelVectorLength(b) === a.shape[a.shape.length - 1];
    const bigIsB = !bigIsA && b.shape.length >= 2 && channelVectorLength(a) === b.shape[b.shape.length - 1];
    const big = bigIsA ? a : b;
    const small = bigIsA ? b : a;
    const sizeOf = (info: tf.TensorInfo) => info.shape.reduce((x, y) => x * y, 1);
    if (
      (!bigIsA && !bigIsB) ||
      a.dtype !== "float32" ||
      b.dtype !== "float32" ||
      sizeOf(big) < CHANNEL_FAST_PATH_MIN_SIZE ||
      big.shape[big.shape.length - 1] < 8 || // XNNPACK's depthwise kernels are slow for a handful of channels
      small.shape.length > big.shape.length
    ) {
      return stock(kind)(args);
    }
    const pool = simdPool(backend);
    if (pool) {
      // A copy: allocating the output may grow (and so move) the heap before v is read.
      const v = Float32Array.from(heapFloats(backend, small));
      const filled = (value: number): Float32Array => new Float32Array(v.length).fill(value);
      const [scale, shift, square]: [Float32Array, Float32Array, boolean] =
        kind === "Multiply"
          ? [v, filled(0), false]
          : kind === "Add"
            ? [filled(1), v, false]
            : kind === "Sub" && !bigIsA
              ? [filled(-1), v, false] // v − x
              : [filled(1), v.map((value) => -value), kind === "SquaredDifference"]; // x − v; (x − v)² = (v − x)²
      return channelAffineSimd(pool, backend, big, scale, shift, square);
    }
    return outputOf(backend, () => {
      const x = asTensor(big, "x");
      const v = tf.reshape(asTensor(small, "v"), [x.shape[x.shape.length - 1]]);
      const channels = v.shape[0];
      const dims = x.shape;
      const view = depthwiseView(x, channels);
      const depthwise = (filter: tf.Tensor, bias?: tf.Tensor): tf.Tensor =>
        tf.fused.depthwiseConv2d({
          x: view as tf.Tensor4D,
          filter: tf.reshape(filter, [1, 1, channels, 1]) as tf.Tensor4D,
          strides: 1,
          pad: "valid",
          bias,
        });
      let y: tf.Tensor;
      if (kind === "Multiply") y = depthwise(v);
      else if (kind === "Add") y = depthwise(tf.onesLike(v), v);
      else if (kind === "Sub") y = bigIsA ? depthwise(tf.onesLike(v), tf.neg(v)) : depthwise(tf.fill([channels], -1), v);
      else y = tf.square(depthwise(tf.onesLike(v), tf.neg(v)));
      return tf.reshape(y, dims);
    });
  };
}

export type BroadcastOp = ChannelOp | "RealDiv";

export const SMALL_BROADCAST_MAX_SIZE = 16384;

const BINARY_OPS: Record<BroadcastOp, (u: number, v: number) => number> = {
  Multiply: (u, v) => u * v,
  Add: (u, v) => u + v,
  Sub: (u, v) => u - v,
  RealDiv: (u, v) => u / v,
  SquaredDifference: (u, v) => (u - v) * (u - v),
};

/**
 * Broadcasting binary ops on small tensors (loss and softmax gradients: [32, 1] against [32, 3]) in plain JS:
 * the stock wasm kernels take about a millisecond for any broadcast, whatever its size. Null when not applicable.
 */
export function smallBroadcast(kind: BroadcastOp, { inputs, backend }: KernelArgs): tf.TensorInfo | null {
  const a = inputs.a as tf.TensorInfo;
  const b = inputs.b as tf.TensorInfo;
  if (a.dtype !== "float32" || b.dtype !== "float32") return null;
  if (a.shape.length === b.shape.length && a.shape.every((d, i) => d === b.shape[i])) return null;
  const outShape = tf.backend_util.assertAndGetBroadcastShape(a.shape, b.shape);
  const size = outShape.reduce((p, q) => p * q, 1);
  if (size > SMALL_BROADCAST_MAX_SIZE || size === 0) return null;
  const rank = outShape.length;
  // Element strides of a and b along each output axis (0 where the operand is broadcast).
  const stridesOf = (shape: number[]): number[] => {
    const strides = new Array<number>(rank).fill(0);
    let stride = 1;
    for (let i = shape.length - 1, o = rank - 1; i >= 0; i--, o--) {
      strides[o] = shape[i] === 1 ? 0 : stride;
      stride *= shape[i];
    }
    return strides;
  };
  const [sa, sb] = [stridesOf(a.shape), stridesOf(b.shape)];
  const out = heapOutput(backend, outShape);
  const [x, y, z] = [heapFloats(backend, a), heapFloats(backend, b), heapFloats(backend, out)];
  const op = BINARY_OPS[kind];
  const index = new Array<number>(rank).fill(0);
  let ia = 0;
  let ib = 0;
  for (let i = 0; i < size; i++) {
    const u = x[ia];
    const v = y[ib];
    z[i] = op(u, v);
    for (let d = rank - 1; d >= 0; d--) {
      ia += sa[d];
      ib += sb[d];
      if (++index[d] < outShape[d]) break;
      ia -= sa[d] * outShape[d];
      ib -= sb[d] * outShape[d];
      index[d] = 0;
    }
  }
  return out;
}

/** Small broadcasts in JS, then per-channel broadcasts (for the ops that have that path), then the stock kernel. */
export function binaryFastPaths(kind: BroadcastOp): KernelFn {
  const channel = kind === "RealDiv" ? null : channelBroadcast(kind);
  return (args) => smallBroadcast(kind, args) ?? (channel ? channel(args) : stock(kind)(args));
}

/** Cast to the same dtype shares the data (as the cpu backend does) instead of copying it in JS. */
export function cast(args: KernelArgs): tf.TensorInfo | tf.TensorInfo[] {
  const x = args.inputs.x as tf.TensorInfo;
  const { dtype } = args.attrs as unknown as tf.CastAttrs;
  if (x.dtype !== dtype || dtype === "string") return stock(tf.Cast)(args);
  (args.backend as unknown as { incRef(dataId: object): void }).incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}

/**
 * Matrix products with a transposed operand (every dense layer's gradients: xᵀ·dy and dy·Wᵀ). The stock wasm kernel
 * runs those as a plain loop, 10–25× slower than XNNPACK's product of untransposed operands (measured at
 * [128, 1568] × [128, 64]: 18–26 ms against 2 ms with the transpose); so the transposed operand is transposed
 * explicitly and the product handed to the stock kernel untransposed. The same for FusedMatMul (bias, activation).
 */
export function matMulUntransposed(kernelName: "BatchMatMul" | "_FusedMatMul"): KernelFn {
  return (args) => {
    const { inputs, backend, attrs } = args;
    const { transposeA, transposeB } = attrs as unknown as { transposeA: boolean; transposeB: boolean };
    const a = inputs.a as tf.TensorInfo;
    const b = inputs.b as tf.TensorInfo;
    if ((!transposeA && !transposeB) || a.dtype !== "float32" || b.dtype !== "float32") return stock(kernelName)(args);
    const lastTwoSwapped = (info: tf.TensorInfo): tf.Tensor =>
      tf.transpose(asTensor(info, "operand"), [...info.shape.slice(0, -2).map((_, i) => i), info.shape.length - 1, info.shape.length - 2]);
    return outputOf(backend, () => {
      const ta = transposeA ? lastTwoSwapped(a) : asTensor(a, "a");
      const tb = transposeB ? lastTwoSwapped(b) : asTensor(b, "b");
      const untransposed = { ...attrs, transposeA: false, transposeB: false };
      const info = stock(kernelName)({ inputs: { ...inputs, a: ta, b: tb }, backend, attrs: untransposed }) as tf.TensorInfo;
      return tf.engine().makeTensorFromTensorInfo(info);
    });
  };
}
