export { initEngine, parseBackendSetting, parseThreadsSetting, availableCores, BACKEND_SETTING, THREADS_SETTING } from "./backend";
export type { EngineBackend, EngineInfo, EngineOptions } from "./backend";
export { registerTrainingKernels, WASM_TRAINING_KERNEL_NAMES } from "./kernels";
