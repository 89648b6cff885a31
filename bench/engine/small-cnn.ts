import * as tf from "@tensorflow/tfjs";
import { batchNormalization, conv2d } from "../../lib/engine";

/**
 * The small CNN (conv16-bn-relu-pool-conv32-relu-gap-dense(3) on 64×64 RGB), compiled with Adam 1e-3 and
 * categorical cross-entropy: what the small_cnn_epoch benchmark trains and profile-smallcnn.ts profiles.
 * `stockLayers` builds the convolutions and the batch norm with tf.layers.conv2d / batchNormalization instead of
 * lib/engine's conv2d / batchNormalization layers (stock layers with faster training paths).
 */
export function smallCnnModel(stockLayers = false): tf.LayersModel {
  const conv = stockLayers ? tf.layers.conv2d : conv2d;
  const norm = stockLayers ? tf.layers.batchNormalization : batchNormalization;
  const input = tf.input({ shape: [64, 64, 3] });
  let h = conv({ filters: 16, kernelSize: 3, padding: "same" }).apply(input) as tf.SymbolicTensor;
  h = norm().apply(h) as tf.SymbolicTensor;
  h = tf.layers.activation({ activation: "relu" }).apply(h) as tf.SymbolicTensor;
  h = tf.layers.maxPooling2d({ poolSize: 2 }).apply(h) as tf.SymbolicTensor;
  h = conv({ filters: 32, kernelSize: 3, padding: "same", activation: "relu" }).apply(h) as tf.SymbolicTensor;
  h = tf.layers.globalAveragePooling2d({}).apply(h) as tf.SymbolicTensor;
  const output = tf.layers.dense({ units: 3, activation: "softmax" }).apply(h) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: output });
  model.compile({ optimizer: tf.train.adam(1e-3), loss: "categoricalCrossentropy" });
  return model;
}
