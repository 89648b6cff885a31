import * as tf from "@tensorflow/tfjs";

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
