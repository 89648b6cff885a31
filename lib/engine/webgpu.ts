import * as tf from "@tensorflow/tfjs";
import { execFile } from "child_process";

/**
 * TensorFlow.js on WebGPU in Node: `@tensorflow/tfjs-backend-webgpu` (same release as @tensorflow/tfjs) over Dawn,
 * Google's WebGPU implementation, from the npm package `webgpu` (prebuilt dawn.node; reaches the GPU through Vulkan,
 * Metal or Direct3D 12). `webgpu` is an optional dependency: where it is missing or finds no adapter the engine
 * moves on to wasm and says why.
 *
 * Two steps, so that a broken driver can neither crash nor hang a notebook kernel:
 *  1. `probeWebGpu` asks Dawn for an adapter in a child process, with a time limit; Dawn's own warnings (what it
 *     could not load, which Vulkan feature the adapter lacks) become the reason when there is none.
 *  2. `startWebGpu` (only after the probe found a hardware adapter) opens the device in this process, with a time
 *     limit on each request, registers the backend as `webgpu` and checks one operation.
 *
 * tfjs' own registration of the backend only runs in browsers (it looks for `navigator.gpu` at import), so it is
 * registered here; the project's wasm kernels (lib/engine/kernels) are registered for the `wasm` backend name only
 * and never run here.
 */

export const WEBGPU_PACKAGE = "webgpu";
export const TFJS_WEBGPU_PACKAGE = "@tensorflow/tfjs-backend-webgpu";
/** The time Dawn gets to find an adapter, and again to open the device (driver start-up can take seconds). */
export const WEBGPU_TIMEOUT_MS = 20_000;

/** What Dawn says about the adapter (WebGPU's GPUAdapterInfo). */
export interface GpuAdapterInfo {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** A software implementation (SwiftShader, lavapipe): slower than the wasm backend, never chosen. */
  isFallbackAdapter: boolean;
}

export type WebGpuProbe = { ok: true; adapter: GpuAdapterInfo } | { ok: false; reason: string };

/** "NVIDIA H200 (vendor nvidia, architecture hopper)": the adapter as the engine line names it. */
export function describeAdapter(adapter: GpuAdapterInfo): string {
  const name = adapter.description || adapter.device || "unnamed adapter";
  const details = [adapter.vendor && `vendor ${adapter.vendor}`, adapter.architecture && `architecture ${adapter.architecture}`].filter(Boolean);
  return details.length > 0 ? `${name} (${details.join(", ")})` : name;
}

/** Absolute path of the installed `webgpu` package, or null when it is not installed. */
export function webgpuPackagePath(): string | null {
  try {
    return require.resolve(WEBGPU_PACKAGE);
  } catch {
    return null;
  }
}

/** The `Warning: …` / `Error: …` lines Dawn prints (first line of each, without its source location). */
export function dawnMessages(stderr: string): string[] {
  const messages: string[] = [];
  for (const line of stderr.split("\n")) {
    const match = /^(?:Warning|Error): (.*)$/.exec(line.trim());
    if (match && !messages.includes(match[1].trim())) messages.push(match[1].trim());
  }
  return messages;
}

/** Runs in the child process: one line of JSON on stdout, then exits at once (Dawn's teardown is not awaited). */
function probeScript(packagePath: string, timeoutMs: number): string {
  return `(() => {
const say = (result) => { process.stdout.write(JSON.stringify(result) + "\\n", () => process.exit(0)); };
let dawn;
try { dawn = require(${JSON.stringify(packagePath)}); }
catch (error) { say({ error: "${WEBGPU_PACKAGE} does not load (" + String(error && error.message || error).split("\\n")[0] + ")" }); return; }
setTimeout(() => say({ error: "Dawn's requestAdapter did not answer within ${timeoutMs / 1000} s" }), ${timeoutMs});
dawn.create([]).requestAdapter({ powerPreference: "high-performance" }).then((adapter) => {
  if (!adapter) return say({ adapter: null });
  const info = adapter.info || {};
  say({ adapter: { vendor: info.vendor || "", architecture: info.architecture || "", device: info.device || "",
    description: info.description || "", isFallbackAdapter: Boolean(info.isFallbackAdapter ?? adapter.isFallbackAdapter) } });
}, (error) => say({ error: "requestAdapter failed (" + String(error && error.message || error) + ")" }));
})();`;
}

