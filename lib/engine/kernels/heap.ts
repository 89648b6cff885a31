import * as tf from "@tensorflow/tfjs";
import { SimdPool, type SimdKernelName } from "../simd";
import { wasmThreadsInUse } from "../wasm-threads";

/**
 * What the kernel modules share: kernel argument types, tensors on the wasm heap (offsets, views, scratch
 * vectors), the stock kernels kept for the cases our fast paths hand back, and the SIMD kernel pool.
 */

export type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: tf.KernelBackend; attrs?: tf.NamedAttrMap };
export type Pads = [[number, number], [number, number], [number, number], [number, number]];

export function asTensor(info: tf.TensorInfo | undefined, name: string): tf.Tensor {
  if (info instanceof tf.Tensor) return info;
  if (!info) throw new Error(`engine kernels: missing input ${name}`);
  return tf.engine().makeTensorFromTensorInfo(info);
}

/** Run `compute` with ordinary ops and hand its result to the engine as this kernel's output. */
export function outputOf(backend: tf.KernelBackend, compute: () => tf.Tensor): tf.TensorInfo {
  const result = tf.tidy(compute);
  // Keep the data alive past disposing our Tensor handle; the engine wraps the returned info.
  (backend as unknown as { incRef(dataId: object): void }).incRef(result.dataId);
  const info = { dataId: result.dataId, shape: result.shape, dtype: result.dtype };
  result.dispose();
  return info;
}

export function requireNhwc(kernel: string, dataFormat: unknown): void {
  if (dataFormat !== undefined && dataFormat !== "NHWC") {
    throw new Error(`${kernel} on wasm: only NHWC is supported, got dataFormat ${String(dataFormat)}`);
  }
}

export type ConvInfo = ReturnType<typeof tf.backend_util.computeConv2DInfo>;

export function padsOf(info: ConvInfo): Pads {
  const p = info.padInfo;
  return [
    [0, 0],
    [p.top, p.bottom],
    [p.left, p.right],
    [0, 0],
  ];
}

export interface WasmBackendInternals {
  wasm: { wasmMemory: { buffer: ArrayBufferLike }; _malloc(bytes: number): number; _free(pointer: number): void; HEAPF32: Float32Array };
  dataIdMap: { get(dataId: object): { memoryOffset: number } | undefined };
}

let simdEnabled = true;
export const simdPools = new WeakMap<object, SimdPool | null>();

/** The SIMD kernel pool for this backend instance, or null where our kernels cannot run (memory not shared). */
export function simdPool(backend: tf.KernelBackend): SimdPool | null {
  if (!simdEnabled) return null;
  if (simdPools.has(backend)) return simdPools.get(backend) ?? null;
  const wasm = (backend as unknown as WasmBackendInternals).wasm;
  let pool: SimdPool | null = null;
  // The single-threaded build's memory is not shared: it keeps the op-based kernels, as designed.
  if (typeof SharedArrayBuffer !== "undefined" && wasm?.wasmMemory?.buffer instanceof SharedArrayBuffer) {
    try {
      pool = new SimdPool(wasm, wasmThreadsInUse());
    } catch (error) {
      console.warn(`engine: SIMD training kernels unavailable (${error instanceof Error ? error.message : String(error)}); using the op-based kernels`);
    }
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

export function heapOffset(backend: tf.KernelBackend, info: tf.TensorInfo): number {
  const entry = (backend as unknown as WasmBackendInternals).dataIdMap.get(info.dataId);
  if (!entry) throw new Error("engine kernels: tensor data is not on the wasm heap");
  return entry.memoryOffset;
}

/** Threads worth using for `rows` rows of `rowSize` elements: small tensors stay on one thread. */
export function threadsFor(pool: SimdPool, rows: number, rowSize: number): number {
  const PER_THREAD_MIN_ELEMENTS = 32768;
  return Math.max(1, Math.min(pool.threads, rows, Math.floor((rows * rowSize) / PER_THREAD_MIN_ELEMENTS)));
}

/** Copy `values` into a fresh heap block (caller frees it). */
export function heapVector(backend: tf.KernelBackend, values: Float32Array): number {
  const wasm = (backend as unknown as WasmBackendInternals).wasm;
  const at = wasm._malloc(4 * values.length) >>> 0;
  new Float32Array(wasm.wasmMemory.buffer, at, values.length).set(values);
  return at;
}

/** A new float32 tensor of `shape` on the wasm heap (uninitialised), for a kernel to write its result into. */
export function heapOutput(backend: tf.KernelBackend, shape: readonly number[]): tf.TensorInfo {
  return (backend as unknown as WasmHeapAccess).makeOutput([...shape], "float32");
}

export function heapFloats(backend: tf.KernelBackend, info: tf.TensorInfo): Float32Array {
  return (backend as unknown as WasmHeapAccess).typedArrayFromHeap(info);
}

export function requireNoDilation(kernel: string, dilations: number | [number, number] | undefined): void {
  const [dh, dw] = typeof dilations === "number" ? [dilations, dilations] : dilations ?? [1, 1];
  if (dh !== 1 || dw !== 1) throw new Error(`${kernel} on wasm: dilations other than 1 are not supported`);
}

export interface WasmHeapAccess {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(info: tf.TensorInfo): Float32Array;
}

export type KernelFn = (args: KernelArgs) => tf.TensorInfo | tf.TensorInfo[];

/** Originals of the kernels that only get a fast path here; other cases are handed back to them. */
export const stockKernels = new Map<string, KernelFn>();

export function stock(name: string): KernelFn {
  const kernel = stockKernels.get(name);
  if (!kernel) throw new Error(`engine kernels: stock wasm ${name} was not kept`);
  return kernel;
}

/**
 * Run a kernel that accumulates into a buffer of `size` floats (its argument `argIndex`), with one zeroed buffer
 * per chunk, and return their sum taken in chunk order: the same result whichever threads ran which chunks.
 */
export function accumulateInChunks(
  pool: SimdPool,
  backend: tf.KernelBackend,
  kernel: SimdKernelName,
  rows: number,
  threads: number,
  args: number[],
  argIndex: number,
  size: number,
): Float64Array {
  const wasm = (backend as unknown as WasmBackendInternals).wasm;
  const { count } = SimdPool.chunking(rows);
  const base = wasm._malloc(4 * size * count) >>> 0;
  try {
    new Float32Array(wasm.wasmMemory.buffer, base, size * count).fill(0);
    pool.run(kernel, rows, threads, () => [...args], { argIndex, base, strideBytes: 4 * size });
    const parts = new Float32Array(wasm.wasmMemory.buffer, base, size * count);
    const total = new Float64Array(size);
    for (let c = 0; c < count; c++) for (let i = 0; i < size; i++) total[i] += parts[c * size + i];
    return total;
  } finally {
    wasm._free(base);
  }
}
