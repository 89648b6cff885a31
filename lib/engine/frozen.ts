import * as tf from "@tensorflow/tfjs";

/**
 * Inference-only forward pass of a functional LayersModel with every activation fused into its convolution.
 *
 * tfjs-layers fuses only relu/linear into Conv2D and nothing into DepthwiseConv2D, so MobileNetV2's relu6
 * becomes two extra passes (Relu, then a broadcast Minimum that is slow on wasm) after each of its 52
 * convolutions, and every depthwise bias an extra Add. Here each Conv2D/DepthwiseConv2D runs as one
 * tf.fused op (bias + activation inside XNNPACK). Same weights (read live from the layers), same results.
 * Models with a layer type not handled here fall back to `model.predict`.
 */

type Forward = (inputs: tf.Tensor[], layer: tf.layers.Layer) => tf.Tensor;

const FUSABLE = new Set(["linear", "relu", "relu6", "sigmoid", "elu"]);

function activationName(layer: tf.layers.Layer): string {
  const activation = (layer.getConfig() as { activation?: string }).activation ?? "linear";
  return activation;
}

function applyActivation(x: tf.Tensor, name: string): tf.Tensor {
  switch (name) {
    case "linear":
      return x;
    case "relu":
      return tf.relu(x);
    case "relu6":
      return tf.relu6(x);
    case "sigmoid":
      return tf.sigmoid(x);
    case "elu":
      return tf.elu(x);
    case "swish":
      return tf.mul(x, tf.sigmoid(x));
    case "softmax":
      return tf.softmax(x);
    case "tanh":
      return tf.tanh(x);
    default:
      throw new Error(`frozen forward: activation ${name} not handled`);
  }
}

interface ConvConfig {
  strides: [number, number];
  padding: "same" | "valid";
  dilationRate: [number, number] | number;
  useBias: boolean;
}

function weightsOf(layer: tf.layers.Layer): tf.Tensor[] {
  return layer.weights.map((w) => w.read());
}

/** Conv2D and DepthwiseConv2D: one fused op with bias and (where tfjs can fuse it) the activation inside. */
function fusedConvolution(op: typeof tf.fused.conv2d | typeof tf.fused.depthwiseConv2d): Forward {
  return ([x], layer) => {
    const config = layer.getConfig() as unknown as ConvConfig;
    const [kernel, bias] = weightsOf(layer);
    const activation = activationName(layer);
    const fused = FUSABLE.has(activation) ? activation : "linear";
    const y = op({
      x: x as tf.Tensor4D,
      filter: kernel as tf.Tensor4D,
      strides: config.strides,
      pad: config.padding,
      dilations: config.dilationRate,
      bias: config.useBias ? bias : undefined,
      activation: fused as tf.fused.Activation,
    });
    return fused === activation ? y : applyActivation(y, activation);
  };
}

