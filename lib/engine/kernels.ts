import * as tf from "@tensorflow/tfjs";
import { SimdPool } from "./simd";
import { wasmThreadsInUse } from "./wasm-threads";

/**
 * Training kernels for the wasm backend.
 *
 * tfjs-backend-wasm 4.22 has no Conv2DBackpropFilter, DepthwiseConv2dNativeBackpropFilter or
 * DepthwiseConv2dNativeBackpropInput, and its Conv2DBackpropInput is slow. Each is written here with
 * fast existing wasm ops (XNNPACK convolutions, transposes, strided slices), MaxPoolGrad in JS:
 *  - filter gradient = our own SIMD kernel (simd/kernels.c) on all threads when the backend's memory is shared
 *    (the multithreaded build), else one ordinary convolution over transposed tensors (batch ↔ channels)
 *    with dilation = the forward stride;
 *  - input gradient = convolution of the (zero-dilated) output gradient with the flipped filter.
 * The FusedBatchNorm gradient is replaced (for every backend: the registry is per kernel name) by the
 * same formulas reduced per channel first, which avoids tiling 1/σ to the full activation size.
 */

type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: tf.KernelBackend; attrs?: tf.NamedAttrMap };
type Pads = [[number, number], [number, number], [number, number], [number, number]];

function asTensor(info: tf.TensorInfo | undefined, name: string): tf.Tensor {
  if (info instanceof tf.Tensor) return info;
  if (!info) throw new Error(`engine kernels: missing input ${name}`);
  return tf.engine().makeTensorFromTensorInfo(info);
}

/** Run `compute` with ordinary ops and hand its result to the engine as this kernel's output. */
function outputOf(backend: tf.KernelBackend, compute: () => tf.Tensor): tf.TensorInfo {
  const result = tf.tidy(compute);
  // Keep the data alive past disposing our Tensor handle; the engine wraps the returned info.
  (backend as unknown as { incRef(dataId: object): void }).incRef(result.dataId);
  const info = { dataId: result.dataId, shape: result.shape, dtype: result.dtype };
  result.dispose();
  return info;
}

function requireNhwc(kernel: string, dataFormat: unknown): void {
  if (dataFormat !== undefined && dataFormat !== "NHWC") {
    throw new Error(`${kernel} on wasm: only NHWC is supported, got dataFormat ${String(dataFormat)}`);
  }
}

type ConvInfo = ReturnType<typeof tf.backend_util.computeConv2DInfo>;

function padsOf(info: ConvInfo): Pads {
  const p = info.padInfo;
  return [
    [0, 0],
    [p.top, p.bottom],
    [p.left, p.right],
    [0, 0],
  ];
}

/** Insert (stride − 1) zeros between rows/columns of `dy` (NHWC); trailing zeros kept (callers trim). */
function dilateSpatial(dy: tf.Tensor4D, sh: number, sw: number): tf.Tensor4D {
  if (sh === 1 && sw === 1) return dy;
  const [n, h, w, c] = dy.shape;
  const spread = tf.pad(tf.reshape(dy, [n, h, 1, w, 1, c]), [
    [0, 0],
    [0, 0],
    [0, sh - 1],
    [0, 0],
    [0, sw - 1],
    [0, 0],
  ]);
  return tf.reshape(spread, [n, h * sh, w * sw, c]);
}

/**
 * Input gradient of a (depthwise or ordinary) convolution: correlate the zero-dilated dy with the
 * spatially flipped filter. `correlate(d, pads)` runs the matching forward op with stride 1.
 */
function inputGradient(
  dy: tf.Tensor4D,
  info: ConvInfo,
  correlate: (dilated: tf.Tensor4D, pads: Pads) => tf.Tensor4D,
): tf.Tensor4D {
  const { strideHeight: sh, strideWidth: sw, filterHeight: fh, filterWidth: fw, inHeight, inWidth } = info;
  const { top, left } = info.padInfo;
  let dilated = dilateSpatial(dy, sh, sw);
  // Rows of the dilated dy after the last real one are zeros; trim them when the pad cannot absorb them.
  let padBottom = inHeight + top - dilated.shape[1];
  let padRight = inWidth + left - dilated.shape[2];
  if (padBottom < 0 || padRight < 0) {
    dilated = tf.slice(dilated, [0, 0, 0, 0], [-1, dilated.shape[1] + Math.min(padBottom, 0), dilated.shape[2] + Math.min(padRight, 0), -1]);
    padBottom = Math.max(padBottom, 0);
    padRight = Math.max(padRight, 0);
  }
  const pads: Pads = [
    [0, 0],
    [fh - 1 - top, padBottom],
    [fw - 1 - left, padRight],
    [0, 0],
  ];
  if (pads[1][0] < 0 || pads[2][0] < 0) {
    throw new Error(`convolution gradient on wasm: padding ${top}/${left} larger than the filter is not supported`);
  }
  return correlate(dilated, pads);
}

function conv2DBackpropInput(args: KernelArgs): tf.TensorInfo {
  const pool = simdPool(args.backend);
  return pool ? conv2DBackpropInputSimd(args, pool) : conv2DBackpropInputOps(args);
}

