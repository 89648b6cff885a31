import * as tf from "@tensorflow/tfjs";
import { GraphParts, Message, floatValueInfo, model, node, tensor, type AttributeValue } from "./protobuf";

/**
 * A frozen tfjs LayersModel as an ONNX graph (opset 13), built from the weights the model holds right now.
 *
 * Input `pixels` is NHWC RGB [batch, H, W, C] as tfjs takes it; an optional affine `scale`/`shift` (value·scale +
 * shift, e.g. MobileNetV2's (p − 128) / 128) runs first, then one Transpose to NCHW, the layout ONNX convolutions
 * use. 4-d tensors stay NCHW inside; anything that depends on the element order (Flatten, Reshape) goes back to NHWC
 * first, so results equal the tfjs model's. `padding: "same"` is ONNX SAME_UPPER (TensorFlow pads the extra pixel at
 * the end, as SAME_UPPER does). Returns null with the reason when the model uses a layer or option not handled here.
 */

export interface OnnxExport {
  bytes: Uint8Array;
  inputName: string;
  outputName: string;
  /** Output shape without the batch dimension (tfjs layout). */
  outputShape: number[];
}

export interface OnnxExportOptions {
  /** Applied to the input before the network: x·scale + shift. */
  inputAffine?: { scale: number; shift: number };
}

/** Why a model cannot be exported (unsupported layer or option). */
export class OnnxExportUnsupported extends Error {}

interface Value {
  name: string;
  /** Rank-4 tensors are kept NCHW; "plain" means the same element order as in tfjs. */
  layout: "nchw" | "plain";
  rank: number;
}

type LayerConfig = Record<string, unknown>;

const INPUT = "pixels";

class GraphBuilder {
  readonly nodes: Message[] = [];
  readonly initializers: Message[] = [];
  private counter = 0;

  fresh(base: string): string {
    return `${base}__${this.counter++}`;
  }

  op(opType: string, inputs: string[], base: string, attributes: Record<string, AttributeValue> = {}): string {
    const out = this.fresh(base);
    this.nodes.push(node(opType, inputs, [out], out, attributes));
    return out;
  }

  constant(base: string, dims: number[], data: Float32Array | BigInt64Array): string {
    const name = this.fresh(base);
    this.initializers.push(tensor(name, dims, data));
    return name;
  }

  scalar(base: string, value: number): string {
    return this.constant(base, [], Float32Array.of(value));
  }

  toNchw(v: Value, base: string): Value {
    if (v.rank !== 4 || v.layout === "nchw") return v;
    return { name: this.op("Transpose", [v.name], `${base}_nchw`, { perm: [0, 3, 1, 2] }), layout: "nchw", rank: 4 };
  }

  toPlain(v: Value, base: string): Value {
    if (v.layout === "plain") return v;
    return { name: this.op("Transpose", [v.name], `${base}_nhwc`, { perm: [0, 2, 3, 1] }), layout: "plain", rank: 4 };
  }

  activation(v: Value, activation: string, base: string): Value {
    const unary = (opType: string) => ({ ...v, name: this.op(opType, [v.name], `${base}_${activation}`) });
    switch (activation) {
      case "linear":
        return v;
      case "relu":
        return unary("Relu");
      case "relu6":
        return { ...v, name: this.op("Clip", [v.name, this.scalar("zero", 0), this.scalar("six", 6)], `${base}_relu6`) };
      case "sigmoid":
        return unary("Sigmoid");
      case "tanh":
        return unary("Tanh");
      case "elu":
        return unary("Elu");
      case "swish": {
        const s = this.op("Sigmoid", [v.name], `${base}_sigmoid`);
        return { ...v, name: this.op("Mul", [v.name, s], `${base}_swish`) };
      }
      case "softmax":
        return { ...v, name: this.op("Softmax", [v.name], `${base}_softmax`, { axis: v.layout === "nchw" ? 1 : -1 }) };
      default:
        throw new OnnxExportUnsupported(`activation "${activation}"`);
    }
  }
}

