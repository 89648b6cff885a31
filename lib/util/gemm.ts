import * as fs from "fs";
import * as path from "path";

/**
 * Float32 matrix products in WebAssembly SIMD (gemm.c → gemm.wasm) on arrays laid out in the module's own memory,
 * for the JS training step of small dense networks and the embedding PCA. One call per product, single-threaded:
 * those products are small (a batch of 32 rows), where spreading them over threads costs more than it saves.
 *
 *   const gemm = gemmArrays([m * k, k * n, m * n]);   // zero-filled Float32Arrays in one instance's memory
 *   const [a, b, c] = gemm.arrays;
 *   gemm.multiply(a, b, c, m, n, k);                   // c = a · b; { transposeA: true }: a holds Aᵀ (k × m)
 *
 * Subarrays of those arrays are valid operands; arrays from elsewhere are refused (the kernel reads memory offsets).
 */

// WebAssembly is a Node global, but tslab compiles without the DOM lib that declares it.
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
}
const WA = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

interface WasmMemory {
  buffer: ArrayBuffer;
  grow(pages: number): number;
}

export interface MultiplyOptions {
  /** `a` holds Aᵀ: a k × m row-major matrix. */
  transposeA?: boolean;
  /** c += A·B instead of c = A·B. */
  accumulate?: boolean;
}

export interface Gemm {
  /** The requested arrays, zero-filled, in the module's memory. */
  readonly arrays: Float32Array[];
  /** c (m × n) = A (m × k) · b (k × n), all row-major. */
  multiply(a: Float32Array, b: Float32Array, c: Float32Array, m: number, n: number, k: number, options?: MultiplyOptions): void;
}

let compiled: object | null = null;
const PAGE = 65536;

/** A gemm.wasm instance whose memory holds one Float32Array per requested length. */
export function gemmArrays(lengths: readonly number[]): Gemm {
  compiled ??= new WA.Module(fs.readFileSync(path.join(__dirname, "gemm.wasm")));
  const instance = new WA.Instance(compiled, {});
  const memory = instance.exports.memory as WasmMemory;
  const kernel = instance.exports.gemm as (a: number, b: number, c: number, m: number, n: number, k: number, aRow: number, aCol: number, accumulate: number) => void;
  // 16-byte aligned starts keep the kernel's vector loads within one cache line more often.
  const starts: number[] = [];
  let bytes = 0;
  for (const length of lengths) {
    starts.push(bytes);
    bytes += Math.ceil((length * 4) / 16) * 16;
  }
  const pages = Math.ceil(bytes / PAGE) - memory.buffer.byteLength / PAGE;
  if (pages > 0) memory.grow(pages);
  const buffer = memory.buffer;
  const arrays = lengths.map((length, i) => new Float32Array(buffer, starts[i], length));
  const offsetOf = (array: Float32Array, needed: number, name: string): number => {
    if (array.buffer !== buffer) throw new Error(`gemm: ${name} is not one of this instance's arrays`);
    if (array.length < needed) throw new Error(`gemm: ${name} holds ${array.length} values, the product needs ${needed}`);
    return array.byteOffset;
  };
  return {
    arrays,
    multiply(a, b, c, m, n, k, options = {}) {
      if (m === 0 || n === 0) return;
      const pa = offsetOf(a, m * k, "a");
      const pb = offsetOf(b, k * n, "b");
      const pc = offsetOf(c, m * n, "c");
      if (options.transposeA) kernel(pa, pb, pc, m, n, k, 1, m, options.accumulate ? 1 : 0);
      else kernel(pa, pb, pc, m, n, k, k, 1, options.accumulate ? 1 : 0);
    },
  };
}
