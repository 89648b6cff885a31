import * as tf from "@tensorflow/tfjs";
import * as path from "path";
import { compileFrozenForwardOutputs, readModelArtifacts, resolveModelsDir, scaleToMinusOneOne } from "../../engine";

/**
 * The pretrained ImageNet MobileNetV2 (the offline copy lib/engine loads) cut after its stride-16 stage and rebuilt
 * for any square input size, frozen: it returns two feature maps, stride 8 (32 channels, layer add_21 of the converted
 * model) and stride 16 (96 channels, add_47). Its BatchNorms are folded into the convolutions in this conversion, so
 * inference and training behave the same.
 */
export const FEATURE_LAYERS = { stride8: "add_21", stride16: "add_47" } as const;

export interface FeatureExtractor {
  model: tf.LayersModel;
  inputSize: number;
  /** sha256 of the weight files (part of any cache key). */
  weightsHash: string;
  source: string;
  /** RGB [0, 255] [batch, size, size, 3] → [stride-8 map, stride-16 map]; the caller disposes them. */
  extract(pixels: tf.Tensor4D): [tf.Tensor4D, tf.Tensor4D];
}

interface LayerConfig {
  class_name: string;
  name?: string;
  config: { name: string; batch_input_shape?: Array<number | null> };
}

/** `size` must be a multiple of 16 (two stride-2 levels beyond stride 8 line up). */
export async function loadFeatureExtractor(size: number, source?: string): Promise<FeatureExtractor> {
  if (!Number.isInteger(size) || size < 64 || size % 16 !== 0) throw new Error(`loadFeatureExtractor: input size must be a multiple of 16 and ≥ 64, got ${size}`);
  const location = source ?? path.join(resolveModelsDir(), "mobilenet_v2_1.0_224", "tfjs");
  const { artifacts, sha256 } = readModelArtifacts(location);
  const topology = JSON.parse(JSON.stringify(artifacts.modelTopology)) as { model_config?: { config: { layers: LayerConfig[] } }; config?: { layers: LayerConfig[] } };
  const layers = (topology.model_config ?? (topology as { config: { layers: LayerConfig[] } })).config.layers;
  const input = layers.find((layer) => layer.class_name === "InputLayer");
  if (!input?.config.batch_input_shape) throw new Error(`loadFeatureExtractor: ${location} has no input layer`);
  input.config.batch_input_shape = [null, size, size, 3];
  const full = await tf.loadLayersModel(tf.io.fromMemory({ ...artifacts, modelTopology: topology }));
  let outputs: tf.SymbolicTensor[];
  try {
    outputs = [FEATURE_LAYERS.stride8, FEATURE_LAYERS.stride16].map((name) => full.getLayer(name).output as tf.SymbolicTensor);
  } catch {
    throw new Error(`loadFeatureExtractor: ${location} lacks layers ${FEATURE_LAYERS.stride8}/${FEATURE_LAYERS.stride16} (not the expected MobileNetV2 conversion)`);
  }
  const model = tf.model({ inputs: full.inputs, outputs, name: `mobilenet_v2_features_${size}` });
  model.trainable = false;
  // Every activation fused into its convolution: about 2.5× faster than model.predict on wasm (measured at 224).
  const fused = compileFrozenForwardOutputs(model);
  return {
    model,
    inputSize: size,
    weightsHash: sha256,
    source: location,
    extract: (pixels) =>
      tf.tidy(() => {
        const x = scaleToMinusOneOne(pixels);
        const [f8, f16] = (fused ? fused(x) : model.predict(x)) as tf.Tensor4D[];
        return [f8, f16];
      }),
  };
}
