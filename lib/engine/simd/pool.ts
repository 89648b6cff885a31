import { Worker } from "worker_threads";
import { instantiateSimdKernels, SIMD_KERNEL_NAMES, simdModule, type SimdKernelName, type SimdKernels } from "./wasm-module";

/**
 * Threads for our SIMD kernels: `threads − 1` worker_threads, each with its own instance of kernels.wasm over
 * the same shared memory, plus the calling thread.
 *
 * Every kernel ends with a row range [begin, end). A call splits its rows into small chunks that the threads
 * take in turn from a shared counter (Atomics.add), so a worker that wakes late — its core still busy, e.g.
 * with a tfjs XNNPACK thread spinning after an op — just takes fewer chunks. When the calling thread runs out
 * of chunks it cancels any worker that has not started yet instead of waiting for it to wake up.
 *
 * Chunks are the same whatever the thread count (CHUNKS per call). A kernel that accumulates gets one partial
 * buffer per chunk (`partials`), which the caller adds up in chunk order: results do not depend on which thread
 * ran which chunk, nor on how many threads there are.
 *
 * Control block (Int32 words in the shared heap): [0] next row, [1] row count, [2] chunk size, [3] index of the
 * argument that points at the partial buffer (−1: none), [4] first partial buffer, [5] bytes per partial buffer,
 * then one slot per worker: [posted job, done job, claim, kernel id, argc, failed, args…]. A posted job j is up for grabs
 * while claim = j; the worker takes it by claim j → −j, the caller cancels it by claim j → 0.
 * Workers never keep the process alive.
 */

const HEADER_INTS = 8;
const SLOT_INTS = 32;
const [POSTED, DONE, CLAIM, KERNEL, ARGC, FAILED, ARGS] = [0, 1, 2, 3, 4, 5, 6];
const MAX_ARGS = SLOT_INTS - ARGS - 2; // the row range is appended per chunk
const CHUNKS = 32;

/** Per-chunk accumulator buffers: argument `argIndex` of chunk j points at `base + j·strideBytes`. */
export interface ChunkPartials {
  argIndex: number;
  base: number;
  strideBytes: number;
}

const WORKER_SOURCE = `
const { workerData } = require("worker_threads");
const { module, memory, control, slot, kernels } = workerData;
const instance = new WebAssembly.Instance(module, { env: { memory } });
const functions = kernels.map((name) => instance.exports[name]);
const ctrl = new Int32Array(memory.buffer, control, ${HEADER_INTS} + ${SLOT_INTS} * (slot + 1));
const base = ${HEADER_INTS} + slot * ${SLOT_INTS};
let seen = 0;
for (;;) {
  Atomics.wait(ctrl, base + ${POSTED}, seen);
  const job = Atomics.load(ctrl, base + ${POSTED});
  seen = job;
  if (Atomics.compareExchange(ctrl, base + ${CLAIM}, job, -job) !== job) continue; // cancelled or superseded
  let failed = 0;
  try {
    const fn = functions[ctrl[base + ${KERNEL}]];
    const args = Array.from(ctrl.subarray(base + ${ARGS}, base + ${ARGS} + ctrl[base + ${ARGC}]));
    const rows = ctrl[1];
    const chunk = ctrl[2];
    const partialArg = ctrl[3];
    for (;;) {
      const begin = Atomics.add(ctrl, 0, chunk);
      if (begin >= rows) break;
      if (partialArg >= 0) args[partialArg] = ctrl[4] + (begin / chunk) * ctrl[5];
      fn(...args, begin, Math.min(begin + chunk, rows));
    }
  } catch (error) {
    failed = 1;
  }
  ctrl[base + ${FAILED}] = failed;
  Atomics.store(ctrl, base + ${DONE}, job);
  Atomics.notify(ctrl, base + ${DONE});
}
`;

interface Heap {
  wasmMemory: { buffer: ArrayBufferLike };
  _malloc(bytes: number): number;
}

export class SimdPool {
  readonly kernels: SimdKernels;
  readonly threads: number;
  private readonly workers: Worker[] = [];
  private readonly memory: Heap["wasmMemory"];
  private readonly control: number;
  private job = 0;

