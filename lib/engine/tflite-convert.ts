import * as tf from "@tensorflow/tfjs";
import * as fs from "fs";
import * as path from "path";
import { dequantize, FusedActivation, readTflite, TfliteModel, TfliteOperator, TfliteTensor } from "./tflite";

/**
 * TensorFlow Lite → TensorFlow.js LayersModel, for quantized (or float) image classifiers built from
 * CONV_2D, DEPTHWISE_CONV_2D, ADD, AVERAGE_POOL_2D, RESHAPE and SOFTMAX (MobileNet v1/v2 and the like).
 *
 * How the 8-bit model becomes a float one:
 * - constant tensors (kernels, biases) are dequantized: value = scale · (q − zero_point), per channel where the
 *   file has one scale per channel, computed in float64 and rounded once to float32. Int32 biases use their own
 *   scale (input scale × weight scale), zero point 0.
 * - activations are not quantized: the layers compute in float32. A fused RELU6 becomes the layer's relu6
 *   activation; the 8-bit ranges of the other activation tensors (which clip them in the integer model) are
 *   dropped, as is the uint8 input encoding (the caller's preprocessing applies it: see `inputEncoding`).
 * - TFLite kernels are [out, h, w, in] and become tfjs' [h, w, in, out]; depthwise [1, h, w, in·multiplier] is
 *   already tfjs' [h, w, in, multiplier] in memory order.
 *
 * Layer names: operator i (0-based) becomes `conv_<i+1>`, `dwconv_<i+1>`, `add_<i+1>`, `avgpool_<i+1>`; a 2-D
 * average pool over the whole feature map becomes `global_pool` (GlobalAveragePooling2D, the embedding) plus
 * `global_pool_4d` (a reshape back to [1, 1, C] for the 1×1 classifier convolution that follows); the reshape that
 * feeds the final softmax is `logits` and the softmax `predictions`. This reproduces the float model shipped with the
 * course (../shared/models/mobilenet_v2_1.0_224/tfjs) layer for layer and bit for bit (test/engine/tflite.test.ts).
 */

export const SUPPORTED_TFLITE_OPS = ["CONV_2D", "DEPTHWISE_CONV_2D", "ADD", "AVERAGE_POOL_2D", "RESHAPE", "SOFTMAX"] as const;

/** How the file encodes its input: float input = scale · (q − zeroPoint). */
export interface InputEncoding {
  type: string;
  scale: number;
  zeroPoint: number;
}

export interface TfliteConversion {
  model: tf.LayersModel;
  /** The graph input's quantization (undefined for a float input). */
  inputEncoding?: InputEncoding;
  /** Operator counts by type, for the conversion summary. */
  operators: Record<string, number>;
}

const LAYER_ACTIVATIONS: Partial<Record<FusedActivation, string>> = { none: "linear", relu: "relu", relu6: "relu6", tanh: "tanh" };

function layerActivation(op: TfliteOperator, activation: FusedActivation): string {
  const name = LAYER_ACTIVATIONS[activation];
  if (!name) throw new Error(`tflite → tfjs: operator ${op.index} (${op.op}) has fused activation ${activation}, which tfjs layers do not have`);
  return name;
}

function constant(model: TfliteModel, op: TfliteOperator, slot: number): TfliteTensor {
  const tensor = model.tensors[op.inputs[slot]];
  if (!tensor?.data) throw new Error(`tflite → tfjs: operator ${op.index} (${op.op}) input ${slot} is not a constant tensor`);
  return tensor;
}

/** [out, h, w, in] → [h, w, in, out]. */
function convKernel(tensor: TfliteTensor): tf.Tensor4D {
  const [outC, h, w, inC] = tensor.shape;
  const values = dequantize(tensor);
  const out = new Float32Array(values.length);
  for (let o = 0; o < outC; o++) {
    for (let p = 0; p < h * w * inC; p++) out[p * outC + o] = values[o * h * w * inC + p];
  }
  return tf.tensor4d(out, [h, w, inC, outC]);
}

type T = tf.SymbolicTensor;

