import * as tf from "@tensorflow/tfjs";
import * as os from "os";
import { chooseInference, type InferenceChoice } from "./inference";
import { registerTrainingKernels } from "./kernels";
import { registerStockWasm, registerThreadedWasm, threadedWasmSupported, wasmThreadsInUse } from "./wasm-threads";
import { describeAdapter, probeWebGpu, startWebGpu, WEBGPU_PACKAGE, type GpuAdapterInfo } from "./webgpu";

/**
 * Where tensors are computed. `tfjs-node*` are libtensorflow (native); `webgpu` is tfjs' WebGPU backend on Dawn
 * (any Vulkan / Metal / Direct3D 12 GPU); `wasm` is XNNPACK in WebAssembly.
 */
export type EngineBackend = "tfjs-node-gpu" | "tfjs-node" | "webgpu" | "wasm" | "cpu";

export interface EngineInfo {
  backend: EngineBackend;
  /** One sentence: why this backend runs (shown to the user once). */
  reason: string;
  /** Compute threads the backend uses (libtensorflow picks its own: reported as the core count; webgpu: 1, the GPU computes). */
  threads: number;
  /** Where frozen backbones (embeddings) run: ONNX Runtime or this backend (lib/engine/inference.ts). */
  inference: InferenceChoice;
  /** The GPU, when the backend is webgpu. */
  adapter?: GpuAdapterInfo;
}

export interface EngineOptions {
  /** Force a backend; default: env TFJS_BACKEND, else automatic. */
  backend?: EngineBackend;
  /** wasm threads; default: env TFJS_THREADS, else every logical core. */
  threads?: number;
  /** Print the one-line summary (default true). */
  log?: boolean;
}

export const BACKEND_SETTING = "TFJS_BACKEND";
export const THREADS_SETTING = "TFJS_THREADS";

const ALIASES: Record<string, EngineBackend> = {
  "tfjs-node-gpu": "tfjs-node-gpu",
  "node-gpu": "tfjs-node-gpu",
  gpu: "tfjs-node-gpu",
  "tfjs-node": "tfjs-node",
  node: "tfjs-node",
  tensorflow: "tfjs-node",
  webgpu: "webgpu",
  dawn: "webgpu",
  wasm: "wasm",
  cpu: "cpu",
};

/** Parse TFJS_BACKEND; throws naming the setting and the accepted values. */
export function parseBackendSetting(value: string | undefined): EngineBackend | undefined {
  if (value === undefined || value.trim() === "" || value.trim() === "auto") return undefined;
  const backend = ALIASES[value.trim().toLowerCase()];
  if (!backend) {
    throw new Error(
      `${BACKEND_SETTING}=${value}: unknown backend; use one of tfjs-node-gpu, tfjs-node, webgpu, wasm, cpu (or unset for automatic)`,
    );
  }
  return backend;
}

export function parseThreadsSetting(value: string | undefined): number | undefined {
  if (value === undefined || value.trim() === "") return undefined;
  const threads = Number(value);
  if (!Number.isInteger(threads) || threads < 1) {
    throw new Error(`${THREADS_SETTING}=${value}: must be a whole number ≥ 1`);
  }
  return threads;
}

/** Logical cores this process may use. */
export function availableCores(): number {
  return typeof os.availableParallelism === "function" ? os.availableParallelism() : os.cpus().length;
}

/** Load a libtensorflow binding if it is installed and works; returns why not otherwise. */
function tryNativeBinding(pkg: "@tensorflow/tfjs-node-gpu" | "@tensorflow/tfjs-node"): string | null {
  try {
    require.resolve(pkg);
  } catch {
    return `${pkg} is not installed`;
  }
  try {
    require(pkg);
    return null;
  } catch (err) {
    return `${pkg} is installed but does not load (${(err as Error).message.split("\n")[0]})`;
  }
}

