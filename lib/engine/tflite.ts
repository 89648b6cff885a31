/**
 * A reader for TensorFlow Lite model files (.tflite): the FlatBuffer described by TensorFlow's
 * tensorflow/lite/schema/schema.fbs, decoded here without a FlatBuffers dependency.
 *
 * Only reading is supported, and only what a converter needs: the main subgraph's tensors (shape, type,
 * quantization, constant data) and operators (builtin code, inputs, outputs, builtin options of the
 * convolution, pooling, add, reshape and softmax families). Unknown operators are returned with their code and
 * no options, so a caller can refuse them by name.
 */

// ---------- FlatBuffers wire format ----------
//
// A table starts with an int32 "soffset": its vtable lies at (table − soffset). A vtable is uint16s: vtable size,
// table size, then one offset per field (0 = field absent, use the schema default). Scalars are stored inline at
// table + field offset; tables, vectors and strings are referenced by a uint32 offset relative to where it is
// stored. A vector (or string) is a uint32 length followed by its elements; a vector of tables holds uint32
// offsets. Unions take two field slots: the type (ubyte) then the value (a table offset). Little-endian throughout.

class FlatTable {
  constructor(
    private readonly view: DataView,
    readonly position: number,
  ) {}

  /** Byte position of field `index` inside the table, or 0 when the field is absent. */
  private field(index: number): number {
    const vtable = this.position - this.view.getInt32(this.position, true);
    const vtableSize = this.view.getUint16(vtable, true);
    const slot = 4 + 2 * index;
    if (slot >= vtableSize) return 0;
    const offset = this.view.getUint16(vtable + slot, true);
    return offset === 0 ? 0 : this.position + offset;
  }

  private deref(at: number): number {
    return at + this.view.getUint32(at, true);
  }

  has(index: number): boolean {
    return this.field(index) !== 0;
  }

  uint8(index: number, fallback = 0): number {
    const at = this.field(index);
    return at ? this.view.getUint8(at) : fallback;
  }

  int8(index: number, fallback = 0): number {
    const at = this.field(index);
    return at ? this.view.getInt8(at) : fallback;
  }

  int32(index: number, fallback = 0): number {
    const at = this.field(index);
    return at ? this.view.getInt32(at, true) : fallback;
  }

  uint32(index: number, fallback = 0): number {
    const at = this.field(index);
    return at ? this.view.getUint32(at, true) : fallback;
  }

  float32(index: number, fallback = 0): number {
    const at = this.field(index);
    return at ? this.view.getFloat32(at, true) : fallback;
  }

  uint64(index: number, fallback = 0): number {
    const at = this.field(index);
    return at ? Number(this.view.getBigUint64(at, true)) : fallback;
  }

  table(index: number): FlatTable | undefined {
    const at = this.field(index);
    return at ? new FlatTable(this.view, this.deref(at)) : undefined;
  }

  string(index: number): string | undefined {
    const at = this.field(index);
    if (!at) return undefined;
    const start = this.deref(at);
    const length = this.view.getUint32(start, true);
    return new TextDecoder().decode(new Uint8Array(this.view.buffer, this.view.byteOffset + start + 4, length));
  }

  /** [byte position of element 0, element count] of a vector field; [0, 0] when absent. */
  private vector(index: number): [number, number] {
    const at = this.field(index);
    if (!at) return [0, 0];
    const start = this.deref(at);
    return [start + 4, this.view.getUint32(start, true)];
  }

  int32s(index: number): number[] {
    const [start, length] = this.vector(index);
    return Array.from({ length }, (_, i) => this.view.getInt32(start + 4 * i, true));
  }

  float32s(index: number): number[] {
    const [start, length] = this.vector(index);
    return Array.from({ length }, (_, i) => this.view.getFloat32(start + 4 * i, true));
  }

  int64s(index: number): number[] {
    const [start, length] = this.vector(index);
    return Array.from({ length }, (_, i) => Number(this.view.getBigInt64(start + 8 * i, true)));
  }