/** Build the float LayersModel of a parsed TFLite model (weights set). `name`: the model's name. */
export function tfliteToLayersModel(tflite: TfliteModel, name: string): TfliteConversion {
  if (tflite.inputs.length !== 1 || tflite.outputs.length !== 1) {
    throw new Error(`tflite → tfjs: expected one input and one output, found ${tflite.inputs.length} and ${tflite.outputs.length}`);
  }
  const inputTensor = tflite.tensors[tflite.inputs[0]];
  if (inputTensor.shape.length !== 4) throw new Error(`tflite → tfjs: input "${inputTensor.name}" has shape [${inputTensor.shape}], expected NHWC`);
  const inputQuant = inputTensor.quantization;
  const unsupported = tflite.operators.filter((op) => !(SUPPORTED_TFLITE_OPS as readonly string[]).includes(op.op));
  if (unsupported.length > 0) {
    throw new Error(
      `tflite → tfjs: unsupported operator(s) ${[...new Set(unsupported.map((op) => op.op))].join(", ")} ` +
        `(first: operator ${unsupported[0].index}); supported: ${SUPPORTED_TFLITE_OPS.join(", ")}`,
    );
  }

  const symbols = new Map<number, T>();
  const input = tf.input({ shape: inputTensor.shape.slice(1), name: /^[A-Za-z][\w.-]*$/.test(inputTensor.name) ? inputTensor.name : "input" });
  symbols.set(tflite.inputs[0], input);
  const weights: Array<[tf.layers.Layer, tf.Tensor[]]> = [];
  const operators: Record<string, number> = {};
  const finalOutput = tflite.outputs[0];
  const consumer = (tensorIndex: number) => tflite.operators.find((op) => op.inputs.includes(tensorIndex));

  const activationInput = (op: TfliteOperator, slot = 0): T => {
    const symbol = symbols.get(op.inputs[slot]);
    if (!symbol) throw new Error(`tflite → tfjs: operator ${op.index} (${op.op}) reads tensor ${op.inputs[slot]} before any operator writes it`);
    return symbol;
  };

  for (const op of tflite.operators) {
    operators[op.op] = (operators[op.op] ?? 0) + 1;
    const n = op.index + 1;
    const options = op.options;
    let output: T;
    switch (op.op) {
      case "CONV_2D": {
        if (options?.kind !== "conv2d") throw new Error(`tflite → tfjs: operator ${op.index} (CONV_2D) has no Conv2DOptions`);
        const kernel = constant(tflite, op, 1);
        const hasBias = op.inputs.length > 2 && op.inputs[2] >= 0;
        const layer = tf.layers.conv2d({
          name: `conv_${n}`,
          filters: kernel.shape[0],
          kernelSize: [kernel.shape[1], kernel.shape[2]],
          strides: options.strides,
          padding: options.padding,
          dilationRate: options.dilation,
          activation: layerActivation(op, options.activation) as "relu6",
          useBias: hasBias,
        });
        output = layer.apply(activationInput(op)) as T;
        weights.push([layer, hasBias ? [convKernel(kernel), tf.tensor1d(dequantize(constant(tflite, op, 2)))] : [convKernel(kernel)]]);
        break;
      }
      case "DEPTHWISE_CONV_2D": {
        if (options?.kind !== "depthwiseConv2d") throw new Error(`tflite → tfjs: operator ${op.index} (DEPTHWISE_CONV_2D) has no options`);
        const kernel = constant(tflite, op, 1);
        const [, h, w, channels] = kernel.shape;
        const inChannels = channels / options.depthMultiplier;
        const hasBias = op.inputs.length > 2 && op.inputs[2] >= 0;
        const layer = tf.layers.depthwiseConv2d({
          name: `dwconv_${n}`,
          kernelSize: [h, w],
          depthMultiplier: options.depthMultiplier,
          strides: options.strides,
          padding: options.padding,
          dilationRate: options.dilation,
          activation: layerActivation(op, options.activation) as "relu6",
          useBias: hasBias,
        });
        output = layer.apply(activationInput(op)) as T;
        const depthwise = tf.tensor4d(dequantize(kernel), [h, w, inChannels, options.depthMultiplier]);
        weights.push([layer, hasBias ? [depthwise, tf.tensor1d(dequantize(constant(tflite, op, 2)))] : [depthwise]]);
        break;
      }
      case "ADD": {
        const sum = tf.layers.add({ name: `add_${n}` }).apply([activationInput(op, 0), activationInput(op, 1)]) as T;
        const activation = options?.kind === "activation" ? options.activation : "none";
        output =
          activation === "none"
            ? sum
            : (tf.layers.activation({ name: `add_${n}_${activation}`, activation: layerActivation(op, activation) as "relu6" }).apply(sum) as T);
        break;
      }
      case "AVERAGE_POOL_2D": {
        if (options?.kind !== "pool2d") throw new Error(`tflite → tfjs: operator ${op.index} (AVERAGE_POOL_2D) has no Pool2DOptions`);
        if (options.activation !== "none") throw new Error(`tflite → tfjs: operator ${op.index} (AVERAGE_POOL_2D) has a fused ${options.activation}`);
        const x = activationInput(op);
        const [, height, width, channels] = x.shape;
        if (options.padding === "valid" && options.filter[0] === height && options.filter[1] === width) {
          const pooled = tf.layers.globalAveragePooling2d({ name: "global_pool" }).apply(x) as T;
          output = tf.layers.reshape({ name: "global_pool_4d", targetShape: [1, 1, channels as number] }).apply(pooled) as T;
        } else {
          output = tf.layers
            .averagePooling2d({ name: `avgpool_${n}`, poolSize: options.filter, strides: options.strides, padding: options.padding })
            .apply(x) as T;
        }
        break;
      }
      case "RESHAPE": {
        const target = tflite.tensors[op.outputs[0]].shape.slice(1);
        const next = consumer(op.outputs[0]);
        const feedsFinalSoftmax = next?.op === "SOFTMAX" && next.outputs[0] === finalOutput;
        output = tf.layers.reshape({ name: feedsFinalSoftmax ? "logits" : `reshape_${n}`, targetShape: target }).apply(activationInput(op)) as T;
        break;
      }
      case "SOFTMAX": {
        if (options?.kind === "softmax" && options.beta !== 1) throw new Error(`tflite → tfjs: operator ${op.index} (SOFTMAX) has beta ${options.beta}, only 1 is supported`);
        const x = activationInput(op);
        output = tf.layers.softmax({ name: op.outputs[0] === finalOutput ? "predictions" : `softmax_${n}`, axis: x.shape.length - 1 }).apply(x) as T;
        break;
      }
      default:
        throw new Error(`tflite → tfjs: unsupported operator ${op.op}`);
    }
    symbols.set(op.outputs[0], output);
  }
  const out = symbols.get(finalOutput);
  if (!out) throw new Error(`tflite → tfjs: no operator writes the output tensor ${finalOutput}`);
  const model = tf.model({ inputs: input, outputs: out, name });
  for (const [layer, values] of weights) {
    layer.setWeights(values);
    tf.dispose(values);
  }
  return {
    model,
    inputEncoding: inputQuant ? { type: inputTensor.type, scale: inputQuant.scale[0], zeroPoint: inputQuant.zeroPoint[0] ?? 0 } : undefined,
    operators,
  };
}