async function startNative(backend: "tfjs-node-gpu" | "tfjs-node"): Promise<string | null> {
  const why = tryNativeBinding(backend === "tfjs-node-gpu" ? "@tensorflow/tfjs-node-gpu" : "@tensorflow/tfjs-node");
  if (why) return why;
  try {
    // Both packages register their backend as "tensorflow".
    if (!(await tf.setBackend("tensorflow"))) return `${backend} loaded but its "tensorflow" backend did not start`;
    tf.tidy(() => tf.add(tf.scalar(1), tf.scalar(1)).dataSync());
    return null;
  } catch (err) {
    return `${backend} failed a test operation (${(err as Error).message.split("\n")[0]})`;
  }
}

async function startWasm(threads: number): Promise<string | null> {
  registerTrainingKernels();
  if (threads > 1 && threadedWasmSupported()) {
    try {
      registerThreadedWasm(threads);
      if (await tf.setBackend("wasm")) return null;
    } catch {
      // falls through to the single-threaded build below
    }
    registerStockWasm();
  }
  try {
    return (await tf.setBackend("wasm")) ? null : "the wasm backend did not start";
  } catch (err) {
    return `the wasm backend did not start (${(err as Error).message})`;
  }
}

/** What starting a WebGPU backend gives: the adapter it runs on, or why there is none. */
export type WebGpuStart = { adapter: GpuAdapterInfo } | { reason: string };

/**
 * How each backend is started: each returns null (or the adapter) when it runs, else the reason it does not.
 * `selectBackend` takes them as a parameter so that tests can stand in for hardware this machine lacks.
 */
export interface BackendStarters {
  native(backend: "tfjs-node-gpu" | "tfjs-node"): Promise<string | null>;
  /** Probe for an adapter (in a child process), then start on it. */
  webgpu(): Promise<WebGpuStart>;
  wasm(threads: number): Promise<string | null>;
  /** Threads the started wasm backend really uses. */
  wasmThreads(): number;
  cpu(): Promise<void>;
}

export const DEFAULT_STARTERS: BackendStarters = {
  native: startNative,
  webgpu: async () => {
    const probe = await probeWebGpu();
    return "reason" in probe ? { reason: probe.reason } : startWebGpu();
  },
  wasm: startWasm,
  wasmThreads: wasmThreadsInUse,
  cpu: async () => {
    await tf.setBackend("cpu");
  },
};

let current: Promise<EngineInfo> | null = null;
let currentKey = "";
let started = false;

/** What selectBackend decides; initEngine adds where frozen backbones run. */
export type BackendChoice = Omit<EngineInfo, "inference">;

/** The line initEngine prints: `engine: <backend> (<threads or GPU>) — <reason> · frozen backbones: <runtime>`. */
export function engineLine(info: BackendChoice & { inference?: InferenceChoice }): string {
  const where = info.adapter ? describeAdapter(info.adapter) : `${info.threads} thread${info.threads === 1 ? "" : "s"}`;
  return `engine: ${info.backend} (${where}) — ${info.reason}${info.inference ? ` · frozen backbones: ${info.inference.reason}` : ""}`;
}

/**
 * Choose and start the compute backend; idempotent: later calls return the first result (with other options they
 * warn and keep the running backend, whose tensors would otherwise be lost).
 * Order when automatic: tfjs-node-gpu → tfjs-node (if installed and working) → webgpu (if the optional `webgpu`
 * package finds a hardware adapter) → wasm (SIMD, all cores) → cpu. Prints one line saying which backend runs and why.
 */