function pair(value: unknown, what: string): [number, number] {
  if (typeof value === "number") return [value, value];
  if (Array.isArray(value) && value.length === 2 && value.every((v) => typeof v === "number")) return [value[0], value[1]];
  throw new OnnxExportUnsupported(`${what} ${JSON.stringify(value)}`);
}

function autoPad(padding: unknown): string {
  if (padding === "same") return "SAME_UPPER";
  if (padding === "valid") return "VALID";
  throw new OnnxExportUnsupported(`padding ${JSON.stringify(padding)}`);
}

function checkChannelsLast(config: LayerConfig, layer: string): void {
  if (config.dataFormat !== undefined && config.dataFormat !== "channelsLast") throw new OnnxExportUnsupported(`${layer}: dataFormat ${config.dataFormat}`);
}

/** [kh, kw, in, out] (Conv2D) → ONNX [out, in, kh, kw]. */
function convKernel(values: Float32Array, [kh, kw, cin, cout]: number[]): Float32Array {
  const out = new Float32Array(values.length);
  for (let y = 0; y < kh; y++)
    for (let x = 0; x < kw; x++)
      for (let i = 0; i < cin; i++)
        for (let o = 0; o < cout; o++) out[((o * cin + i) * kh + y) * kw + x] = values[((y * kw + x) * cin + i) * cout + o];
  return out;
}

/** [kh, kw, channels, multiplier] (DepthwiseConv2D) → ONNX grouped [channels·multiplier, 1, kh, kw]; output c·m + j as in tfjs. */
function depthwiseKernel(values: Float32Array, [kh, kw, channels, multiplier]: number[]): Float32Array {
  const out = new Float32Array(values.length);
  for (let y = 0; y < kh; y++)
    for (let x = 0; x < kw; x++)
      for (let c = 0; c < channels; c++)
        for (let j = 0; j < multiplier; j++) out[((c * multiplier + j) * kh + y) * kw + x] = values[((y * kw + x) * channels + c) * multiplier + j];
  return out;
}

function weightValues(layer: tf.layers.Layer): Array<{ values: Float32Array; shape: number[] }> {
  return layer.weights.map((w) => {
    const t = w.read();
    return { values: t.dataSync() as Float32Array, shape: t.shape };
  });
}

function config(layer: tf.layers.Layer): LayerConfig {
  return layer.getConfig() as LayerConfig;
}

function activationOf(layer: tf.layers.Layer): string {
  return (config(layer).activation as string | undefined) ?? "linear";
}

type Emit = (g: GraphBuilder, inputs: Value[], layer: tf.layers.Layer) => Value;

function convolution(depthwise: boolean): Emit {
  return (g, [input], layer) => {
    const c = config(layer);
    checkChannelsLast(c, layer.name);
    const x = g.toNchw(input, layer.name);
    const [kernel, bias] = weightValues(layer);
    const [kh, kw] = kernel.shape;
    const useBias = c.useBias !== false && bias !== undefined;
    const weights = depthwise ? depthwiseKernel(kernel.values, kernel.shape) : convKernel(kernel.values, kernel.shape);
    const outChannels = depthwise ? kernel.shape[2] * kernel.shape[3] : kernel.shape[3];
    const dims = depthwise ? [outChannels, 1, kh, kw] : [outChannels, kernel.shape[2], kh, kw];
    const inputs = [x.name, g.constant(`${layer.name}_W`, dims, weights)];
    if (useBias) inputs.push(g.constant(`${layer.name}_B`, [outChannels], bias.values));
    const attributes: Record<string, AttributeValue> = {
      kernel_shape: [kh, kw],
      strides: pair(c.strides ?? 1, `${layer.name}: strides`),
      dilations: pair(c.dilationRate ?? 1, `${layer.name}: dilationRate`),
      auto_pad: autoPad(c.padding),
    };
    if (depthwise) attributes.group = kernel.shape[2];
    const y: Value = { name: g.op("Conv", inputs, layer.name, attributes), layout: "nchw", rank: 4 };
    return g.activation(y, activationOf(layer), layer.name);
  };
}

