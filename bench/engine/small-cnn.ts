import * as tf from "@tensorflow/tfjs";
import { createBackbone } from "../../lib/engine";
import { withSeed } from "../../lib/train";

/**
 * The small CNN (conv16-bn-relu-pool-conv32-relu-gap-dense(3) on 64×64 RGB): lib/engine's "small-cnn"
 * backbone, the one notebook 04 trains from scratch, with a softmax layer on top. What the small_cnn_epoch benchmark
 * trains with lib/train's fit (Adam 1e-3, categorical cross-entropy), as bench/engine/torch_ref.py's SmallCnn does in
 * PyTorch.
 */
export function smallCnnModel(seed = 0): tf.LayersModel {
  const backbone = createBackbone("small-cnn", { inputSize: 64, seed });
  return withSeed(seed, () => {
    const output = tf.layers.dense({ units: 3, activation: "softmax", name: "classes" }).apply(backbone.model.outputs[0]) as tf.SymbolicTensor;
    return tf.model({ inputs: backbone.model.inputs, outputs: output });
  });
}
