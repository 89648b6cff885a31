import * as tf from "@tensorflow/tfjs";
import * as wasmBackend from "@tensorflow/tfjs-backend-wasm";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Worker as NodeWorker } from "worker_threads";

/**
 * Multithreaded SIMD wasm in Node.
 *
 * The published backend never uses threads under Node: its feature check answers false for Node, and
 * when forced it hands emscripten `blob:` URLs that Node's worker_threads cannot load. Here we run the
 * same emscripten glue (wasm-out/tfjs-backend-wasm-threaded-simd.js) ourselves with three local
 * substitutions, passed as function parameters so nothing outside this module changes:
 *  - `Worker`: a worker_threads Worker that evaluates the published pthread worker script from a string
 *    (no temp files), and never keeps the process alive (pthreadpool threads live forever);
 *  - `global`: a private object, so the glue's `global.Worker = …` does not touch the real global;
 *  - `require`: reports twice the wanted thread count to the glue's core count, because the backend's C++
 *    caps threads at (logical cores ÷ 2), written for hyper-threaded desktops.
 * The process-wide uncaughtException/unhandledRejection handlers that the glue installs (they rethrow
 * and would turn a failing notebook cell into a dead kernel) are removed again after start-up.
 * Kernels are the stock ones: the result is registered as the ordinary `wasm` backend.
 */

interface EmscriptenModule {
  cwrap(name: string, returnType: string | null, argTypes: string[]): (...args: number[]) => unknown;
  PThread?: { unusedWorkers: unknown[]; runningWorkers: unknown[] };
  tfjs?: Record<string, unknown>;
}
type GlueFactory = (config: Record<string, unknown>) => Promise<EmscriptenModule>;

function wasmOutDir(): string {
  return path.dirname(require.resolve("@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.js"));
}

/** Cheap checks that the runtime can run threaded wasm at all. */
export function threadedWasmSupported(): boolean {
  if (typeof SharedArrayBuffer === "undefined" || typeof Atomics === "undefined") return false;
  try {
    // A tiny module using a shared memory + atomic op (from wasm-feature-detect, as tfjs uses it).
    // WebAssembly is a Node global, but tslab compiles without the DOM lib that declares it.
    return (globalThis as unknown as { WebAssembly: { validate(bytes: Uint8Array): boolean } }).WebAssembly.validate(
      new Uint8Array([
        0, 97, 115, 109, 1, 0, 0, 0, 1, 4, 1, 96, 0, 0, 3, 2, 1, 0, 5, 4, 1, 3, 1, 1, 10, 11, 1, 9, 0, 65, 0, 254,
        16, 2, 0, 26, 11,
      ]),
    );
  } catch {
    return false;
  }
}

function loadGlueFactory(threads: number): GlueFactory {
  const dir = wasmOutDir();
  const gluePath = path.join(dir, "tfjs-backend-wasm-threaded-simd.js");
  // The published worker script is a JS string; its "\n" escapes must survive being evaluated as code.
  const workerSource = (
    require(path.join(dir, "tfjs-backend-wasm-threaded-simd.worker.js")) as { wasmWorkerContents: string }
  ).wasmWorkerContents.replace(/\n/g, "\\n");

  class PthreadWorker extends NodeWorker {
    constructor(_scriptUrl: string) {
      // execArgv: [] keeps loaders such as tsx out of the pthreads (they only run wasm).
      super(workerSource, { eval: true, execArgv: [] });
      this.unref();
    }
    /** pthreads block forever waiting for work; they must never hold the process open. */
    override ref(): void {}
  }

  const localOs = { ...os, cpus: () => Array.from({ length: 2 * threads }, () => os.cpus()[0]) };
  const localRequire = (id: string): unknown => (id === "os" ? localOs : require(id));
  const privateGlobal = Object.create(globalThis) as Record<string, unknown>;
  const source = fs.readFileSync(gluePath, "utf8");
  const evaluate = new Function(
    "Worker",
    "global",
    "require",
    "__filename",
    "__dirname",
    "module",
    "exports",
    `${source}\nreturn WasmBackendModuleThreadedSimd;`,
  ) as (...args: unknown[]) => GlueFactory;
  const moduleStub = { exports: {} };
  return evaluate(PthreadWorker, privateGlobal, localRequire, gluePath, dir, moduleStub, moduleStub.exports);
}

async function instantiate(threads: number): Promise<EmscriptenModule> {
  const dir = wasmOutDir();
  const gluePath = path.join(dir, "tfjs-backend-wasm-threaded-simd.js");
  const wasmFile = path.join(dir, "tfjs-backend-wasm-threaded-simd.wasm");
  const before = {
    uncaughtException: process.listeners("uncaughtException"),
    unhandledRejection: process.listeners("unhandledRejection"),
  };
  try {
    const factory = loadGlueFactory(threads);
    const module = await factory({
      locateFile: (file: string, prefix: string) => (file.endsWith(".wasm") ? wasmFile : prefix + file),
      // Each pthread evaluates this file to get the same module factory.
      mainScriptUrlOrBlob: gluePath,
    });
    module.tfjs = {
      init: module.cwrap("init", null, []),
      initWithThreadsCount: module.cwrap("init_with_threads_count", null, ["number"]),
      getThreadsCount: module.cwrap("get_threads_count", "number", []),
      registerTensor: module.cwrap("register_tensor", null, ["number", "number", "number"]),
      disposeData: module.cwrap("dispose_data", null, ["number"]),
      dispose: module.cwrap("dispose", null, []),
    };
    return module;
  } finally {
    for (const listener of process.listeners("uncaughtException")) {
      if (!before.uncaughtException.includes(listener)) process.removeListener("uncaughtException", listener);
    }
    for (const listener of process.listeners("unhandledRejection")) {
      if (!before.unhandledRejection.includes(listener)) process.removeListener("unhandledRejection", listener);
    }
  }
}

let registeredThreads = 0;
/** The package's own (single-threaded under Node) factory, kept to fall back to. */
let stockFactory: (() => tf.KernelBackend | Promise<tf.KernelBackend>) | null = null;

function removeWasm(): void {
  if (stockFactory === null && registeredThreads === 0) stockFactory = tf.findBackendFactory("wasm");
  if (tf.findBackendFactory("wasm") != null) tf.removeBackend("wasm");
}

/**
 * Replace the registered `wasm` backend by the multithreaded SIMD one with `threads` threads.
 * Call before the backend is first used; `tf.setBackend("wasm")` then starts it.
 */
export function registerThreadedWasm(threads: number): void {
  if (registeredThreads === threads) return;
  removeWasm();
  wasmBackend.setThreadsCount(threads);
  tf.registerBackend(
    "wasm",
    async () => {
      const module = await instantiate(threads);
      return new wasmBackend.BackendWasm(module as never);
    },
    2,
  );
  registeredThreads = threads;
}

/** Threads the running wasm backend really uses (1 for the single-threaded build). */
export function wasmThreadsInUse(): number {
  try {
    return wasmBackend.getThreadsCount();
  } catch {
    return 1;
  }
}

/** Put the stock (single-threaded SIMD) wasm backend back, e.g. after threaded start-up failed. */
export function registerStockWasm(): void {
  if (registeredThreads === 0) return;
  removeWasm();
  if (stockFactory === null) throw new Error("engine: the stock wasm backend factory was not kept");
  tf.registerBackend("wasm", stockFactory, 2);
  registeredThreads = 0;
}