  /** A ubyte vector as a view into the file (no copy). */
  bytes(index: number): Uint8Array {
    const [start, length] = this.vector(index);
    return new Uint8Array(this.view.buffer, this.view.byteOffset + start, length);
  }

  tables(index: number): FlatTable[] {
    const [start, length] = this.vector(index);
    return Array.from({ length }, (_, i) => new FlatTable(this.view, this.deref(start + 4 * i)));
  }
}

// ---------- the TFLite schema (the parts read here) ----------

/** TensorType in schema.fbs. */
export const TENSOR_TYPES = ["float32", "float16", "int32", "uint8", "int64", "string", "bool", "int16", "complex64", "int8"] as const;
export type TfliteTensorType = (typeof TENSOR_TYPES)[number] | `type${number}`;

/** BuiltinOperator codes of the operators a converter meets in image classifiers. */
export const BUILTIN_OPERATORS: Readonly<Record<number, string>> = {
  0: "ADD",
  1: "AVERAGE_POOL_2D",
  2: "CONCATENATION",
  3: "CONV_2D",
  4: "DEPTHWISE_CONV_2D",
  6: "DEQUANTIZE",
  9: "FULLY_CONNECTED",
  14: "LOGISTIC",
  17: "MAX_POOL_2D",
  18: "MUL",
  19: "RELU",
  21: "RELU6",
  22: "RESHAPE",
  25: "SOFTMAX",
  28: "TANH",
  32: "CUSTOM",
  34: "PAD",
  40: "MEAN",
  114: "QUANTIZE",
};

export type Padding = "same" | "valid";
/** ActivationFunctionType in schema.fbs. */
export const ACTIVATIONS = ["none", "relu", "relu_n1_to_1", "relu6", "tanh", "sign_bit"] as const;
export type FusedActivation = (typeof ACTIVATIONS)[number];

export interface Quantization {
  /** One scale per channel of `quantizedDimension`, or a single one for the whole tensor. */
  scale: number[];
  zeroPoint: number[];
  quantizedDimension: number;
  min: number[];
  max: number[];
}

export interface TfliteTensor {
  index: number;
  name: string;
  shape: number[];
  type: TfliteTensorType;
  /** Constant data (weights, biases, shapes) in the file's byte order; undefined for activations. */
  data?: Uint8Array;
  quantization?: Quantization;
}

export interface Conv2DOptions {
  kind: "conv2d";
  padding: Padding;
  strides: [number, number];
  dilation: [number, number];
  activation: FusedActivation;
}
export interface DepthwiseConv2DOptions {
  kind: "depthwiseConv2d";
  padding: Padding;
  strides: [number, number];
  dilation: [number, number];
  depthMultiplier: number;
  activation: FusedActivation;
}
export interface Pool2DOptions {
  kind: "pool2d";
  padding: Padding;
  strides: [number, number];
  filter: [number, number];
  activation: FusedActivation;
}
export interface ActivationOptions {
  kind: "activation";
  activation: FusedActivation;
}
export interface ReshapeOptions {
  kind: "reshape";
  newShape: number[];
}
export interface SoftmaxOptions {
  kind: "softmax";
  beta: number;
}
export type BuiltinOptions =
  | Conv2DOptions
  | DepthwiseConv2DOptions
  | Pool2DOptions
  | ActivationOptions
  | ReshapeOptions
  | SoftmaxOptions;

export interface TfliteOperator {
  index: number;
  /** Builtin name (e.g. "CONV_2D"), `BUILTIN_<code>` for codes not listed, or `CUSTOM:<name>`. */
  op: string;
  /** Tensor indices; -1 marks an omitted optional input. */
  inputs: number[];
  outputs: number[];
  options?: BuiltinOptions;
}

export interface TfliteModel {
  version: number;
  description?: string;
  /** The main subgraph (subgraph 0). */
  tensors: TfliteTensor[];
  inputs: number[];
  outputs: number[];
  operators: TfliteOperator[];
  subgraphCount: number;
}

const PADDINGS: Padding[] = ["same", "valid"];

function activation(code: number): FusedActivation {
  const name = ACTIVATIONS[code];
  if (!name) throw new Error(`tflite: unknown fused activation code ${code}`);
  return name;
}

