/**
 * lib/engine — where tensors are computed, and the image backbones that run there.
 *
 *   const engine = await initEngine();                 // tfjs-node-gpu → tfjs-node → webgpu → wasm (all cores) → cpu; prints why
 *   const backbone = await loadMobileNetV2();          // ImageNet, 224×224, 1280-d `global_pool` embedding
 *   const { embeddings } = await embedImages({ backbone, files });   // cached in outputs/cache/embeddings
 *   const net = createBackbone("resnet18", { inputSize: 128, seed: 0 });  // random init, trainable
 *
 * Frozen backbones embed on ONNX Runtime (onnxruntime-node, a graph exported from the tfjs model) when the engine
 * runs on a CPU backend, else on tfjs (inference.ts); the engine line says which.
 *
 * Importing this folder also gives the wasm backend the training kernels it lacks (see kernels/) once
 * initEngine runs. Other folders import TensorFlow.js as usual ("@tensorflow/tfjs"); the backend is global.
 */
export {
  initEngine,
  selectBackend,
  engineLine,
  parseBackendSetting,
  parseThreadsSetting,
  availableCores,
  BACKEND_SETTING,
  THREADS_SETTING,
  DEFAULT_STARTERS,
} from "./backend";
export type { BackendStarters, EngineBackend, EngineInfo, EngineOptions, WebGpuStart } from "./backend";
export { probeWebGpu, describeAdapter, SYNC_READ_MESSAGE } from "./webgpu";
export type { GpuAdapterInfo, WebGpuProbe } from "./webgpu";
export { registerTrainingKernels, setSimdKernels, simdKernelsActive, WASM_TRAINING_KERNEL_NAMES } from "./kernels";
export { wasmThreadsInUse } from "./wasm-threads";
export {
  loadMobileNetV2,
  createBackbone,
  loadBackbone,
  makeEmbed,
  scaleToMinusOneOne,
  BACKBONE_NAMES,
  MOBILENET_EMBEDDING_LAYER,
} from "./backbones";
export {
  resolveModelsDir,
  modelsDirCandidates,
  hasPretrainedMobileNet,
  writableModelsDir,
  downloadMobileNetV2,
  convertMobileNetV2,
  rawFileUrl,
  verifyPinned,
  MODELS_DIR_SETTING,
  MOBILENET_V2_DIR,
  MOBILENET_V2_TFLITE,
  MOBILENET_V2_SOURCE,
  MOBILENET_V2_TFJS_WEIGHTS_SHA256,
} from "./weights";
export type { ConvertOptions, ConvertReport, DownloadOptions, Fetch, PinnedFile } from "./weights";
export { readTflite, dequantize } from "./tflite";
export type { TfliteModel, TfliteOperator, TfliteTensor, Quantization } from "./tflite";
export { tfliteToLayersModel, convertTfliteFile, saveLayersModelFiles, SUPPORTED_TFLITE_OPS } from "./tflite-convert";
export type { TfliteConversion, InputEncoding } from "./tflite-convert";
export type { Backbone, BackboneName, CreateBackboneOptions } from "./backbones";
export { compileFrozenForward, compileFrozenForwardOutputs } from "./frozen";
export { chooseInference, frozenForward, parseInferenceSetting, INFERENCE_SETTING } from "./inference";
export type { FrozenForward, InferenceChoice, InferenceRuntime } from "./inference";
export { exportLayersModel, OnnxExportUnsupported } from "./onnx/export";
export type { OnnxExport, OnnxExportOptions } from "./onnx/export";
export { conv2d, batchNormalization } from "./layers";
export { diskModelHandler, loadLayersModelFrom, readModelArtifacts } from "./io";
export { embedImages, embeddingMatrix, fileContentHash } from "./embed";
export type { EmbedOptions, EmbedResult, EmbeddingMatrix, ImageAugmentation } from "./embed";