const FORWARDS: Record<string, Forward> = {
  InputLayer: ([x]) => x,
  Conv2D: fusedConvolution(tf.fused.conv2d),
  DepthwiseConv2D: fusedConvolution(tf.fused.depthwiseConv2d),
  Activation: ([x], layer) => applyActivation(x, activationName(layer)),
  ReLU: ([x], layer) => {
    const { maxValue } = layer.getConfig() as { maxValue?: number | null };
    return maxValue === 6 ? tf.relu6(x) : maxValue == null ? tf.relu(x) : tf.clipByValue(x, 0, maxValue);
  },
  Add: (xs) => (xs.length === 2 ? tf.add(xs[0], xs[1]) : tf.addN(xs)),
  Multiply: (xs) => xs.reduce((a, b) => tf.mul(a, b)),
  GlobalAveragePooling2D: ([x]) => tf.mean(x, [1, 2]),
  BatchNormalization: ([x], layer) => {
    const config = layer.getConfig() as { epsilon: number; center: boolean; scale: boolean; axis: number };
    if (config.axis !== -1 && config.axis !== x.rank - 1) throw new Error("frozen forward: BatchNormalization axis");
    const weights = weightsOf(layer);
    let i = 0;
    const gamma = config.scale ? weights[i++] : undefined;
    const beta = config.center ? weights[i++] : undefined;
    const [mean, variance] = [weights[i], weights[i + 1]];
    return tf.batchNorm(x, mean, variance, beta, gamma, config.epsilon);
  },
  MaxPooling2D: ([x], layer) => {
    const c = layer.getConfig() as { poolSize: [number, number]; strides: [number, number]; padding: "same" | "valid" };
    return tf.maxPool(x as tf.Tensor4D, c.poolSize, c.strides, c.padding);
  },
  AveragePooling2D: ([x], layer) => {
    const c = layer.getConfig() as { poolSize: [number, number]; strides: [number, number]; padding: "same" | "valid" };
    return tf.avgPool(x as tf.Tensor4D, c.poolSize, c.strides, c.padding);
  },
  Reshape: ([x], layer) => {
    const { targetShape } = layer.getConfig() as { targetShape: number[] };
    return tf.reshape(x, [x.shape[0], ...targetShape]);
  },
  Flatten: ([x]) => tf.reshape(x, [x.shape[0], -1]),
  Dense: ([x], layer) => {
    const [kernel, bias] = weightsOf(layer);
    const { useBias } = layer.getConfig() as { useBias: boolean };
    const activation = activationName(layer);
    const fused = activation === "linear" || activation === "relu" || activation === "relu6" || activation === "sigmoid" || activation === "elu";
    const y = tf.fused.matMul({
      a: x as tf.Tensor2D,
      b: kernel as tf.Tensor2D,
      bias: useBias ? bias : undefined,
      activation: (fused ? activation : "linear") as tf.fused.Activation,
    });
    return fused ? y : applyActivation(y, activation);
  },
  Softmax: ([x]) => tf.softmax(x),
  Dropout: ([x]) => x,
};

interface Step {
  layer: tf.layers.Layer;
  inputs: string[];
  forward: Forward;
}

/** Build the fused forward of `model`, or null when it uses a layer this executor does not handle. */
export function compileFrozenForward(model: tf.LayersModel): ((x: tf.Tensor) => tf.Tensor) | null {
  if (model.outputs.length !== 1) return null;
  const forward = compileFrozenForwardOutputs(model);
  return forward && ((x: tf.Tensor) => forward(x)[0]);
}

/** The same for a model with several outputs (e.g. feature maps at two strides): one tensor per model output. */
export function compileFrozenForwardOutputs(model: tf.LayersModel): ((x: tf.Tensor) => tf.Tensor[]) | null {
  if (model.inputs.length !== 1) return null;
  const steps: Step[] = [];
  for (const layer of model.layers) {
    const forward = FORWARDS[layer.getClassName()];
    if (!forward) return null;
    const nodes = (layer as unknown as { inboundNodes: Array<{ inboundLayers: tf.layers.Layer[] }> }).inboundNodes;
    if (!nodes || nodes.length === 0) return null;
    steps.push({ layer, inputs: nodes[0].inboundLayers.map((l) => l.name), forward });
  }
  const outputNames = model.outputs.map((output) => (output as unknown as { sourceLayer: tf.layers.Layer }).sourceLayer.name);
  return (x: tf.Tensor) =>
    tf.tidy(() => {
      const values = new Map<string, tf.Tensor>();
      for (const step of steps) {
        const inputs = step.layer.getClassName() === "InputLayer" ? [x] : step.inputs.map((name) => values.get(name)!);
        values.set(step.layer.name, step.forward(inputs, step.layer));
      }
      return outputNames.map((name) => {
        const out = values.get(name);
        if (!out) throw new Error(`frozen forward: output layer ${name} was not computed`);
        return out;
      });
    });
}