function padding(code: number): Padding {
  const name = PADDINGS[code];
  if (!name) throw new Error(`tflite: unknown padding code ${code}`);
  return name;
}

/** BuiltinOptions union member numbers (their position in the union, 1-based) for the tables read here. */
const OPTION_TYPES = { Conv2D: 1, DepthwiseConv2D: 2, Pool2D: 5, FullyConnected: 8, Softmax: 9, Add: 11, Reshape: 17, Mul: 21 } as const;

function readOptions(type: number, table: FlatTable): BuiltinOptions | undefined {
  switch (type) {
    case OPTION_TYPES.Conv2D:
      return {
        kind: "conv2d",
        padding: padding(table.int8(0)),
        strides: [table.int32(2), table.int32(1)],
        activation: activation(table.int8(3)),
        dilation: [table.int32(5, 1), table.int32(4, 1)],
      };
    case OPTION_TYPES.DepthwiseConv2D:
      return {
        kind: "depthwiseConv2d",
        padding: padding(table.int8(0)),
        strides: [table.int32(2), table.int32(1)],
        depthMultiplier: table.int32(3),
        activation: activation(table.int8(4)),
        dilation: [table.int32(6, 1), table.int32(5, 1)],
      };
    case OPTION_TYPES.Pool2D:
      return {
        kind: "pool2d",
        padding: padding(table.int8(0)),
        strides: [table.int32(2), table.int32(1)],
        filter: [table.int32(4), table.int32(3)],
        activation: activation(table.int8(5)),
      };
    case OPTION_TYPES.FullyConnected:
    case OPTION_TYPES.Add:
    case OPTION_TYPES.Mul:
      return { kind: "activation", activation: activation(table.int8(0)) };
    case OPTION_TYPES.Softmax:
      return { kind: "softmax", beta: table.float32(0) };
    case OPTION_TYPES.Reshape:
      return { kind: "reshape", newShape: table.int32s(0) };
    default:
      return undefined;
  }
}

