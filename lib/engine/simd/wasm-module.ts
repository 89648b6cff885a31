import * as fs from "fs";
import * as path from "path";

/**
 * Our own WebAssembly SIMD kernels (kernels.c → kernels.wasm), instantiated over the tfjs wasm backend's
 * shared memory so that they read and write tensors in place; pointers are byte offsets into that heap.
 * See kernels.c for what each one computes and pool.ts for how calls are spread over threads.
 */

// WebAssembly is a Node global, but tslab compiles without the DOM lib that declares it.
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
}
const WA = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

/** The kernels' export names, in the order the worker loop numbers them. */
export const SIMD_KERNEL_NAMES = ["conv2d_filter_grad", "conv2d_input_grad", "maxpool2x2_grad", "channel_sums", "channel_affine", "broadcast_middle", "conv2d_forward", "middle_sums", "relu_grad", "batchnorm_grad_sums", "channel_affine2"] as const;
export type SimdKernelName = (typeof SIMD_KERNEL_NAMES)[number];
export type SimdKernels = Record<SimdKernelName, (...args: number[]) => void>;

let compiled: object | null = null;

/** The compiled module (shared by the calling thread and the kernel workers). */
export function simdModule(): object {
  if (!compiled) compiled = new WA.Module(fs.readFileSync(path.join(__dirname, "kernels.wasm")));
  return compiled;
}

/** Instantiate the kernels over `memory` (a shared WebAssembly.Memory); throws if it is not shared. */
export function instantiateSimdKernels(memory: object): SimdKernels {
  const instance = new WA.Instance(simdModule(), { env: { memory } });
  const kernels = {} as SimdKernels;
  for (const name of SIMD_KERNEL_NAMES) {
    const fn = instance.exports[name];
    if (typeof fn !== "function") throw new Error(`engine: kernels.wasm has no export ${name} (rebuild with lib/engine/simd/build.sh)`);
    kernels[name] = fn as (...args: number[]) => void;
  }
  return kernels;
}