/** Each thread writes its own share of the input rows; the filter is transposed to [kh, kw, out, in] first. */
function conv2DBackpropInputSimd({ inputs, backend, attrs }: KernelArgs, pool: SimdPool): tf.TensorInfo {
  const { strides, pad, dataFormat, dimRoundingMode, inputShape } = attrs as unknown as tf.Conv2DBackpropInputAttrs;
  requireNhwc("Conv2DBackpropInput", dataFormat);
  const dy = inputs.dy as tf.TensorInfo;
  const filter = inputs.filter as tf.TensorInfo;
  const info = tf.backend_util.computeConv2DInfo(
    inputShape as [number, number, number, number],
    filter.shape as [number, number, number, number],
    strides,
    1,
    pad,
    dimRoundingMode,
  );
  // The filter as [kh, kw, out, in] (small); tidy disposes the wrapper asTensor may create for a TensorInfo.
  const transposed = tf.tidy(() => tf.transpose(asTensor(filter, "filter"), [0, 1, 3, 2]));
  try {
    const out = (backend as unknown as WasmHeapAccess).makeOutput([...inputShape], "float32");
    const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, outChannels, filterHeight, filterWidth } = info;
    const rows = batchSize * inHeight;
    const threads = threadsFor(pool, rows, inWidth * inChannels * 4);
    const dyAt = heapOffset(backend, dy);
    const wtAt = heapOffset(backend, transposed);
    const dxAt = heapOffset(backend, out);
    const wfAt = heapOffset(backend, filter);
    pool.run("conv2d_input_grad", rows, threads, () => [
      dyAt, wfAt, wtAt, dxAt, inHeight, inWidth, inChannels, outHeight, outWidth, outChannels,
      filterHeight, filterWidth, info.strideHeight, info.strideWidth, info.padInfo.top, info.padInfo.left,
    ]);
    return out;
  } finally {
    transposed.dispose();
  }
}