/** Parse what the probe child printed into an adapter or the reason there is none. */
export function interpretProbe(stdout: string, stderr: string, failure: string | null): WebGpuProbe {
  const dawn = dawnMessages(stderr);
  const because = dawn.length > 0 ? ` (Dawn: ${dawn.join("; ")})` : "";
  const line = stdout.trim().split("\n").reverse().find((l) => l.startsWith("{"));
  if (!line) return { ok: false, reason: `the WebGPU probe ${failure ?? "printed nothing"}${because}` };
  const result = JSON.parse(line) as { adapter?: GpuAdapterInfo | null; error?: string };
  if (result.error) return { ok: false, reason: `WebGPU: ${result.error}${because}` };
  if (!result.adapter) return { ok: false, reason: `WebGPU: no adapter${because}` };
  if (result.adapter.isFallbackAdapter) {
    return { ok: false, reason: `WebGPU: only a software adapter, ${describeAdapter(result.adapter)}, slower than wasm` };
  }
  return { ok: true, adapter: result.adapter };
}

/**
 * Ask Dawn for a high-performance adapter in a child process (a crash or hang there cannot take this process with
 * it); answers within `timeoutMs` plus process start-up.
 */
export function probeWebGpu(timeoutMs = WEBGPU_TIMEOUT_MS, packagePath = webgpuPackagePath()): Promise<WebGpuProbe> {
  if (!packagePath) return Promise.resolve({ ok: false, reason: `the optional package ${WEBGPU_PACKAGE} is not installed` });
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ["-e", probeScript(packagePath, timeoutMs)],
      // execArgv is not passed on: loaders such as tsx are not needed for this plain script.
      { timeout: timeoutMs + 10_000, killSignal: "SIGKILL", encoding: "utf8", maxBuffer: 1 << 20, env: process.env },
      (error, stdout, stderr) => {
        let failure: string | null = null;
        if (error) {
          const { killed, signal, code } = error as Error & { killed?: boolean; signal?: string; code?: number | string };
          failure = killed ? `did not answer within ${(timeoutMs + 10_000) / 1000} s` : signal ? `crashed (${signal})` : `failed (exit ${code}: ${error.message.split("\n")[0]})`;
        }
        resolve(interpretProbe(stdout ?? "", stderr ?? "", failure));
      },
    );
  });
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms / 1000} s`)), ms);
    timer.unref();
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** The minimal surface of Dawn's objects used here (their full types come from @webgpu/types, not loaded). */
interface DawnAdapter {
  info?: Record<string, unknown>;
  features: { has(name: string): boolean };
  limits: Record<string, number>;
  requestDevice(descriptor: Record<string, unknown>): Promise<{ lost: Promise<unknown>; destroy(): void }>;
}
interface DawnModule {
  create(flags: string[]): { requestAdapter(options: Record<string, unknown>): Promise<DawnAdapter | null> };
  globals: Record<string, unknown>;
}

export const SYNC_READ_MESSAGE =
  "a synchronous read (dataSync, arraySync, bufferSync) of a tensor on the GPU is impossible on WebGPU in Node " +
  "(WebGPU has no blocking readback, and tfjs' browser workaround needs OffscreenCanvas); read it with " +
  "`await tensor.data()` / `await tensor.array()`";

let started: GpuAdapterInfo | null = null;

/**
 * Open the WebGPU device in this process and make `webgpu` the tfjs backend. Returns null when running, else why not.
 * Call only after `probeWebGpu` found an adapter.
 */
export async function startWebGpu(timeoutMs = WEBGPU_TIMEOUT_MS): Promise<{ adapter: GpuAdapterInfo } | { reason: string }> {
  const packagePath = webgpuPackagePath();
  if (!packagePath) return { reason: `the optional package ${WEBGPU_PACKAGE} is not installed` };
  try {
    if (started === null) {
      const dawn = require(packagePath) as DawnModule;
      // tfjs-backend-webgpu refers to these WebGPU constants as globals, as in a browser.
      for (const name of ["GPUBufferUsage", "GPUMapMode", "GPUTextureUsage", "GPUShaderStage"]) {
        if (!(name in globalThis) && dawn.globals[name] !== undefined) {
          Object.defineProperty(globalThis, name, { value: dawn.globals[name], configurable: true, writable: true });
        }
      }
      const gpu = dawn.create([]);
      const adapter = await withTimeout(gpu.requestAdapter({ powerPreference: "high-performance" }), timeoutMs, "requestAdapter");
      if (!adapter) return { reason: "WebGPU: no adapter in this process (the probe found one)" };
      const info = adapter.info ?? {};
      const adapterInfo: GpuAdapterInfo = {
        vendor: String(info.vendor ?? ""),
        architecture: String(info.architecture ?? ""),
        device: String(info.device ?? ""),
        description: String(info.description ?? ""),
        isFallbackAdapter: Boolean(info.isFallbackAdapter),
      };
      // The limits tfjs-backend-webgpu asks for in a browser: the adapter's own, so large convolutions fit.
      const limits = adapter.limits;
      const requiredLimits: Record<string, number> = {};
      for (const name of [
        "maxComputeWorkgroupStorageSize",
        "maxComputeWorkgroupsPerDimension",
        "maxStorageBufferBindingSize",
        "maxBufferSize",
        "maxComputeWorkgroupSizeX",
        "maxComputeInvocationsPerWorkgroup",
      ]) {
        if (typeof limits[name] === "number") requiredLimits[name] = limits[name];
      }
      const requiredFeatures = ["timestamp-query"].filter((name) => adapter.features.has(name));
      const device = await withTimeout(adapter.requestDevice({ requiredFeatures, requiredLimits }), timeoutMs, "requestDevice");
      registerWebGpuBackend(gpu, device, info);
      started = adapterInfo;
    }
    if (!(await tf.setBackend("webgpu"))) return { reason: "WebGPU: the tfjs webgpu backend did not start" };
    const sum = tf.add(tf.tensor1d([1, 2]), tf.scalar(1));
    const values = await withTimeout(sum.data(), timeoutMs, "the test operation");
    sum.dispose();
    if (values[0] !== 2 || values[1] !== 3) return { reason: `WebGPU: the test operation gave ${Array.from(values)} instead of 2,3` };
    return { adapter: started };
  } catch (error) {
    return { reason: `WebGPU did not start (${(error as Error).message.split("\n")[0]})` };
  }
}

function registerWebGpuBackend(gpu: unknown, device: unknown, info: Record<string, unknown>): void {
  // Loaded here, not at the top: its 160 kernels are registered only when WebGPU is really used.
  const { WebGPUBackend } = require(TFJS_WEBGPU_PACKAGE) as typeof import("@tensorflow/tfjs-backend-webgpu");
  type Data = { values?: unknown; dtype: string };
  class NodeWebGpuBackend extends WebGPUBackend {
    /** Values already on the CPU are returned as before; a GPU buffer cannot be read synchronously in Node. */
    override readSync(dataId: object): tf.backend_util.BackendValues {
      const data = (this as unknown as { tensorMap: { get(id: object): Data } }).tensorMap.get(dataId);
      if (data.values != null || data.dtype === "string" || data.dtype === "complex64") return super.readSync(dataId);
      throw new Error(`engine (webgpu): ${SYNC_READ_MESSAGE}`);
    }
  }
  // The backend's constructor checks navigator.gpu, as a browser has it; it is set only for that moment, since a
  // global reference to Dawn's GPU object keeps Node from exiting (dawn.node's README, "Lifetime").
  const scope = globalThis as unknown as { navigator?: Record<string, unknown> };
  const ownNavigator = scope.navigator === undefined;
  if (ownNavigator) Object.defineProperty(globalThis, "navigator", { value: {}, configurable: true, writable: true });
  Object.defineProperty(scope.navigator!, "gpu", { value: gpu, configurable: true });
  let backend: InstanceType<typeof NodeWebGpuBackend>;
  try {
    backend = new NodeWebGpuBackend(device as never, info as never);
  } finally {
    delete scope.navigator!.gpu;
    if (ownNavigator) delete scope.navigator;
  }
  if (tf.findBackend("webgpu")) tf.removeBackend("webgpu");
  tf.registerBackend("webgpu", () => backend, 3);
}
