import * as tf from "@tensorflow/tfjs";
import * as os from "os";
import { scaleToMinusOneOne, type Backbone } from "./backbones";
import { exportLayersModel, OnnxExportUnsupported } from "./onnx/export";
import { onnxRuntime, OnnxSession } from "./onnx/runtime";

/**
 * Where a frozen backbone's forward pass runs (embedding photos): ONNX Runtime or the tfjs backend.
 *
 * On a CPU backend (wasm, cpu, tfjs-node) ONNX Runtime runs MobileNetV2 several times faster than tfjs' XNNPACK wasm
 * (bench/README.md), with the same results to float rounding (test/engine/onnx.test.ts). On a GPU backend
 * (tfjs-node-gpu, webgpu, webgl) the tfjs path keeps the GPU. Only frozen models (`model.trainable === false`: the
 * pretrained backbones) go to ONNX Runtime, whose graph is a snapshot of the weights taken at the first batch;
 * a trainable network always runs live in tfjs. Setting: INFERENCE_RUNTIME=auto | onnxruntime | tfjs.
 */

export type InferenceRuntime = "onnxruntime" | "tfjs";

export interface InferenceChoice {
  runtime: InferenceRuntime;
  /** One sentence: why (part of the engine line). */
  reason: string;
  /** ONNX Runtime's intra-op threads (tfjs: the backend's own). */
  threads: number;
}

export const INFERENCE_SETTING = "INFERENCE_RUNTIME";

export function parseInferenceSetting(value: string | undefined): InferenceRuntime | undefined {
  const v = value?.trim().toLowerCase();
  if (v === undefined || v === "" || v === "auto") return undefined;
  if (v === "onnxruntime" || v === "onnx" || v === "ort") return "onnxruntime";
  if (v === "tfjs") return "tfjs";
  throw new Error(`${INFERENCE_SETTING}=${value}: unknown runtime; use onnxruntime or tfjs (or unset for automatic)`);
}

/** True when tfjs computes on a GPU: then the frozen forward stays there. */
function onGpu(): boolean {
  const backend = tf.getBackend();
  if (backend === "webgpu" || backend === "webgl") return true;
  return backend === "tensorflow" && Object.keys(require.cache).some((file) => file.includes("tfjs-node-gpu"));
}

let choice: Promise<InferenceChoice> | null = null;
let choiceBackend = "";

/**
 * Choose the runtime for frozen forward passes (once per tfjs backend; initEngine calls it and prints the result).
 * A forced `onnxruntime` that cannot load is an error naming why; automatic falls back to tfjs and says why.
 */
export function chooseInference(options: { runtime?: InferenceRuntime; threads?: number } = {}): Promise<InferenceChoice> {
  const backend = tf.getBackend();
  if (choice && backend === choiceBackend) return choice;
  choiceBackend = backend;
  const forced = options.runtime ?? parseInferenceSetting(process.env[INFERENCE_SETTING]);
  const threads = options.threads ?? (typeof os.availableParallelism === "function" ? os.availableParallelism() : os.cpus().length);
  choice = (async (): Promise<InferenceChoice> => {
    const source = forced ? `${INFERENCE_SETTING}=${forced}` : "automatic";
    if (forced === "tfjs") return { runtime: "tfjs", reason: `${source}: tfjs (${backend})`, threads };
    if (!forced && onGpu()) return { runtime: "tfjs", reason: `automatic: tfjs on the GPU (${backend})`, threads };
    const ort = await onnxRuntime();
    if (typeof ort === "string") {
      if (forced) throw new Error(`${source}: ${ort}. Reinstall it with: npm ci (it ships in the onnxruntime-node package)`);
      return { runtime: "tfjs", reason: `automatic: ${ort}; tfjs (${backend})`, threads };
    }
    return { runtime: "onnxruntime", reason: `${source}: onnxruntime-node ${ort.version} (CPU, ${threads} thread${threads === 1 ? "" : "s"})`, threads };
  })();
  choice.catch(() => {
    choice = null;
  });
  return choice;
}