function conv2DBackpropInputOps({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo {
  const { strides, pad, dataFormat, dimRoundingMode, inputShape } = attrs as unknown as tf.Conv2DBackpropInputAttrs;
  requireNhwc("Conv2DBackpropInput", dataFormat);
  const dy = asTensor(inputs.dy, "dy") as tf.Tensor4D;
  const filter = asTensor(inputs.filter, "filter") as tf.Tensor4D;
  const info = tf.backend_util.computeConv2DInfo(
    inputShape as [number, number, number, number],
    filter.shape,
    strides,
    1,
    pad,
    dimRoundingMode,
  );
  return outputOf(backend, () => {
    const flipped = tf.transpose(tf.reverse(filter, [0, 1]), [0, 1, 3, 2]) as tf.Tensor4D;
    return inputGradient(dy, info, (d, pads) => tf.conv2d(d, flipped, 1, pads));
  });
}

interface WasmBackendInternals {
  wasm: { wasmMemory: { buffer: ArrayBufferLike }; _malloc(bytes: number): number; _free(pointer: number): void; HEAPF32: Float32Array };
  dataIdMap: { get(dataId: object): { memoryOffset: number } | undefined };
}

let simdEnabled = true;
const simdPools = new WeakMap<object, SimdPool | null>();

/** The SIMD kernel pool for this backend instance, or null where our kernels cannot run (memory not shared). */
function simdPool(backend: tf.KernelBackend): SimdPool | null {
  if (!simdEnabled) return null;
  if (simdPools.has(backend)) return simdPools.get(backend) ?? null;
  let pool: SimdPool | null = null;
  try {
    pool = new SimdPool((backend as unknown as WasmBackendInternals).wasm, wasmThreadsInUse());
  } catch {
    pool = null; // the single-threaded build's memory is not shared: keep the op-based kernels
  }
  simdPools.set(backend, pool);
  return pool;
}

/** Turn our SIMD kernels off or on again (they fall back to the op-based ones), e.g. to compare them. */
export function setSimdKernels(enabled: boolean): void {
  simdEnabled = enabled;
}

/** True when the active wasm backend runs our SIMD kernels. */
export function simdKernelsActive(): boolean {
  return tf.getBackend() === "wasm" && simdPool(tf.backend()) !== null;
}

function heapOffset(backend: tf.KernelBackend, info: tf.TensorInfo): number {
  const entry = (backend as unknown as WasmBackendInternals).dataIdMap.get(info.dataId);
  if (!entry) throw new Error("engine kernels: tensor data is not on the wasm heap");
  return entry.memoryOffset;
}

/** Threads worth using for `rows` rows of `rowSize` elements: small tensors stay on one thread. */
function threadsFor(pool: SimdPool, rows: number, rowSize: number): number {
  const PER_THREAD_MIN_ELEMENTS = 32768;
  return Math.max(1, Math.min(pool.threads, rows, Math.floor((rows * rowSize) / PER_THREAD_MIN_ELEMENTS)));
}

/** Copy `values` into a fresh heap block (caller frees it). */
function heapVector(backend: tf.KernelBackend, values: Float32Array): number {
  const wasm = (backend as unknown as WasmBackendInternals).wasm;
  const at = wasm._malloc(4 * values.length) >>> 0;
  new Float32Array(wasm.wasmMemory.buffer, at, values.length).set(values);
  return at;
}

function heapFloats(backend: tf.KernelBackend, info: tf.TensorInfo): Float32Array {
  return (backend as unknown as WasmHeapAccess).typedArrayFromHeap(info);
}

function conv2DBackpropFilter(args: KernelArgs): tf.TensorInfo {
  const pool = simdPool(args.backend);
  return pool ? conv2DBackpropFilterSimd(args, pool) : conv2DBackpropFilterOps(args);
}

/** Each thread sums over its own share of the output rows into its own buffer; the buffers are added at the end. */
function conv2DBackpropFilterSimd({ inputs, backend, attrs }: KernelArgs, pool: SimdPool): tf.TensorInfo {
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs as unknown as tf.Conv2DBackpropFilterAttrs;
  requireNhwc("Conv2DBackpropFilter", dataFormat);
  const x = inputs.x as tf.TensorInfo;
  const dy = inputs.dy as tf.TensorInfo;
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filterShape as [number, number, number, number],
    strides,
    1,
    pad,
    dimRoundingMode,
  );
  const wasm = (backend as unknown as WasmBackendInternals).wasm;
  const heap = backend as unknown as WasmHeapAccess;
  const size = info.filterHeight * info.filterWidth * info.inChannels * info.outChannels;
  const out = heap.makeOutput(filterShape, "float32");
  const rows = info.batchSize * info.outHeight;
  const threads = threadsFor(pool, rows, info.outWidth * info.outChannels * 4);
  const scratch = threads > 1 ? wasm._malloc(4 * size * (threads - 1)) >>> 0 : 0;
  try {
    const target = (t: number): number => (t === 0 ? heapOffset(backend, out) : scratch + 4 * size * (t - 1));
    new Float32Array(wasm.wasmMemory.buffer, heapOffset(backend, out), size).fill(0);
    if (threads > 1) new Float32Array(wasm.wasmMemory.buffer, scratch, size * (threads - 1)).fill(0);
    const xAt = heapOffset(backend, x);
    const dyAt = heapOffset(backend, dy);
    const { inHeight, inWidth, inChannels, outHeight, outWidth, outChannels, filterHeight, filterWidth } = info;
    pool.run("conv2d_filter_grad", rows, threads, (t) => [
      xAt, dyAt, target(t), inHeight, inWidth, inChannels, outHeight, outWidth, outChannels,
      filterHeight, filterWidth, info.strideHeight, info.strideWidth, info.padInfo.top, info.padInfo.left,
    ]);
    if (threads > 1) {
      const memory = wasm.wasmMemory.buffer;
      const total = new Float32Array(memory, heapOffset(backend, out), size);
      for (let t = 1; t < threads; t++) {
        const part = new Float32Array(memory, target(t), size);
        for (let i = 0; i < size; i++) total[i] += part[i];
      }
    }
  } finally {
    if (scratch) wasm._free(scratch);
  }
  return out;
}

function conv2DBackpropFilterOps({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo {
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs as unknown as tf.Conv2DBackpropFilterAttrs;
  requireNhwc("Conv2DBackpropFilter", dataFormat);
  const x = asTensor(inputs.x, "x") as tf.Tensor4D;
  const dy = asTensor(inputs.dy, "dy") as tf.Tensor4D;
  const info = tf.backend_util.computeConv2DInfo(x.shape, filterShape as [number, number, number, number], strides, 1, pad, dimRoundingMode);
  return outputOf(backend, () => {
    // dW[kh,kw,ci,co] = Σ_n,o x[n, o·s + k − pad, ci] · dy[n, o, co]: a convolution with batch = ci,
    // channels = n, the filter = dy laid out [ho, wo, n, co], and dilation = stride.
    const xT = tf.transpose(x, [3, 1, 2, 0]) as tf.Tensor4D;
    const dyT = tf.transpose(dy, [1, 2, 0, 3]) as tf.Tensor4D;
    const full = tf.conv2d(xT, dyT, 1, padsOf(info), "NHWC", [info.strideHeight, info.strideWidth]);
    const cropped =
      full.shape[1] === info.filterHeight && full.shape[2] === info.filterWidth
        ? full
        : tf.slice(full, [0, 0, 0, 0], [-1, info.filterHeight, info.filterWidth, -1]);
    return tf.transpose(cropped, [1, 2, 0, 3]);
  });
}

function requireNoDilation(kernel: string, dilations: number | [number, number] | undefined): void {
  const [dh, dw] = typeof dilations === "number" ? [dilations, dilations] : dilations ?? [1, 1];
  if (dh !== 1 || dw !== 1) throw new Error(`${kernel} on wasm: dilations other than 1 are not supported`);
}

function depthwiseBackpropInput({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo {
  const { strides, dilations, pad, dimRoundingMode, inputShape } =
    attrs as unknown as tf.DepthwiseConv2dNativeBackpropInputAttrs;
  requireNoDilation("DepthwiseConv2dNativeBackpropInput", dilations);
  const dy = asTensor(inputs.dy, "dy") as tf.Tensor4D;
  const filter = asTensor(inputs.filter, "filter") as tf.Tensor4D;
  const [fh, fw, channels, multiplier] = filter.shape;
  const info = tf.backend_util.computeConv2DInfo(
    inputShape as [number, number, number, number],
    filter.shape,
    strides,
    1,
    pad,
    dimRoundingMode,
    true,
  );
  return outputOf(backend, () => {
    // Output channel c·M + m came from input channel c: one depthwise pass per output channel, then sum over m.
    const flipped = tf.reshape(tf.reverse(filter, [0, 1]), [fh, fw, channels * multiplier, 1]) as tf.Tensor4D;
    const perOutput = inputGradient(dy, info, (d, pads) => tf.depthwiseConv2d(d, flipped, 1, pads));
    if (multiplier === 1) return perOutput;
    const [n, h, w] = perOutput.shape;
    return tf.sum(tf.reshape(perOutput, [n, h, w, channels, multiplier]), 4);
  });
}

function depthwiseBackpropFilter({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo {
  const { strides, dilations, pad, dimRoundingMode, filterShape } =
    attrs as unknown as tf.DepthwiseConv2dNativeBackpropFilterAttrs;
  requireNoDilation("DepthwiseConv2dNativeBackpropFilter", dilations);
  const x = asTensor(inputs.x, "x") as tf.Tensor4D;
  const dy = asTensor(inputs.dy, "dy") as tf.Tensor4D;
  const [fh, fw, channels, multiplier] = filterShape as [number, number, number, number];
  const info = tf.backend_util.computeConv2DInfo(x.shape, [fh, fw, channels, multiplier], strides, 1, pad, dimRoundingMode, true);
  const { strideHeight: sh, strideWidth: sw, outHeight, outWidth, batchSize } = info;
  return outputOf(backend, () => {
    // dW[kh,kw,c,m] = Σ_n,o x[n, o·s + k − pad, c] · dy[n, o, c·M + m]: per filter tap, a strided window of
    // the padded input times dy, summed over batch and positions. Few taps, each a handful of fast ops.
    const padded = tf.pad(x, padsOf(info));
    const dy5 = multiplier === 1 ? dy : tf.reshape(dy, [batchSize, outHeight, outWidth, channels, multiplier]);
    const taps: tf.Tensor[] = [];
    for (let kh = 0; kh < fh; kh++) {
      for (let kw = 0; kw < fw; kw++) {
        const window = tf.stridedSlice(
          padded,
          [0, kh, kw, 0],
          [batchSize, kh + (outHeight - 1) * sh + 1, kw + (outWidth - 1) * sw + 1, channels],
          [1, sh, sw, 1],
        );
        const product =
          multiplier === 1
            ? tf.mul(window, dy5)
            : tf.mul(tf.reshape(window, [batchSize, outHeight, outWidth, channels, 1]), dy5);
        taps.push(tf.sum(product, [0, 1, 2]));
      }
    }
    return tf.reshape(tf.stack(taps), [fh, fw, channels, multiplier]);
  });
}

interface WasmHeapAccess {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(info: tf.TensorInfo): Float32Array;
}

/**
 * MaxPoolGrad in plain JS over the wasm heap (the stock wasm kernel is several times slower).
 * Each window's gradient goes to its first maximum in row-major order, as in tfjs's cpu kernel.
 */
function maxPoolGrad({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo {
  const { filterSize, strides, pad, dimRoundingMode } = attrs as unknown as tf.MaxPoolGradAttrs;
  const input = inputs.input as tf.TensorInfo;
  const dy = inputs.dy as tf.TensorInfo;
  const info = tf.backend_util.computePool2DInfo(
    input.shape as [number, number, number, number],
    filterSize,
    strides,
    1,
    pad,
    dimRoundingMode,
  );
  const heap = backend as unknown as WasmHeapAccess;
  const out = heap.makeOutput(input.shape, "float32");
  // Views are taken after the allocation above, which may have grown (and replaced) the heap buffer.
  const dx = heap.typedArrayFromHeap(out);
  const x = heap.typedArrayFromHeap(input);
  const g = heap.typedArrayFromHeap(dy);
  const { batchSize, inHeight, inWidth, inChannels: channels, outHeight, outWidth, strideHeight, strideWidth } = info;
  const { filterHeight, filterWidth } = info;
  const { top, left } = info.padInfo;
  const windowsInside = top === 0 && left === 0 && 2 * outHeight <= inHeight && 2 * outWidth <= inWidth;
  const pool = simdPool(backend);
  if (filterHeight === 2 && filterWidth === 2 && strideHeight === 2 && strideWidth === 2 && windowsInside && pool) {
    if (outHeight * 2 !== inHeight || outWidth * 2 !== inWidth) dx.fill(0); // odd sizes: last row/column gets no gradient
    const rows = batchSize * outHeight;
    const threads = threadsFor(pool, rows, outWidth * channels * 4);
    const [xAt, dyAt, dxAt] = [heapOffset(backend, input), heapOffset(backend, dy), heapOffset(backend, out)];
    pool.run("maxpool2x2_grad", rows, threads, () => [xAt, dyAt, dxAt, inHeight, inWidth, channels, outHeight, outWidth]);
    return out;
  }
  if (filterHeight === 2 && filterWidth === 2 && strideHeight === 2 && strideWidth === 2 && windowsInside) {
    maxPool2x2Grad(x, g, dx, batchSize, inHeight, inWidth, channels, outHeight, outWidth);
    return out;
  }
  dx.fill(0);
  const best = new Float32Array(channels);
  const bestAt = new Int32Array(channels);
  let gi = 0;
  for (let b = 0; b < batchSize; b++) {
    for (let oy = 0; oy < outHeight; oy++) {
      const y0 = Math.max(0, oy * strideHeight - top);
      const y1 = Math.min(inHeight, oy * strideHeight - top + filterHeight);
      for (let ox = 0; ox < outWidth; ox++) {
        const x0 = Math.max(0, ox * strideWidth - left);
        const x1 = Math.min(inWidth, ox * strideWidth - left + filterWidth);
        best.fill(Number.NEGATIVE_INFINITY);
        bestAt.fill(-1);
        for (let yy = y0; yy < y1; yy++) {
          for (let xx = x0; xx < x1; xx++) {
            const base = ((b * inHeight + yy) * inWidth + xx) * channels;
            for (let c = 0; c < channels; c++) {
              const v = x[base + c];
              if (v > best[c]) {
                best[c] = v;
                bestAt[c] = base + c;
              }
            }
          }
        }
        for (let c = 0; c < channels; c++, gi++) {
          if (bestAt[c] >= 0) dx[bestAt[c]] += g[gi];
        }
      }
    }
  }
  return out;
}

/** The common 2×2 / stride 2 / valid case: windows do not overlap, so every input cell is written once. */
function maxPool2x2Grad(
  x: Float32Array,
  g: Float32Array,
  dx: Float32Array,
  batchSize: number,
  inHeight: number,
  inWidth: number,
  channels: number,
  outHeight: number,
  outWidth: number,
): void {
  if (outHeight * 2 !== inHeight || outWidth * 2 !== inWidth) dx.fill(0); // odd sizes: last row/column gets no gradient
  const rowStride = inWidth * channels;
  let gi = 0;
  for (let b = 0; b < batchSize; b++) {
    for (let oy = 0; oy < outHeight; oy++) {
      const rowBase = (b * inHeight + 2 * oy) * rowStride;
      for (let ox = 0; ox < outWidth; ox++) {
        const p00 = rowBase + 2 * ox * channels;
        const p01 = p00 + channels;
        const p10 = p00 + rowStride;
        const p11 = p10 + channels;
        for (let c = 0; c < channels; c++, gi++) {
          const v00 = x[p00 + c];
          const v01 = x[p01 + c];
          const v10 = x[p10 + c];
          const v11 = x[p11 + c];
          // First maximum in row-major window order wins, as in tfjs's cpu kernel.
          let best = v00;
          let at = 0;
          if (v01 > best) {
            best = v01;
            at = 1;
          }
          if (v10 > best) {
            best = v10;
            at = 2;
          }
          if (v11 > best) at = 3;
          const grad = g[gi];
          dx[p00 + c] = at === 0 ? grad : 0;
          dx[p01 + c] = at === 1 ? grad : 0;
          dx[p10 + c] = at === 2 ? grad : 0;
          dx[p11 + c] = at === 3 ? grad : 0;
        }
      }
    }
  }
}

type KernelFn = (args: KernelArgs) => tf.TensorInfo | tf.TensorInfo[];

/** Originals of the kernels that only get a fast path here; other cases are handed back to them. */
const stockKernels = new Map<string, KernelFn>();

function stock(name: string): KernelFn {
  const kernel = stockKernels.get(name);
  if (!kernel) throw new Error(`engine kernels: stock wasm ${name} was not kept`);
  return kernel;
}

/**
 * GatherV2 along axis 0 (what batching does: x[indices]) as row copies on the wasm heap; the stock kernel
 * indexes element by element. Other cases go to the stock kernel.
 */
function gatherV2(args: KernelArgs): tf.TensorInfo | tf.TensorInfo[] {
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
  const out = heap.makeOutput([...indices.shape, ...x.shape.slice(1)], "float32");
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
function identity(args: KernelArgs): tf.TensorInfo | tf.TensorInfo[] {
  const x = args.inputs.x as tf.TensorInfo;
  if (x.dtype === "string") return stock(tf.Identity)(args);
  (args.backend as unknown as { incRef(dataId: object): void }).incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}

/** The number of leading axes reduced, when `axis` is exactly 0..k−1 of a rank-r tensor with k < r; else 0. */
function leadingAxes(axis: number | number[], rank: number): number {
  const axes = tf.util.parseAxisParam(axis, new Array(rank).fill(1)).sort((a, b) => a - b);
  if (axes.length === 0 || axes.length >= rank) return 0;
  return axes.every((a, i) => a === i) ? axes.length : 0;
}

/** Column sums of x viewed as [rows, channels], times `factor`: one partial sum per thread, added up here. */
function channelReductionSimd(
  pool: SimdPool,
  backend: tf.KernelBackend,
  x: tf.TensorInfo,
  rows: number,
  channels: number,
  outShape: number[],
  factor: number,
): tf.TensorInfo {
  const wasm = (backend as unknown as WasmBackendInternals).wasm;
  const threads = threadsFor(pool, rows, channels);
  const scratch = wasm._malloc(4 * channels * threads) >>> 0;
  try {
    const xAt = heapOffset(backend, x);
    new Float32Array(wasm.wasmMemory.buffer, scratch, channels * threads).fill(0);
    pool.run("channel_sums", rows, threads, (t) => [xAt, scratch + 4 * channels * t, channels]);
    const out = (backend as unknown as WasmHeapAccess).makeOutput(outShape, "float32");
    const total = heapFloats(backend, out);
    const parts = new Float32Array(wasm.wasmMemory.buffer, scratch, channels * threads);
    for (let c = 0; c < channels; c++) {
      let sum = 0;
      for (let t = 0; t < threads; t++) sum += parts[t * channels + c];
      total[c] = sum * factor;
    }
    return out;
  } finally {
    wasm._free(scratch);
  }
}

/** y = x·scale + shift per channel (then squared when `square`), x viewed as [rows, channels]. */
function channelAffineSimd(
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
  const out = (backend as unknown as WasmHeapAccess).makeOutput([...x.shape], "float32");
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

const REDUCTION_FAST_PATH_MIN_SIZE = 16384;

/**
 * Sum/Mean over the leading axes — per-channel statistics of NHWC activations (BatchNorm moments, bias and
 * BatchNorm gradients) — as an XNNPACK average pooling (multithreaded) over a [A, B, 1, C] view, then a small
 * mean over A. The stock kernel transposes the reduced axes to the end and reduces on one thread.
 */
function leadingReduction(kind: "Sum" | "Mean"): KernelFn {
  return (args) => {
    const { inputs, backend, attrs } = args;
    const x = inputs.x as tf.TensorInfo;
    const { axis, keepDims } = attrs as unknown as tf.SumAttrs;
    const k = x.dtype === "float32" ? leadingAxes(axis, x.shape.length) : 0;
    const size = x.shape.reduce((a, b) => a * b, 1);
    const b = k > 0 ? x.shape[k - 1] : 0;
    if (k === 0 && x.dtype === "float32" && size >= REDUCTION_FAST_PATH_MIN_SIZE) {
      const middle = middleReduction(kind, args);
      if (middle) return middle;
    }
    if (k === 0 || b < 2 || size < REDUCTION_FAST_PATH_MIN_SIZE) return stock(kind)(args);
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
  };
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
  const out = (backend as unknown as WasmHeapAccess).makeOutput(outShape, "float32");
  const factorBits = new Int32Array(new Float32Array([kind === "Mean" ? 1 / b : 1]).buffer)[0];
  const [xAt, outAt] = [heapOffset(backend, x), heapOffset(backend, out)];
  pool.run("middle_sums", a, threadsFor(pool, a, b * c), () => [xAt, outAt, b, c, factorBits]);
  return out;
}

/**
 * Per-channel broadcasts — `x ∘ v` with x [..., C] and v of C values ([C] or [1, …, 1, C]) — are everywhere in
 * training (bias adds, BatchNorm and its gradient) and run several times slower than same-shape ops on stock
 * wasm. Here they run as one multithreaded XNNPACK 1×1 depthwise convolution: x·v = filter v; x + v = filter 1,
 * bias v; x − v = filter 1, bias −v; v − x = filter −1, bias v. Everything else goes to the stock kernel.
 */
type ChannelOp = "Multiply" | "Add" | "Sub" | "SquaredDifference";

function channelVectorLength(info: tf.TensorInfo): number {
  const shape = info.shape;
  if (shape.length === 0) return 0;
  for (let i = 0; i < shape.length - 1; i++) if (shape[i] !== 1) return 0;
  return shape[shape.length - 1];
}

const CHANNEL_FAST_PATH_MIN_SIZE = 16384;

function channelBroadcast(kind: ChannelOp): KernelFn {
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
      const v = heapFloats(backend, small);
      const ones = new Float32Array(v.length).fill(1);
      const zeros = new Float32Array(v.length);
      if (kind === "Multiply") return channelAffineSimd(pool, backend, big, Float32Array.from(v), zeros, false);
      if (kind === "Add") return channelAffineSimd(pool, backend, big, ones, Float32Array.from(v), false);
      const negated = Float32Array.from(v, (value) => -value);
      if (kind === "Sub") {
        return bigIsA
          ? channelAffineSimd(pool, backend, big, ones, negated, false)
          : channelAffineSimd(pool, backend, big, new Float32Array(v.length).fill(-1), Float32Array.from(v), false);
      }
      return channelAffineSimd(pool, backend, big, ones, negated, true); // (x − v)² = (v − x)²
    }
    return outputOf(backend, () => {
      const x = asTensor(big, "x");
      const v = tf.reshape(asTensor(small, "v"), [x.shape[x.shape.length - 1]]);
      const channels = v.shape[0];
      const dims = x.shape;
      // A 4-D view whose leading dims give XNNPACK rows to share among threads.
      const view =
        dims.length === 4
          ? (x as tf.Tensor4D)
          : dims.length === 2
            ? tf.reshape(x, [dims[0], 1, 1, channels])
            : tf.reshape(x, [dims.slice(0, -2).reduce((p, q) => p * q, 1), dims[dims.length - 2], 1, channels]);
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

const FORWARD_ACTIVATIONS: Record<string, number> = { linear: 0, relu: 1, relu6: 2 };

/**
 * Conv2D / FusedConv2D forward with our SIMD kernel where it beats XNNPACK: spatial filters over few channels
 * (the convolutions of small CNNs trained here, and a backbone's RGB stem), output channels in runs of 16.
 * 1×1 convolutions (GEMMs) and wide layers stay with XNNPACK, as do other activations and layouts.
 */
function convForward(kind: "Conv2D" | "FusedConv2D"): KernelFn {
  return (args) => {
    const { inputs, backend, attrs } = args;
    const a = attrs as unknown as tf.FusedConv2DAttrs;
    const x = inputs.x as tf.TensorInfo;
    const filter = inputs.filter as tf.TensorInfo;
    const bias = (inputs.bias as tf.TensorInfo | undefined) ?? null;
    const activation = FORWARD_ACTIVATIONS[a.activation ?? "linear"];
    const [fh, fw, ci, co] = filter.shape;
    const dilations = typeof a.dilations === "number" ? [a.dilations, a.dilations] : a.dilations ?? [1, 1];
    const pool = simdPool(backend);
    const usable =
      pool !== null &&
      x.dtype === "float32" &&
      x.shape.length === 4 &&
      (a.dataFormat ?? "NHWC") === "NHWC" &&
      dilations[0] === 1 &&
      dilations[1] === 1 &&
      activation !== undefined &&
      inputs.preluActivationWeights == null &&
      (bias === null || (bias.shape.length === 1 && bias.shape[0] === co)) &&
      co % 16 === 0 &&
      fh * fw > 1 &&
      ci >= 8 && // an RGB stem is as fast on XNNPACK
      ci * fh * fw <= 576;
    if (!usable) return stock(kind)(args);
    const info = tf.backend_util.computeConv2DInfo(
      x.shape as [number, number, number, number],
      filter.shape as [number, number, number, number],
      a.strides,
      1,
      a.pad,
      a.dimRoundingMode,
    );
    const out = (backend as unknown as WasmHeapAccess).makeOutput(info.outShape, "float32");
    const rows = info.batchSize * info.outHeight;
    const threads = threadsFor(pool, rows, info.outWidth * co * 8);
    const [xAt, wAt, yAt] = [heapOffset(backend, x), heapOffset(backend, filter), heapOffset(backend, out)];
    const biasAt = bias ? heapOffset(backend, bias) : 0;
    pool.run("conv2d_forward", rows, threads, () => [
      xAt, wAt, biasAt, yAt, info.inHeight, info.inWidth, ci, info.outHeight, info.outWidth, co,
      fh, fw, info.strideHeight, info.strideWidth, info.padInfo.top, info.padInfo.left, activation,
    ]);
    return out;
  };
}

type BroadcastOp = ChannelOp | "RealDiv";

const SMALL_BROADCAST_MAX_SIZE = 16384;

/**
 * Broadcasting binary ops on small tensors (loss and softmax gradients: [32, 1] against [32, 3]) in plain JS:
 * the stock wasm kernels take about a millisecond for any broadcast, whatever its size. Null when not applicable.
 */
function smallBroadcast(kind: BroadcastOp, { inputs, backend }: KernelArgs): tf.TensorInfo | null {
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
  const out = (backend as unknown as WasmHeapAccess).makeOutput(outShape, "float32");
  const [x, y, z] = [heapFloats(backend, a), heapFloats(backend, b), heapFloats(backend, out)];
  const index = new Array<number>(rank).fill(0);
  let ia = 0;
  let ib = 0;
  for (let i = 0; i < size; i++) {
    const u = x[ia];
    const v = y[ib];
    z[i] = kind === "Multiply" ? u * v : kind === "Add" ? u + v : kind === "Sub" ? u - v : kind === "RealDiv" ? u / v : (u - v) * (u - v);
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
function binaryFastPaths(kind: BroadcastOp): KernelFn {
  const channel = kind === "RealDiv" ? null : channelBroadcast(kind);
  return (args) => smallBroadcast(kind, args) ?? (channel ? channel(args) : stock(kind)(args));
}

/**
 * FusedBatchNorm forward with per-channel statistics as one multithreaded XNNPACK 1×1 depthwise convolution:
 * y = x·s + o with s = γ/√(σ²+ε) and o = β − μ·s computed on the C-element vectors first.
 */
function fusedBatchNorm(args: KernelArgs): tf.TensorInfo | tf.TensorInfo[] {
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
    const view =
      dims.length === 4
        ? (xt as tf.Tensor4D)
        : dims.length === 2
          ? tf.reshape(xt, [dims[0], 1, 1, channels])
          : tf.reshape(xt, [dims.slice(0, -2).reduce((p, q) => p * q, 1), dims[dims.length - 2], 1, channels]);
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
function batchNormGradSums(dy: tf.Tensor, x: tf.Tensor, mean: tf.Tensor, axes: number[]): [tf.Tensor, tf.Tensor] | null {
  const channels = x.shape[x.shape.length - 1];
  if (tf.getBackend() !== "wasm" || x.dtype !== "float32" || dy.dtype !== "float32" || mean.size !== channels) return null;
  if (axes.length !== x.rank - 1 || !axes.every((a, i) => a === i)) return null;
  const backend = tf.backend();
  const pool = simdPool(backend);
  if (!pool) return null;
  const wasm = (backend as unknown as WasmBackendInternals).wasm;
  const rows = x.size / channels;
  const threads = threadsFor(pool, rows, channels * 2);
  const scratch = wasm._malloc(4 * 2 * channels * threads) >>> 0;
  try {
    new Float32Array(wasm.wasmMemory.buffer, scratch, 2 * channels * threads).fill(0);
    const [dyAt, xAt, meanAt] = [heapOffset(backend, dy), heapOffset(backend, x), heapOffset(backend, mean)];
    pool.run("batchnorm_grad_sums", rows, threads, (t) => [dyAt, xAt, meanAt, scratch + 8 * channels * t, channels]);
    const parts = new Float32Array(wasm.wasmMemory.buffer, scratch, 2 * channels * threads);
    const sums = new Float32Array(2 * channels);
    for (let t = 0; t < threads; t++) for (let i = 0; i < 2 * channels; i++) sums[i] += parts[t * 2 * channels + i];
    return [tf.tensor(sums.subarray(0, channels), mean.shape), tf.tensor(sums.subarray(channels), mean.shape)];
  } finally {
    wasm._free(scratch);
  }
}

/** FusedBatchNorm gradient: same math as tfjs-core's, with per-channel factors applied by broadcasting. */
const fusedBatchNormGrad: tf.GradConfig = {
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
 * dy (the reduced tensor, keepDims or not) broadcast back to `shape` over the reduced `axes`, divided by
 * `divisor`: the gradient of Sum (divisor 1) and Mean (the reduced size). tfjs-core builds it as dy · ones(shape) (/ size),
 * filling a ones array of the full size in JS on every step; on wasm with our kernels, when the reduced axes
 * are contiguous, it is one pass instead. Other cases and other backends keep tfjs-core's formula.
 */
function reductionGradient(dy: tf.Tensor, shape: number[], axes: number[], divisor: number): tf.Tensor {
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
  const out = (backend as unknown as WasmHeapAccess).makeOutput(shape, "float32");
  const rows = a * b;
  const threads = threadsFor(pool, rows, c);
  const factorBits = new Int32Array(new Float32Array([1 / divisor]).buffer)[0];
  const [srcAt, dstAt] = [heapOffset(backend, dy), heapOffset(backend, out)];
  pool.run("broadcast_middle", rows, threads, () => [srcAt, dstAt, b, c, factorBits]);
  return tf.engine().makeTensorFromTensorInfo(out);
}

const RELU_GRAD_BLOCK = 4096;

/** ReLU gradient, dy · (x > 0), in one SIMD pass on wasm; tfjs-core's formula elsewhere. */
const reluGradient: tf.GradConfig = {
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
        const out = (backend as unknown as WasmHeapAccess).makeOutput([...x.shape], "float32");
        const count = x.size;
        const rows = Math.ceil(count / RELU_GRAD_BLOCK);
        const [xAt, dyAt, dxAt] = [heapOffset(backend, x), heapOffset(backend, g), heapOffset(backend, out)];
        pool.run("relu_grad", rows, threadsFor(pool, rows, RELU_GRAD_BLOCK), () => [xAt, dyAt, dxAt, count, RELU_GRAD_BLOCK]);
        return tf.engine().makeTensorFromTensorInfo(out);
      },
    };
  },
};

const sumGradient: tf.GradConfig = {
  kernelName: tf.Sum,
  inputsToSave: ["x"],
  gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[], attrs: tf.NamedAttrMap) => {
    const [x] = saved;
    const axes = tf.util.parseAxisParam((attrs as unknown as tf.SumAttrs).axis, x.shape);
    return { x: () => reductionGradient(dy as tf.Tensor, x.shape, axes, 1) };
  },
};

const meanGradient: tf.GradConfig = {
  kernelName: tf.Mean,
  inputsToSave: ["x"],
  gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[], attrs: tf.NamedAttrMap) => {
    const [x] = saved;
    const axes = tf.util.parseAxisParam((attrs as unknown as tf.MeanAttrs).axis, x.shape);
    const reduced = axes.reduce((p, axis) => p * x.shape[axis], 1);
    return { x: () => reductionGradient(dy as tf.Tensor, x.shape, axes, reduced) };
  },
};

/** Cast to the same dtype shares the data (as the cpu backend does) instead of copying it in JS. */
function cast(args: KernelArgs): tf.TensorInfo | tf.TensorInfo[] {
  const x = args.inputs.x as tf.TensorInfo;
  const { dtype } = args.attrs as unknown as tf.CastAttrs;
  if (x.dtype !== dtype || dtype === "string") return stock(tf.Cast)(args);
  (args.backend as unknown as { incRef(dataId: object): void }).incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}

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
  [tf.Sum, leadingReduction("Sum")],
  [tf.Mean, leadingReduction("Mean")],
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
 * leading-axes Sum/Mean) off or on again,
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
