export { instantiateSimdKernels, SIMD_KERNEL_NAMES, simdModule, type SimdKernelName, type SimdKernels } from "./wasm-module";
export { SimdPool } from "./pool";