  constructor(heap: Heap, threads: number) {
    this.memory = heap.wasmMemory;
    this.kernels = instantiateSimdKernels(this.memory);
    this.threads = Math.max(1, Math.floor(threads));
    const helpers = this.threads - 1;
    const words = HEADER_INTS + SLOT_INTS * helpers;
    this.control = heap._malloc(4 * words) >>> 0;
    new Int32Array(this.memory.buffer, this.control, words).fill(0);
    for (let slot = 0; slot < helpers; slot++) {
      const worker = new Worker(WORKER_SOURCE, {
        eval: true,
        execArgv: [],
        workerData: { module: simdModule(), memory: this.memory, control: this.control, slot, kernels: [...SIMD_KERNEL_NAMES] },
      });
      worker.unref();
      this.workers.push(worker);
    }
  }

  /** How `rows` rows are cut into chunks: the chunk size and the number of chunks (for sizing `partials`). */
  static chunking(rows: number): { chunk: number; count: number } {
    const chunk = Math.max(1, Math.ceil(rows / CHUNKS));
    return { chunk, count: Math.ceil(rows / chunk) };
  }

  /**
   * Run `kernel(...args, begin, end)` over the rows [0, rows) on up to `threads` threads. `argsFor(t)` gives
   * thread t's arguments before the row range (t = 0 is the calling thread). With `partials`, the argument at
   * `partials.argIndex` is replaced per chunk by that chunk's own buffer. Returns when every row is done.
   */
  run(kernel: SimdKernelName, rows: number, threads: number, argsFor: (thread: number) => number[], partials?: ChunkPartials): void {
    const fn = this.kernels[kernel];
    const { chunk } = SimdPool.chunking(rows);
    const runChunks = (args: number[], next: () => number): void => {
      for (;;) {
        const begin = next();
        if (begin >= rows) break;
        if (partials) args[partials.argIndex] = partials.base + (begin / chunk) * partials.strideBytes;
        fn(...args, begin, Math.min(begin + chunk, rows));
      }
    };
    const helpers = Math.max(0, Math.min(threads, this.threads, rows) - 1);
    if (helpers === 0) {
      let at = 0;
      runChunks(argsFor(0), () => (at += chunk) - chunk);
      return;
    }
    const ctrl = new Int32Array(this.memory.buffer, this.control, HEADER_INTS + SLOT_INTS * this.workers.length);
    ctrl[0] = 0;
    ctrl[1] = rows;
    ctrl[2] = chunk;
    ctrl[3] = partials ? partials.argIndex : -1;
    ctrl[4] = partials ? partials.base : 0;
    ctrl[5] = partials ? partials.strideBytes : 0;
    this.job = this.job >= 0x3fffffff ? 1 : this.job + 1;
    const job = this.job;
    const id = SIMD_KERNEL_NAMES.indexOf(kernel);
    for (let w = 0; w < helpers; w++) {
      const args = argsFor(w + 1);
      if (args.length > MAX_ARGS) throw new Error(`simd pool: ${kernel} takes at most ${MAX_ARGS} arguments`);
      const base = HEADER_INTS + w * SLOT_INTS;
      ctrl[base + KERNEL] = id;
      ctrl[base + ARGC] = args.length;
      for (let i = 0; i < args.length; i++) ctrl[base + ARGS + i] = args[i];
      ctrl[base + FAILED] = 0;
      Atomics.store(ctrl, base + CLAIM, job);
      Atomics.store(ctrl, base + POSTED, job);
      Atomics.notify(ctrl, base + POSTED);
    }
    let failure: unknown = null;
    try {
      runChunks(argsFor(0), () => Atomics.add(ctrl, 0, chunk));
    } catch (error) {
      failure = error;
      Atomics.store(ctrl, 0, rows); // no more chunks for anyone
    }
    // Workers that have not taken the job yet are cancelled; the others are waited for, even after a failure
    // here (they write into tensors the caller will free).
    let workerFailed = false;
    for (let w = 0; w < helpers; w++) {
      const base = HEADER_INTS + w * SLOT_INTS;
      if (Atomics.compareExchange(ctrl, base + CLAIM, job, 0) === job) continue;
      for (;;) {
        const done = Atomics.load(ctrl, base + DONE);
        if (done === job) break;
        Atomics.wait(ctrl, base + DONE, done, 1000);
      }
      if (ctrl[base + FAILED] !== 0) workerFailed = true;
    }
    if (failure) throw failure;
    if (workerFailed) throw new Error(`engine: SIMD kernel ${kernel} failed in a worker thread`);
  }
}