/** Parse a .tflite file's bytes. Constant tensor data are views into `bytes` (keep it alive). */
export function readTflite(bytes: Uint8Array): TfliteModel {
  if (bytes.byteLength < 8) throw new Error(`tflite: ${bytes.byteLength} bytes is too short for a model file`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const identifier = new TextDecoder().decode(bytes.subarray(4, 8));
  if (identifier !== "TFL3") {
    throw new Error(`tflite: file identifier is ${JSON.stringify(identifier)}, expected "TFL3" (not a TensorFlow Lite model)`);
  }
  const model = new FlatTable(view, view.getUint32(0, true));
  // Model: version 0, operator_codes 1, subgraphs 2, description 3, buffers 4.
  const opNames = model.tables(1).map((code) => {
    // OperatorCode: deprecated_builtin_code (byte) 0, custom_code 1, version 2, builtin_code (int32) 3.
    // Files before schema v3a only have field 0; newer ones put 127 there for codes that do not fit a byte.
    const builtin = Math.max(code.int8(0), code.int32(3));
    if (builtin === 32) return `CUSTOM:${code.string(1) ?? "?"}`;
    return BUILTIN_OPERATORS[builtin] ?? `BUILTIN_${builtin}`;
  });
  const buffers = model.tables(4).map((buffer) => {
    // Buffer: data 0; offset 1 and size 2 for data stored after the FlatBuffer (models over 2 GB).
    const offset = buffer.uint64(1);
    if (offset > 1) return bytes.subarray(offset, offset + buffer.uint64(2));
    return buffer.bytes(0);
  });
  const subgraphs = model.tables(2);
  if (subgraphs.length === 0) throw new Error("tflite: the model has no subgraph");
  // SubGraph: tensors 0, inputs 1, outputs 2, operators 3, name 4.
  const graph = subgraphs[0];
  const tensors = graph.tables(0).map((tensor, index): TfliteTensor => {
    // Tensor: shape 0, type 1, buffer 2, name 3, quantization 4.
    const typeCode = tensor.int8(1);
    const data = buffers[tensor.uint32(2)];
    const q = tensor.table(4);
    // QuantizationParameters: min 0, max 1, scale 2, zero_point 3, details_type 4, details 5, quantized_dimension 6.
    const scale = q?.float32s(2) ?? [];
    return {
      index,
      name: tensor.string(3) ?? `tensor_${index}`,
      shape: tensor.int32s(0),
      type: TENSOR_TYPES[typeCode] ?? `type${typeCode}`,
      data: data && data.byteLength > 0 ? data : undefined,
      quantization:
        q && scale.length > 0
          ? { scale, zeroPoint: q.int64s(3), quantizedDimension: q.int32(6), min: q.float32s(0), max: q.float32s(1) }
          : undefined,
    };
  });
  const operators = graph.tables(3).map((op, index): TfliteOperator => {
    // Operator: opcode_index 0, inputs 1, outputs 2, builtin_options_type 3, builtin_options 4.
    const name = opNames[op.uint32(0)];
    if (name === undefined) throw new Error(`tflite: operator ${index} refers to operator code ${op.uint32(0)}, which does not exist`);
    const optionsTable = op.table(4);
    return {
      index,
      op: name,
      inputs: op.int32s(1),
      outputs: op.int32s(2),
      options: optionsTable ? readOptions(op.uint8(3), optionsTable) : undefined,
    };
  });
  return {
    version: model.uint32(0),
    description: model.string(3),
    tensors,
    inputs: graph.int32s(1),
    outputs: graph.int32s(2),
    operators,
    subgraphCount: subgraphs.length,
  };
}

/**
 * A constant tensor's values as floats: quantized integers become scale · (q − zero_point) (per channel along
 * `quantizedDimension` when there are several scales), computed in float64 and rounded once to float32.
 */
export function dequantize(tensor: TfliteTensor): Float32Array {
  if (!tensor.data) throw new Error(`tflite: tensor ${tensor.index} "${tensor.name}" has no constant data`);
  const { data } = tensor;
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const count = tensor.shape.reduce((a, b) => a * b, 1);
  const raw = new Float64Array(count);
  const read: Partial<Record<TfliteTensorType, (i: number) => number>> = {
    float32: (i) => view.getFloat32(4 * i, true),
    uint8: (i) => view.getUint8(i),
    int8: (i) => view.getInt8(i),
    int16: (i) => view.getInt16(2 * i, true),
    int32: (i) => view.getInt32(4 * i, true),
  };
  const reader = read[tensor.type];
  if (!reader) throw new Error(`tflite: tensor ${tensor.index} "${tensor.name}": cannot read type ${tensor.type}`);
  const bytesPer = { float32: 4, uint8: 1, int8: 1, int16: 2, int32: 4 }[tensor.type as "float32"];
  if (data.byteLength !== count * bytesPer) {
    throw new Error(`tflite: tensor ${tensor.index} "${tensor.name}": ${data.byteLength} bytes for shape [${tensor.shape}] of ${tensor.type}`);
  }
  for (let i = 0; i < count; i++) raw[i] = reader(i);
  const q = tensor.quantization;
  if (tensor.type === "float32" || !q) return Float32Array.from(raw);
  const out = new Float32Array(count);
  if (q.scale.length === 1) {
    const scale = q.scale[0];
    const zero = q.zeroPoint[0] ?? 0;
    for (let i = 0; i < count; i++) out[i] = scale * (raw[i] - zero);
    return out;
  }
  // Per-channel: the channel of flat index i along axis d is floor(i / inner) mod shape[d].
  const axis = q.quantizedDimension;
  if (tensor.shape[axis] !== q.scale.length) {
    throw new Error(`tflite: tensor ${tensor.index} "${tensor.name}": ${q.scale.length} scales for dimension ${axis} of size ${tensor.shape[axis]}`);
  }
  const inner = tensor.shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  for (let i = 0; i < count; i++) {
    const channel = Math.floor(i / inner) % q.scale.length;
    out[i] = q.scale[channel] * (raw[i] - (q.zeroPoint[channel] ?? 0));
  }
  return out;
}
