/**
 * The few ONNX protobuf messages a convolutional inference graph needs, written by hand (no protobuf dependency).
 * Field numbers and types are those of onnx/onnx.proto (proto2): every repeated scalar is written unpacked, which
 * every protobuf parser accepts, and tensors carry their values as little-endian `raw_data`.
 */

/** ONNX TensorProto.DataType values used here. */
export const ONNX_FLOAT = 1;
export const ONNX_INT64 = 7;

/** Growable byte buffer with protobuf's wire encodings. */
class Writer {
  private bytes = new Uint8Array(256);
  length = 0;

  private reserve(extra: number): void {
    if (this.length + extra <= this.bytes.length) return;
    let size = this.bytes.length * 2;
    while (size < this.length + extra) size *= 2;
    const grown = new Uint8Array(size);
    grown.set(this.bytes.subarray(0, this.length));
    this.bytes = grown;
  }

  /** Base-128 varint of a non-negative or negative integer (negatives as 64-bit two's complement, 10 bytes). */
  varint(value: number | bigint): void {
    let v = BigInt.asUintN(64, BigInt(value));
    this.reserve(10);
    do {
      let byte = Number(v & 0x7fn);
      v >>= 7n;
      if (v !== 0n) byte |= 0x80;
      this.bytes[this.length++] = byte;
    } while (v !== 0n);
  }

  tag(field: number, wireType: 0 | 1 | 2 | 5): void {
    this.varint((field << 3) | wireType);
  }

  raw(data: Uint8Array): void {
    this.reserve(data.length);
    this.bytes.set(data, this.length);
    this.length += data.length;
  }

  finish(): Uint8Array {
    return this.bytes.slice(0, this.length);
  }
}

/** A message under construction: fields are appended in call order. */
export class Message {
  private readonly w = new Writer();

  int(field: number, value: number | bigint): this {
    this.w.tag(field, 0);
    this.w.varint(value);
    return this;
  }

  ints(field: number, values: readonly number[]): this {
    for (const v of values) this.int(field, v);
    return this;
  }

  float(field: number, value: number): this {
    this.w.tag(field, 5);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, value, true);
    this.w.raw(b);
    return this;
  }

  bytes(field: number, data: Uint8Array): this {
    this.w.tag(field, 2);
    this.w.varint(data.length);
    this.w.raw(data);
    return this;
  }

  string(field: number, text: string): this {
    return this.bytes(field, new TextEncoder().encode(text));
  }

  strings(field: number, texts: readonly string[]): this {
    for (const t of texts) this.string(field, t);
    return this;
  }

  message(field: number, message: Message): this {
    return this.bytes(field, message.finish());
  }

  messages(field: number, messages: readonly Message[]): this {
    for (const m of messages) this.message(field, m);
    return this;
  }

  finish(): Uint8Array {
    return this.w.finish();
  }
}

// ---------------------------------------------------------------- ONNX messages

export type AttributeValue = number | string | readonly number[] | { float: number };

/** AttributeProto: integers are INT, `{ float }` FLOAT, strings STRING, arrays INTS. */
export function attribute(name: string, value: AttributeValue): Message {
  const m = new Message().string(1, name);
  if (typeof value === "number") return m.int(3, value).int(20, 2);
  if (typeof value === "string") return m.string(4, value).int(20, 3);
  if (Array.isArray(value)) return m.ints(8, value as number[]).int(20, 7);
  return m.float(2, (value as { float: number }).float).int(20, 1);
}

/** NodeProto. */
export function node(opType: string, inputs: readonly string[], outputs: readonly string[], name: string, attributes: Record<string, AttributeValue> = {}): Message {
  const m = new Message().strings(1, inputs).strings(2, outputs).string(3, name).string(4, opType);
  for (const [key, value] of Object.entries(attributes)) m.message(5, attribute(key, value));
  return m;
}

/** TensorProto with raw little-endian data (float32 or int64). */
export function tensor(name: string, dims: readonly number[], data: Float32Array | BigInt64Array): Message {
  const expected = dims.reduce((a, b) => a * b, 1);
  if (data.length !== expected) throw new Error(`onnx tensor ${name}: ${data.length} values for shape [${dims.join(", ")}]`);
  const m = new Message().ints(1, dims).int(2, data instanceof Float32Array ? ONNX_FLOAT : ONNX_INT64).string(8, name);
  // raw_data is little-endian; typed arrays are in the platform's order, little-endian on every platform Node runs on.
  return m.bytes(9, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
}

/** ValueInfoProto of a float tensor; a string dimension is symbolic (e.g. the batch). */
export function floatValueInfo(name: string, shape: ReadonlyArray<number | string>): Message {
  const dims = shape.map((d) => (typeof d === "number" ? new Message().int(1, d) : new Message().string(2, d)));
  const tensorType = new Message().int(1, ONNX_FLOAT).message(2, new Message().messages(1, dims));
  return new Message().string(1, name).message(2, new Message().message(1, tensorType));
}

export interface GraphParts {
  name: string;
  nodes: Message[];
  initializers: Message[];
  inputs: Message[];
  outputs: Message[];
}

/** ModelProto holding one graph, default ONNX domain at `opset`. */
export function model(graph: GraphParts, opset: number, producer: string): Uint8Array {
  const g = new Message()
    .messages(1, graph.nodes)
    .string(2, graph.name)
    .messages(5, graph.initializers)
    .messages(11, graph.inputs)
    .messages(12, graph.outputs);
  return new Message()
    .int(1, 8) // IR version 8 (ONNX 1.10+), enough for opset 13
    .string(2, producer)
    .message(7, g)
    .message(8, new Message().string(1, "").int(2, opset))
    .finish();
}
