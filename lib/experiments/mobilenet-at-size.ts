import * as tf from "@tensorflow/tfjs";
import * as path from "path";
import { makeEmbed, MOBILENET_EMBEDDING_LAYER, readModelArtifacts, resolveModelsDir, scaleToMinusOneOne, type Backbone } from "../engine";

interface LayerJson {
  class_name: string;
  config: { batch_input_shape?: (number | null)[] };
}

/**
 * The ImageNet MobileNetV2 with another square input size (it is fully convolutional up to `global_pool`):
 * e.g. 128 px, the photos' native size, instead of upsampling them to 224. Same weights, ~3× fewer FLOPs,
 * a different embedding (the receptive fields see relatively larger objects). Not in lib/engine, which only loads 224.
 */
export async function loadMobileNetV2AtSize(size: number, source?: string): Promise<Backbone> {
  if (!Number.isInteger(size) || size < 32) throw new Error(`loadMobileNetV2AtSize: size must be a whole number ≥ 32, got ${size}`);
  const location = source ?? path.join(resolveModelsDir(), "mobilenet_v2_1.0_224", "tfjs");
  const { artifacts, sha256 } = readModelArtifacts(location);
  const topology = JSON.parse(JSON.stringify(artifacts.modelTopology)) as { model_config?: { config: { layers: LayerJson[] } }; config?: { layers: LayerJson[] } };
  const layers = (topology.model_config ?? topology).config?.layers ?? [];
  const inputs = layers.filter((l) => l.class_name === "InputLayer");
  if (inputs.length !== 1) throw new Error(`loadMobileNetV2AtSize: ${location} has ${inputs.length} input layers, expected 1`);
  inputs[0].config.batch_input_shape = [null, size, size, 3];
  const full = await tf.loadLayersModel(tf.io.fromMemory({ ...artifacts, modelTopology: topology }));
  let pool: tf.layers.Layer;
  try {
    pool = full.getLayer(MOBILENET_EMBEDDING_LAYER);
  } catch {
    throw new Error(`loadMobileNetV2AtSize: ${location} has no layer "${MOBILENET_EMBEDDING_LAYER}" (not the expected MobileNetV2)`);
  }
  const model = tf.model({ inputs: full.inputs, outputs: pool.output as tf.SymbolicTensor, name: `mobilenet_v2_embedding_${size}` });
  model.trainable = false;
  return {
    name: "mobilenet-v2",
    model,
    inputSize: size,
    embeddingSize: (pool.output as tf.SymbolicTensor).shape[1] as number,
    pretrained: true,
    // The embedding cache keys on (name, weights hash, size): the size already separates these rows from the 224 ones.
    weightsHash: sha256,
    preprocess: scaleToMinusOneOne,
    embed: makeEmbed(model, scaleToMinusOneOne),
  };
}
