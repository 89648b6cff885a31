import * as tf from "@tensorflow/tfjs";
import { batchNormTraining } from "./kernels/batchnorm";

/**
 * `conv2d`: tf.layers.conv2d for networks trained here. Identical weights, config and saved form (it is a
 * stock Conv2D layer, so saved models load anywhere), one difference while training: tfjs-layers runs a
 * linear-activation convolution as tfjs-core's fused op, whose gradient always computes the gradient with
 * respect to the layer's input — for a network's first layer, a full-size convolution whose result is thrown
 * away. Here training runs the plain convolution (then bias and activation), whose gradient tfjs only
 * computes for inputs that need it, as PyTorch's autograd does. Inference keeps the fused op.
 */

type ConvArgs = Parameters<typeof tf.layers.conv2d>[0];

/** The parts of tfjs-layers' Conv2D that the training path reads (protected in its typings). */
interface ConvInternals {
  kernel: { read(): tf.Tensor };
  bias: { read(): tf.Tensor } | null;
  useBias: boolean;
  strides: number[];
  padding: "same" | "valid";
  dataFormat: string;
  dilationRate: number | number[];
  activation: { apply(x: tf.Tensor): tf.Tensor } | null;
}

type CallFn = (inputs: tf.Tensor | tf.Tensor[], kwargs: { training?: boolean }) => tf.Tensor | tf.Tensor[];

export function conv2d(args: ConvArgs): tf.layers.Layer {
  const layer = tf.layers.conv2d(args);
  const internals = layer as unknown as ConvInternals;
  const owner = layer as unknown as { call: CallFn };
  const fusedCall = owner.call.bind(layer) as CallFn;
  owner.call = (inputs, kwargs) => {
    if (!kwargs?.training || internals.dataFormat !== "channelsLast") return fusedCall(inputs, kwargs);
    return tf.tidy(() => {
      const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor4D;
      const dilations = internals.dilationRate as [number, number] | number;
      let y: tf.Tensor = tf.conv2d(x, internals.kernel.read() as tf.Tensor4D, internals.strides as [number, number], internals.padding, "NHWC", dilations);
      if (internals.useBias && internals.bias) y = tf.add(y, internals.bias.read());
      return internals.activation ? internals.activation.apply(y) : y;
    });
  };
  return layer;
}

type BatchNormArgs = Parameters<typeof tf.layers.batchNormalization>[0];

/** The parts of tfjs-layers' BatchNormalization the training path reads and updates (protected in its typings). */
interface BatchNormInternals {
  axis: number;
  momentum: number;
  epsilon: number;
  center: boolean;
  scale: boolean;
  gamma: { read(): tf.Tensor } | null;
  beta: { read(): tf.Tensor } | null;
  movingMean: { read(): tf.Tensor; write(value: tf.Tensor): unknown };
  movingVariance: { read(): tf.Tensor; write(value: tf.Tensor): unknown };
}

/**
 * `batchNormalization`: tf.layers.batchNormalization for networks trained here (a stock layer: same weights, config
 * and saved form). In training on the wasm backend with our SIMD kernels, the batch statistics, the normalisation and
 * its gradient run as three passes forward and two backward (kernels/batchnorm.ts' batchNormTraining) instead of
 * tf.moments + batchNormalization and about ten full-size ops for their gradients; the moving averages are updated
 * as tfjs-layers does. Everywhere else (inference, other backends, axes other than the last) it is the stock layer.
 */
export function batchNormalization(args?: BatchNormArgs): tf.layers.Layer {
  const layer = tf.layers.batchNormalization(args);
  const internals = layer as unknown as BatchNormInternals;
  const owner = layer as unknown as { call: CallFn };
  const stockCall = owner.call.bind(layer) as CallFn;
  owner.call = (inputs, kwargs) => {
    const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor;
    if (!kwargs?.training || (internals.axis !== -1 && internals.axis !== x.rank - 1)) return stockCall(inputs, kwargs);
    let fusedDone = false;
    const result = tf.tidy((): tf.Tensor => {
      const fused = batchNormTraining(x, internals.scale && internals.gamma ? internals.gamma.read() : null, internals.center && internals.beta ? internals.beta.read() : null, internals.epsilon);
      if (!fused) return x;
      fusedDone = true;
      // tfjs-layers' update: value ← value − (value − batch statistic)·(1 − momentum).
      const decay = 1 - internals.momentum;
      for (const [variable, value] of [[internals.movingMean, fused.mean], [internals.movingVariance, fused.variance]] as const) {
        const original = variable.read();
        variable.write(tf.sub(original, tf.mul(tf.sub(original, value), decay)));
      }
      return fused.y;
    });
    return fusedDone ? result : stockCall(inputs, kwargs);
  };
  return layer;
}
