import * as tf from "@tensorflow/tfjs";
import { batchNormalization, conv2d } from "../../lib/engine";
import { withSeed } from "../../lib/train";

/**
 * The issue's small CNN (conv16-bn-relu-pool-conv32-relu-gap-dense(3) on 64×64 RGB), built with lib/engine's layers as
 * the notebooks' small CNNs are: what the small_cnn_epoch benchmark trains with lib/train's fit (Adam 1e-3,
 * categorical cross-entropy), as bench/engine/torch_ref.py's SmallCnn does in PyTorch.
 */
export function smallCnnModel(seed = 0): tf.LayersModel {
  return withSeed(seed, () => {
    const input = tf.input({ shape: [64, 64, 3] });
    let h = conv2d({ filters: 16, kernelSize: 3, padding: "same" }).apply(input) as tf.SymbolicTensor;
    h = batchNormalization().apply(h) as tf.SymbolicTensor;
    h = tf.layers.activation({ activation: "relu" }).apply(h) as tf.SymbolicTensor;
    h = tf.layers.maxPooling2d({ poolSize: 2 }).apply(h) as tf.SymbolicTensor;
    h = conv2d({ filters: 32, kernelSize: 3, padding: "same", activation: "relu" }).apply(h) as tf.SymbolicTensor;
    h = tf.layers.globalAveragePooling2d({}).apply(h) as tf.SymbolicTensor;
    const output = tf.layers.dense({ units: 3, activation: "softmax" }).apply(h) as tf.SymbolicTensor;
    return tf.model({ inputs: input, outputs: output });
  });
}
