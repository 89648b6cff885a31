import type * as Ort from "onnxruntime-node";
import { node, model, floatValueInfo } from "./protobuf";

/**
 * onnxruntime-node (Microsoft's ONNX Runtime, CPU build shipped in the npm tarball) for frozen forward passes.
 * Loaded lazily: a machine where the native library cannot load keeps the tfjs path (`onnxRuntime()` says why).
 */

export interface OnnxRuntimeInfo {
  ort: typeof Ort;
  version: string;
}

let loaded: OnnxRuntimeInfo | string | null = null;

/** The runtime, or one sentence saying why it cannot be used here. Probed once per process (a one-node graph). */
export async function onnxRuntime(): Promise<OnnxRuntimeInfo | string> {
  if (loaded !== null) return loaded;
  let ort: typeof Ort;
  try {
    ort = require("onnxruntime-node") as typeof Ort;
  } catch (err) {
    loaded = `onnxruntime-node does not load (${(err as Error).message.split("\n")[0]})`;
    return loaded;
  }
  try {
    const probe = model(
      { name: "probe", nodes: [node("Relu", ["x"], ["y"], "relu")], initializers: [], inputs: [floatValueInfo("x", [2])], outputs: [floatValueInfo("y", [2])] },
      13,
      "probe",
    );
    const session = await ort.InferenceSession.create(probe, { intraOpNumThreads: 1 });
    const out = await session.run({ x: new ort.Tensor("float32", Float32Array.of(-1, 2), [2]) });
    const y = out.y.data as Float32Array;
    await session.release();
    if (y[0] !== 0 || y[1] !== 2) throw new Error(`probe returned [${Array.from(y).join(", ")}]`);
  } catch (err) {
    loaded = `onnxruntime-node loads but fails a test graph (${(err as Error).message.split("\n")[0]})`;
    return loaded;
  }
  loaded = { ort, version: ort.env.versions?.node ?? "unknown" };
  return loaded;
}

/** A compiled ONNX graph with one float input and one float output. */
export class OnnxSession {
  private constructor(
    private readonly ort: typeof Ort,
    private readonly session: Ort.InferenceSession,
    private readonly inputName: string,
    private readonly outputName: string,
  ) {}

  /**
   * `threads`: intra-op threads (ONNX Runtime's own pool). Spinning is off, so its threads sleep between runs
   * instead of taking the cores from image decoding, augmentation and tfjs.
   */
  static async create(runtime: OnnxRuntimeInfo, bytes: Uint8Array, inputName: string, outputName: string, threads: number): Promise<OnnxSession> {
    const session = await runtime.ort.InferenceSession.create(bytes, {
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      executionMode: "sequential",
      graphOptimizationLevel: "all",
      extra: { session: { intra_op: { allow_spinning: "0" }, inter_op: { allow_spinning: "0" } } },
    });
    return new OnnxSession(runtime.ort, session, inputName, outputName);
  }

  /** Run on `data` of `shape`; returns the output values (a fresh array). Blocks the JS thread while it computes. */
  async run(data: Float32Array, shape: number[]): Promise<Float32Array> {
    const input = new this.ort.Tensor("float32", data, shape);
    const result = await this.session.run({ [this.inputName]: input });
    return result[this.outputName].data as Float32Array;
  }

  release(): Promise<void> {
    return this.session.release();
  }
}