function pooling(opType: "MaxPool" | "AveragePool"): Emit {
  return (g, [input], layer) => {
    const c = config(layer);
    checkChannelsLast(c, layer.name);
    const x = g.toNchw(input, layer.name);
    const kernel = pair(c.poolSize, `${layer.name}: poolSize`);
    const attributes: Record<string, AttributeValue> = {
      kernel_shape: kernel,
      strides: pair(c.strides ?? kernel, `${layer.name}: strides`),
      auto_pad: autoPad(c.padding ?? "valid"),
    };
    return { name: g.op(opType, [x.name], layer.name, attributes), layout: "nchw", rank: 4 };
  };
}

/** Elementwise ops over inputs of one layout (4-d inputs all NCHW). */
function elementwise(opType: "Add" | "Mul"): Emit {
  return (g, inputs, layer) => {
    const rank = Math.max(...inputs.map((v) => v.rank));
    if (inputs.some((v) => v.rank !== rank)) throw new OnnxExportUnsupported(`${layer.name}: inputs of different ranks`);
    const xs = rank === 4 ? inputs.map((v) => g.toNchw(v, layer.name)) : inputs;
    let acc = xs[0].name;
    for (let i = 1; i < xs.length; i++) acc = g.op(opType, [acc, xs[i].name], layer.name);
    return { name: acc, layout: xs[0].layout, rank };
  };
}

const EMITTERS: Record<string, Emit> = {
  Conv2D: convolution(false),
  DepthwiseConv2D: convolution(true),
  Activation: (g, [x], layer) => g.activation(x, activationOf(layer), layer.name),
  ReLU: (g, [x], layer) => {
    const { maxValue } = config(layer) as { maxValue?: number | null };
    if (maxValue == null) return g.activation(x, "relu", layer.name);
    return { ...x, name: g.op("Clip", [x.name, g.scalar("zero", 0), g.scalar("max", maxValue)], layer.name) };
  },
  Add: elementwise("Add"),
  Multiply: elementwise("Mul"),
  GlobalAveragePooling2D: (g, [input], layer) => {
    checkChannelsLast(config(layer), layer.name);
    if ((config(layer) as { keepdims?: boolean }).keepdims) throw new OnnxExportUnsupported(`${layer.name}: keepdims`);
    const x = g.toNchw(input, layer.name);
    const pooled = g.op("GlobalAveragePool", [x.name], layer.name);
    return { name: g.op("Flatten", [pooled], `${layer.name}_flat`, { axis: 1 }), layout: "plain", rank: 2 };
  },
  MaxPooling2D: pooling("MaxPool"),
  AveragePooling2D: pooling("AveragePool"),
  BatchNormalization: (g, [input], layer) => {
    const c = config(layer) as { epsilon: number; center: boolean; scale: boolean; axis: number };
    if (!(c.axis === -1 || c.axis === input.rank - 1)) throw new OnnxExportUnsupported(`${layer.name}: BatchNormalization axis ${c.axis}`);
    if (input.rank !== 4 && input.rank !== 2) throw new OnnxExportUnsupported(`${layer.name}: BatchNormalization of rank ${input.rank}`);
    const x = g.toNchw(input, layer.name);
    const weights = weightValues(layer);
    let i = 0;
    const gamma = c.scale ? weights[i++].values : undefined;
    const beta = c.center ? weights[i++].values : undefined;
    const [mean, variance] = [weights[i].values, weights[i + 1].values];
    const n = mean.length;
    const inputs = [
      x.name,
      g.constant(`${layer.name}_gamma`, [n], gamma ?? new Float32Array(n).fill(1)),
      g.constant(`${layer.name}_beta`, [n], beta ?? new Float32Array(n)),
      g.constant(`${layer.name}_mean`, [n], mean),
      g.constant(`${layer.name}_var`, [n], variance),
    ];
    return { ...x, name: g.op("BatchNormalization", inputs, layer.name, { epsilon: { float: c.epsilon } }) };
  },
  Dense: (g, [input], layer) => {
    if (input.rank !== 2) throw new OnnxExportUnsupported(`${layer.name}: Dense over a rank-${input.rank} input`);
    const [kernel, bias] = weightValues(layer);
    let y = g.op("MatMul", [input.name, g.constant(`${layer.name}_W`, kernel.shape, kernel.values)], layer.name);
    if ((config(layer).useBias as boolean | undefined) !== false && bias) y = g.op("Add", [y, g.constant(`${layer.name}_B`, bias.shape, bias.values)], `${layer.name}_bias`);
    return g.activation({ name: y, layout: "plain", rank: 2 }, activationOf(layer), layer.name);
  },
  Flatten: (g, [input], layer) => {
    const x = g.toPlain(input, layer.name);
    return { name: g.op("Flatten", [x.name], layer.name, { axis: 1 }), layout: "plain", rank: 2 };
  },
  Reshape: (g, [input], layer) => {
    const target = (config(layer) as { targetShape: number[] }).targetShape;
    const x = g.toPlain(input, layer.name);
    const shape = g.constant(`${layer.name}_shape`, [target.length + 1], BigInt64Array.from([0, ...target].map((d) => BigInt(d))));
    const y: Value = { name: g.op("Reshape", [x.name, shape], layer.name), layout: "plain", rank: target.length + 1 };
    return y.rank === 4 ? g.toNchw(y, layer.name) : y;
  },
  Softmax: (g, [x], layer) => g.activation(x, "softmax", layer.name),
  Dropout: (_g, [x]) => x,
};

