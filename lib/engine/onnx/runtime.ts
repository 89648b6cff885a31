import type * as Ort from "onnxruntime-node";
import { Worker } from "worker_threads";
import { node, model, floatValueInfo } from "./protobuf";

/**
 * onnxruntime-node (Microsoft's ONNX Runtime, CPU build shipped in the npm tarball) for frozen forward passes.
 * Loaded lazily: a machine where the native library cannot load keeps the tfjs path (`onnxRuntime()` says why).
 */

export interface OnnxRuntimeInfo {
  ort: typeof Ort;
  version: string;
  /** Absolute path of the package, for worker threads. */
  modulePath: string;
}

let loaded: OnnxRuntimeInfo | string | null = null;

/** The runtime, or one sentence saying why it cannot be used here. Probed once per process (a one-node graph). */
export async function onnxRuntime(): Promise<OnnxRuntimeInfo | string> {
  if (loaded !== null) return loaded;
  let ort: typeof Ort;
  let modulePath: string;
  try {
    modulePath = require.resolve("onnxruntime-node");
    ort = require(modulePath) as typeof Ort;
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
  loaded = { ort, version: ort.env.versions?.node ?? "unknown", modulePath };
  return loaded;
}

/**
 * The worker that owns one ONNX Runtime session. onnxruntime-node's `run` computes synchronously on the calling
 * thread, so on the main thread it would stall image decoding and augmentation for the whole forward pass; in a worker
 * the next batch is prepared while this one computes. Plain JavaScript (evaluated from this string), so it needs no
 * TypeScript loader. Messages: {bytes, threads, ...} once, then {id, data, shape} → {id, values, data} or {id, error}:
 * the input buffer goes back with the result, so that a caller may fill it again instead of allocating another.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require("worker_threads");
const ort = require(workerData.modulePath);
const ready = ort.InferenceSession.create(workerData.bytes, {
  intraOpNumThreads: workerData.threads,
  interOpNumThreads: 1,
  executionMode: "sequential",
  graphOptimizationLevel: "all",
  // Idle pool threads sleep instead of spinning, leaving the cores to decoding, augmentation and tfjs.
  extra: { session: { intra_op: { allow_spinning: "0" }, inter_op: { allow_spinning: "0" } } },
});
ready.then(() => parentPort.postMessage({ id: 0 }), (err) => parentPort.postMessage({ id: 0, error: String(err && err.message || err) }));
parentPort.on("message", async ({ id, data, shape }) => {
  try {
    const session = await ready;
    const out = await session.run({ [workerData.inputName]: new ort.Tensor("float32", data, shape) });
    const values = out[workerData.outputName].data;
    parentPort.postMessage({ id, values, data }, [values.buffer, data.buffer]);
  } catch (err) {
    parentPort.postMessage({ id, error: String(err && err.message || err) });
  }
});
`;

type Pending = { resolve: (values: Float32Array) => void; reject: (err: Error) => void; giveBack?: (input: Float32Array) => void };

export interface RunOptions {
  /** Move `data`'s buffer to the worker instead of copying it (it is detached here until given back). */
  handOver?: boolean;
  /** Receives a handed-over buffer back, once the run is done with it (before the run's promise resolves). */
  giveBack?: (input: Float32Array) => void;
}

/** A compiled ONNX graph with one float input and one float output, run by its own worker thread. */
export class OnnxSession {
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private failure: Error | null = null;

  private constructor(private readonly worker: Worker) {
    worker.on("message", (message: { id: number; values?: Float32Array; data?: Float32Array; error?: string }) => {
      const waiting = this.pending.get(message.id);
      if (!waiting) return;
      this.pending.delete(message.id);
      if (this.pending.size === 0) worker.unref();
      if (message.data && waiting.giveBack) waiting.giveBack(message.data);
      if (message.error !== undefined) waiting.reject(new Error(`ONNX Runtime: ${message.error}`));
      else waiting.resolve(message.values!);
    });
    const fail = (err: Error) => {
      this.failure = err;
      for (const waiting of this.pending.values()) waiting.reject(err);
      this.pending.clear();
    };
    worker.on("error", fail);
    worker.on("exit", (code) => fail(new Error(`ONNX Runtime worker exited (code ${code})`)));
  }

  /** `threads`: ONNX Runtime's intra-op threads. Resolves once the session is built (graph optimised, weights packed). */
  static async create(runtime: OnnxRuntimeInfo, bytes: Uint8Array, inputName: string, outputName: string, threads: number): Promise<OnnxSession> {
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { modulePath: runtime.modulePath, bytes, inputName, outputName, threads } });
    const session = new OnnxSession(worker);
    await session.request(0);
    return session;
  }

  private request(id: number, message?: object, transfer: ArrayBuffer[] = [], giveBack?: (input: Float32Array) => void): Promise<Float32Array> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, giveBack });
      this.worker.ref(); // keep the process alive while a result is due; idle, the worker never holds it open
      if (message) this.worker.postMessage(message, transfer);
    });
  }

  /**
   * Run on `data` of `shape`; returns the output values. With `handOver`, `data`'s buffer moves to the worker without
   * a copy (it is detached here; `giveBack` receives it again); otherwise the worker gets a copy.
   */
  run(data: Float32Array, shape: number[], options: RunOptions = {}): Promise<Float32Array> {
    const id = this.nextId++;
    const whole = data.byteOffset === 0 && data.byteLength === data.buffer.byteLength && !(data.buffer instanceof SharedArrayBuffer);
    const moved = options.handOver === true && whole;
    const payload = moved ? data : data.slice();
    return this.request(id, { id, data: payload, shape }, [payload.buffer as ArrayBuffer], moved ? options.giveBack : undefined);
  }

  async release(): Promise<void> {
    await this.worker.terminate();
  }
}