/**
 * A frozen forward pass over RGB [0, 255] pixels (NHWC, `count` images) → embeddings (count × embeddingSize).
 * On ONNX Runtime it computes in a worker thread, so the JS thread stays free meanwhile. `handOver`: `pixels` may be
 * moved to the worker instead of copied (it is then detached); `giveBack` receives it again once the pass is done
 * with it, to be refilled for a later batch (a 224 px batch of 32 is 19 MB: allocating one per batch makes the
 * garbage collector run often, which costs the most in a notebook kernel's large heap).
 */
export interface FrozenForward {
  runtime: InferenceRuntime;
  run(pixels: Float32Array, count: number, options?: { handOver?: boolean; giveBack?: (pixels: Float32Array) => void }): Promise<Float32Array>;
}

// One session per network and weights, not per loaded model: a notebook that calls loadMobileNetV2() for every
// augmentation preset would otherwise hold one ONNX Runtime session (its arenas: 300–500 MB at 224 px) per call
// (notebook 13 grew to 2.8 GB that way). Frozen weights are identified by weightsHash, as the embedding cache does.
const sessions = new Map<string, Promise<OnnxSession | string>>();
const explained = new WeakSet<tf.LayersModel>();

async function sessionFor(backbone: Backbone, threads: number, affine: boolean): Promise<OnnxSession | string> {
  const output = backbone.model.outputs[0];
  const key = [backbone.name, backbone.weightsHash, backbone.inputSize, backbone.embeddingSize, output.sourceLayer.name, output.shape.join("x"), affine, threads].join("|");
  let session = sessions.get(key);
  if (!session) {
    session = (async () => {
      const runtime = await onnxRuntime();
      if (typeof runtime === "string") return runtime;
      try {
        // MobileNetV2's (p − 128) / 128 is folded into the graph; other preprocessing runs in tfjs first.
        const exported = exportLayersModel(backbone.model, affine ? { inputAffine: { scale: 1 / 128, shift: -1 } } : {});
        return await OnnxSession.create(runtime, exported.bytes, exported.inputName, exported.outputName, threads);
      } catch (err) {
        if (err instanceof OnnxExportUnsupported) return `ONNX export does not handle ${err.message}`;
        throw err;
      }
    })();
    sessions.set(key, session);
  }
  return session;
}

function tfjsForward(backbone: Backbone, size: number): FrozenForward {
  return {
    runtime: "tfjs",
    async run(pixels, count, options = {}) {
      const input = tf.tensor4d(pixels, [count, size, size, 3]);
      const output = backbone.embed(input);
      // Read with await: the only way to read a GPU tensor on WebGPU in Node (the same cost on CPU backends).
      const values = (await output.data()) as Float32Array;
      tf.dispose([input, output]);
      options.giveBack?.(pixels);
      return values;
    },
  };
}

/**
 * The forward pass embedImages uses for `backbone` at `size`: ONNX Runtime when chosen and the model is frozen and
 * exportable, else the backbone's own tfjs `embed`.
 */
export async function frozenForward(backbone: Backbone, size: number): Promise<FrozenForward> {
  const { runtime, threads } = await chooseInference();
  if (runtime !== "onnxruntime" || backbone.model.trainable !== false) return tfjsForward(backbone, size);
  const affine = backbone.preprocess === scaleToMinusOneOne;
  const session = await sessionFor(backbone, threads, affine);
  if (typeof session === "string") {
    if (!explained.has(backbone.model)) console.log(`embedding (${backbone.name}): tfjs, because ${session}`);
    explained.add(backbone.model);
    return tfjsForward(backbone, size);
  }
  return {
    runtime: "onnxruntime",
    async run(pixels, count, options = {}) {
      const shape = [count, size, size, 3];
      if (affine) return session.run(pixels, shape, options);
      const prepared = tf.tidy(() => backbone.preprocess(tf.tensor4d(pixels, shape as [number, number, number, number])));
      const values = (await prepared.data()) as Float32Array;
      prepared.dispose();
      options.giveBack?.(pixels);
      return session.run(values, shape, { handOver: true });
    },
  };
}