export function initEngine(options: EngineOptions = {}): Promise<EngineInfo> {
  const forced = options.backend ?? parseBackendSetting(process.env[BACKEND_SETTING]);
  const threads = options.threads ?? parseThreadsSetting(process.env[THREADS_SETTING]) ?? availableCores();
  const key = `${forced ?? "auto"}:${threads}`;
  if (current && key === currentKey) return current;
  if (current && started) {
    // Switching a running backend would drop every tensor (model weights included) held on it.
    console.warn(`engine: already running (${currentKey}); ignoring the new options (${key}). Restart the kernel/process to change backend.`);
    return current;
  }
  currentKey = key;
  current = selectBackend(forced, threads).then(async (backend) => {
    started = true;
    const info: EngineInfo = { ...backend, inference: await chooseInference({ threads }) };
    if (options.log !== false) console.log(engineLine(info));
    return info;
  });
  current.catch(() => {
    current = null;
  });
  return current;
}

const WEBGPU_FIX =
  `WebGPU needs the optional package ${WEBGPU_PACKAGE} (installed by npm ci unless --omit=optional) and a GPU whose ` +
  "driver offers Vulkan (Linux; e.g. NVIDIA's driver with its Vulkan ICD, or Mesa's radv/anv; `vulkaninfo --summary` " +
  "lists it), Metal (macOS) or Direct3D 12 (Windows). Unset TFJS_BACKEND to fall back to wasm";

/**
 * The backend choice itself (initEngine adds the once-only start and the line). `forced` is a backend the user asked
 * for: it starts or this throws naming the fix, never a silent fallback.
 */
export async function selectBackend(
  forced: EngineBackend | undefined,
  threads: number,
  start: BackendStarters = DEFAULT_STARTERS,
): Promise<BackendChoice> {
  const cores = availableCores();
  const source = forced ? `${BACKEND_SETTING}=${forced}` : "automatic";
  if (forced === "tfjs-node-gpu" || forced === "tfjs-node") {
    const why = await start.native(forced);
    if (why) throw new Error(`${source}: ${why}. Install it with: npm install --no-save @tensorflow/${forced}@4.22.0`);
    return { backend: forced, reason: `${source}`, threads: cores };
  }
  if (forced === "webgpu") {
    const gpu = await start.webgpu();
    if ("reason" in gpu) throw new Error(`${source}: ${gpu.reason}. ${WEBGPU_FIX}`);
    return { backend: "webgpu", reason: `${source}: tfjs WebGPU on Dawn`, threads: 1, adapter: gpu.adapter };
  }
  if (forced === "wasm") {
    const why = await start.wasm(threads);
    if (why) throw new Error(`${source}: ${why}`);
    return { backend: "wasm", reason: `${source}${wasmNote(threads, start.wasmThreads())}`, threads: start.wasmThreads() };
  }
  if (forced === "cpu") {
    await start.cpu();
    return { backend: "cpu", reason: `${source} (plain JavaScript: slow, for reference only)`, threads: 1 };
  }
  const skipped: string[] = [];
  for (const native of ["tfjs-node-gpu", "tfjs-node"] as const) {
    const why = await start.native(native);
    if (!why) return { backend: native, reason: `automatic: ${native} is installed and works`, threads: cores };
    skipped.push(why);
  }
  const gpu = await start.webgpu();
  if ("adapter" in gpu) {
    return { backend: "webgpu", reason: `automatic: ${skipped.join("; ")}; using tfjs WebGPU on Dawn`, threads: 1, adapter: gpu.adapter };
  }
  skipped.push(gpu.reason);
  const wasmWhy = await start.wasm(threads);
  if (!wasmWhy) {
    return {
      backend: "wasm",
      reason: `automatic: ${skipped.join("; ")}; using XNNPACK wasm${wasmNote(threads, start.wasmThreads())}`,
      threads: start.wasmThreads(),
    };
  }
  skipped.push(wasmWhy);
  await start.cpu();
  return { backend: "cpu", reason: `automatic: ${skipped.join("; ")}; plain JavaScript is slow`, threads: 1 };
}

function wasmNote(requested: number, used: number): string {
  if (used >= requested) return " (SIMD, multithreaded)";
  return used > 1 ? ` (SIMD, ${used} of ${requested} threads)` : " (SIMD, single-threaded: threaded wasm unavailable here)";
}