/** Weight shard size of the files written here (as in the shipped conversion). */
export const SHARD_BYTES = 4_000_000;

/**
 * Save a LayersModel as model.json + group1-shard<i>of<n>.bin in `dir` (created; existing files of the same names
 * are replaced), loadable by tf.loadLayersModel and lib/engine's loadLayersModelFrom.
 */
export async function saveLayersModelFiles(model: tf.LayersModel, dir: string, convertedBy: string): Promise<string[]> {
  let written: string[] = [];
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const data = new Uint8Array(artifacts.weightData as ArrayBuffer);
      const shardCount = Math.max(1, Math.ceil(data.byteLength / SHARD_BYTES));
      const paths = Array.from({ length: shardCount }, (_, i) => `group1-shard${i + 1}of${shardCount}.bin`);
      const json = {
        format: "layers-model",
        generatedBy: `tfjs ${tf.version.tfjs}`,
        convertedBy,
        modelTopology: artifacts.modelTopology,
        weightsManifest: [{ paths, weights: artifacts.weightSpecs }],
      };
      fs.mkdirSync(dir, { recursive: true });
      paths.forEach((name, i) => fs.writeFileSync(path.join(dir, name), data.subarray(i * SHARD_BYTES, (i + 1) * SHARD_BYTES)));
      fs.writeFileSync(path.join(dir, "model.json"), JSON.stringify(json));
      written = ["model.json", ...paths].map((name) => path.join(dir, name));
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: "JSON" } };
    }),
  );
  return written;
}

export const CONVERTED_BY = "lib/engine/tflite-convert.ts (dequantized TFLite)";

/** Model name from a file name: mobilenet_v2_1.0_224_quant.tflite → mobilenet_v2_1.0_224. */
export function modelNameFromFile(file: string): string {
  return path.basename(file).replace(/\.tflite$/i, "").replace(/_quant$/i, "");
}

/** Read a .tflite file and write its float tfjs LayersModel into `outDir`. */
export async function convertTfliteFile(
  tflitePath: string,
  outDir: string,
): Promise<{ files: string[]; conversion: TfliteConversion; tflite: TfliteModel }> {
  if (!fs.existsSync(tflitePath)) throw new Error(`tflite → tfjs: ${tflitePath} does not exist`);
  const tflite = readTflite(fs.readFileSync(tflitePath));
  const conversion = tfliteToLayersModel(tflite, modelNameFromFile(tflitePath));
  const files = await saveLayersModelFiles(conversion.model, outDir, CONVERTED_BY);
  return { files, conversion, tflite };
}