/** Export `model` (one input, one output, only the layers above); throws OnnxExportUnsupported naming what is not handled. */
export function exportLayersModel(layersModel: tf.LayersModel, options: OnnxExportOptions = {}): OnnxExport {
  if (layersModel.inputs.length !== 1 || layersModel.outputs.length !== 1) throw new OnnxExportUnsupported("models with several inputs or outputs");
  const inputShape = layersModel.inputs[0].shape;
  if (inputShape.length !== 4) throw new OnnxExportUnsupported(`a rank-${inputShape.length} input`);
  const g = new GraphBuilder();
  const values = new Map<string, Value>();
  let x = INPUT;
  if (options.inputAffine) {
    x = g.op("Mul", [x, g.scalar("input_scale", options.inputAffine.scale)], "input_scaled");
    x = g.op("Add", [x, g.scalar("input_shift", options.inputAffine.shift)], "input_shifted");
  }
  const outputLayer = (layersModel.outputs[0] as unknown as { sourceLayer: tf.layers.Layer }).sourceLayer;
  for (const layer of layersModel.layers) {
    const className = layer.getClassName();
    if (className === "InputLayer") {
      values.set(layer.name, g.toNchw({ name: x, layout: "plain", rank: 4 }, "input"));
      continue;
    }
    const emit = EMITTERS[className];
    if (!emit) throw new OnnxExportUnsupported(`layer ${layer.name} (${className})`);
    const nodes = (layer as unknown as { inboundNodes: Array<{ inboundLayers: tf.layers.Layer[] }> }).inboundNodes;
    if (!nodes || nodes.length !== 1) throw new OnnxExportUnsupported(`layer ${layer.name} applied ${nodes?.length ?? 0} times`);
    const inputs = nodes[0].inboundLayers.map((l) => {
      const v = values.get(l.name);
      if (!v) throw new OnnxExportUnsupported(`layer ${layer.name}: input ${l.name} comes later in model.layers`);
      return v;
    });
    values.set(layer.name, emit(g, inputs, layer));
  }
  const last = values.get(outputLayer.name);
  if (!last) throw new OnnxExportUnsupported(`output layer ${outputLayer.name} not computed`);
  const output = g.toPlain(last, "output");
  const outputName = "embedding";
  g.nodes.push(node("Identity", [output.name], [outputName], "output"));
  const outputShape = layersModel.outputs[0].shape.slice(1) as number[];
  if (outputShape.some((d) => d === null)) throw new OnnxExportUnsupported("an output with unknown dimensions");
  const graph: GraphParts = {
    name: layersModel.name,
    nodes: g.nodes,
    initializers: g.initializers,
    inputs: [floatValueInfo(INPUT, ["batch", ...(inputShape.slice(1) as Array<number | null>).map((d, i) => d ?? `d${i + 1}`)])],
    outputs: [floatValueInfo(outputName, ["batch", ...outputShape])],
  };
  return { bytes: model(graph, 13, "poi-engagement lib/engine"), inputName: INPUT, outputName, outputShape };
}
