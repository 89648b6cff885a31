import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { engineLine, parseBackendSetting, parseThreadsSetting, probeWebGpu, selectBackend, type BackendStarters, type GpuAdapterInfo } from "../../lib/engine";
import { interpretProbe } from "../../lib/engine/webgpu";

const ENGINE = path.resolve(__dirname, "../../lib/engine");

test("TFJS_BACKEND accepts the backend names and aliases, and names the setting when wrong", () => {
  assert.equal(parseBackendSetting(undefined), undefined);
  assert.equal(parseBackendSetting("auto"), undefined);
  assert.equal(parseBackendSetting("wasm"), "wasm");
  assert.equal(parseBackendSetting("CPU"), "cpu");
  assert.equal(parseBackendSetting("gpu"), "tfjs-node-gpu");
  assert.equal(parseBackendSetting("tensorflow"), "tfjs-node");
  assert.equal(parseBackendSetting("WebGPU"), "webgpu");
  assert.equal(parseBackendSetting("dawn"), "webgpu");
  assert.throws(() => parseBackendSetting("webgl"), /TFJS_BACKEND=webgl: unknown backend; use one of tfjs-node-gpu, tfjs-node, webgpu, wasm, cpu/);
  assert.equal(parseThreadsSetting("3"), 3);
  assert.throws(() => parseThreadsSetting("0"), /TFJS_THREADS=0/);
});

/** Run a snippet in a fresh Node process (backend choice is process-wide). */
function runNode(code: string, env: Record<string, string> = {}): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, ["--import", "tsx", "-e", code], {
    env: { ...process.env, ...env },
    encoding: "utf8",
    timeout: 60_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

test("automatic choice on this machine: without tfjs-node and without a GPU adapter the engine runs multithreaded wasm, says why, and the process exits by itself", async () => {
  // The real chain, WebGPU probe included. On a machine whose GPU Dawn can use, webgpu is chosen instead (checked below).
  const probe = await probeWebGpu();
  const code = `
    const tf = require("@tensorflow/tfjs");
    const { initEngine } = require(${JSON.stringify(ENGINE)});
    const before = process.listeners("uncaughtException").length + process.listeners("unhandledRejection").length;
    initEngine({ threads: 2 }).then(async (info) => {
      const y = tf.conv2d(tf.ones([1, 8, 8, 3]), tf.ones([3, 3, 3, 4]), 1, "same");
      const after = process.listeners("uncaughtException").length + process.listeners("unhandledRejection").length;
      console.log(JSON.stringify({ info, backend: tf.getBackend(), center: (await y.data())[(4 * 8 + 4) * 4],
        globalWorker: typeof globalThis.Worker, listenersAdded: after - before }));
    });`;
  const { status, stdout, stderr } = runNode(code, { TFJS_BACKEND: "", INFERENCE_RUNTIME: "" });
  assert.equal(status, 0, stderr);
  const lines = stdout.trim().split("\n");
  const result = JSON.parse(lines[1]);
  assert.equal(result.center, 27, "3×3×3 ones convolved with ones");
  assert.equal(result.globalWorker, "undefined", "no global Worker left behind");
  if (probe.ok) {
    assert.match(lines[0], /^engine: webgpu \(.+\) — automatic: .*; using tfjs WebGPU on Dawn · frozen backbones: automatic: tfjs on the GPU \(webgpu\)$/);
    assert.equal(result.backend, "webgpu");
    return;
  }
  const reason = probe.reason.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  assert.match(
    lines[0],
    new RegExp(`^engine: wasm \\(2 threads\\) — automatic: @tensorflow/tfjs-node-gpu is not installed; @tensorflow/tfjs-node is not installed; ${reason}; using XNNPACK wasm \\(SIMD, multithreaded\\) · frozen backbones: automatic: onnxruntime-node [\\d.]+ \\(CPU, 2 threads\\)$`),
  );
  assert.match(probe.reason, /^(WebGPU: |the optional package webgpu is not installed)/);
  assert.equal(result.info.backend, "wasm");
  assert.equal(result.info.threads, 2);
  assert.equal(result.backend, "wasm");
  assert.equal(result.listenersAdded, 0, "no process-wide error handlers left behind");
});

test("TFJS_BACKEND=cpu is obeyed; a forced tfjs-node that is not installed fails with the install command", () => {
  const cpu = runNode(`require(${JSON.stringify(ENGINE)}).initEngine().then((i) => console.log(require("@tensorflow/tfjs").getBackend(), i.backend))`, {
    TFJS_BACKEND: "cpu",
  });
  assert.equal(cpu.status, 0, cpu.stderr);
  assert.match(cpu.stdout, /engine: cpu \(1 thread\) — TFJS_BACKEND=cpu/);
  assert.match(cpu.stdout, /^cpu cpu$/m);
  const tfjsOnly = runNode(`require(${JSON.stringify(ENGINE)}).initEngine().then((i) => console.log(i.inference.runtime))`, {
    TFJS_BACKEND: "cpu",
    INFERENCE_RUNTIME: "tfjs",
  });
  assert.equal(tfjsOnly.status, 0, tfjsOnly.stderr);
  assert.match(tfjsOnly.stdout, /· frozen backbones: INFERENCE_RUNTIME=tfjs: tfjs \(cpu\)\n/);
  assert.match(tfjsOnly.stdout, /^tfjs$/m);
  const node = runNode(`require(${JSON.stringify(ENGINE)}).initEngine().catch((e) => { console.log(e.message); process.exit(3); })`, {
    TFJS_BACKEND: "tfjs-node",
  });
  assert.equal(node.status, 3);
  assert.match(node.stdout, /TFJS_BACKEND=tfjs-node: @tensorflow\/tfjs-node is not installed\. Install it with: npm install --no-save @tensorflow\/tfjs-node@4\.22\.0/);
});

// ---- the choice logic, with stand-ins for hardware this machine lacks --------------------------------------------

const H200: GpuAdapterInfo = { vendor: "nvidia", architecture: "hopper", device: "", description: "NVIDIA H200", isFallbackAdapter: false };

/** Starters that record what was tried; each backend works or not as told. */
function fakeStarters(works: { native?: boolean; webgpu?: GpuAdapterInfo | string; wasm?: boolean }): BackendStarters & { tried: string[] } {
  const tried: string[] = [];
  return {
    tried,
    native: async (backend) => {
      tried.push(backend);
      return works.native ? null : `@tensorflow/${backend} is not installed`;
    },
    webgpu: async () => {
      tried.push("webgpu");
      const gpu = works.webgpu ?? "WebGPU: no adapter (Dawn: Couldn't load Vulkan: libvulkan.so.1: cannot open shared object file)";
      return typeof gpu === "string" ? { reason: gpu } : { adapter: gpu };
    },
    wasm: async () => {
      tried.push("wasm");
      return works.wasm === false ? "the wasm backend did not start" : null;
    },
    wasmThreads: () => 2,
    cpu: async () => {
      tried.push("cpu");
    },
  };
}

test("choice: no WebGPU adapter → wasm, and the line gives Dawn's reason", async () => {
  const start = fakeStarters({});
  const info = await selectBackend(undefined, 2, start);
  assert.deepEqual(start.tried, ["tfjs-node-gpu", "tfjs-node", "webgpu", "wasm"]);
  assert.equal(info.backend, "wasm");
  assert.equal(
    engineLine(info),
    "engine: wasm (2 threads) — automatic: @tensorflow/tfjs-node-gpu is not installed; @tensorflow/tfjs-node is not installed; " +
      "WebGPU: no adapter (Dawn: Couldn't load Vulkan: libvulkan.so.1: cannot open shared object file); using XNNPACK wasm (SIMD, multithreaded)",
  );
});

test("choice: an adapter found → webgpu, before wasm, and the line names the adapter", async () => {
  const start = fakeStarters({ webgpu: H200 });
  const info = await selectBackend(undefined, 2, start);
  assert.deepEqual(start.tried, ["tfjs-node-gpu", "tfjs-node", "webgpu"], "wasm is not started");
  assert.equal(info.backend, "webgpu");
  assert.deepEqual(info.adapter, H200);
  assert.equal(
    engineLine(info),
    "engine: webgpu (NVIDIA H200 (vendor nvidia, architecture hopper)) — automatic: @tensorflow/tfjs-node-gpu is not installed; " +
      "@tensorflow/tfjs-node is not installed; using tfjs WebGPU on Dawn",
  );
});

test("choice: a working tfjs-node-gpu comes first (WebGPU is not even probed); nothing works → cpu with every reason", async () => {
  const native = fakeStarters({ native: true, webgpu: H200 });
  assert.equal((await selectBackend(undefined, 2, native)).backend, "tfjs-node-gpu");
  assert.deepEqual(native.tried, ["tfjs-node-gpu"]);
  const none = fakeStarters({ wasm: false });
  const info = await selectBackend(undefined, 2, none);
  assert.equal(info.backend, "cpu");
  assert.match(info.reason, /WebGPU: no adapter .*; the wasm backend did not start; plain JavaScript is slow$/);
});

test("choice: TFJS_BACKEND=webgpu starts only WebGPU; unavailable, it fails naming the fix instead of falling back", async () => {
  const ok = fakeStarters({ webgpu: H200 });
  const info = await selectBackend("webgpu", 2, ok);
  assert.deepEqual(ok.tried, ["webgpu"]);
  assert.equal(engineLine(info), "engine: webgpu (NVIDIA H200 (vendor nvidia, architecture hopper)) — TFJS_BACKEND=webgpu: tfjs WebGPU on Dawn");
  const missing = fakeStarters({ webgpu: "the optional package webgpu is not installed" });
  await assert.rejects(
    selectBackend("webgpu", 2, missing),
    /^Error: TFJS_BACKEND=webgpu: the optional package webgpu is not installed\. WebGPU needs the optional package webgpu \(installed by npm ci unless --omit=optional\) and a GPU whose driver offers Vulkan .*Unset TFJS_BACKEND to fall back to wasm$/,
  );
  assert.deepEqual(missing.tried, ["webgpu"], "no silent fallback to wasm");
  await assert.rejects(selectBackend("webgpu", 2, fakeStarters({})), /TFJS_BACKEND=webgpu: WebGPU: no adapter \(Dawn: Couldn't load Vulkan/);
});

test("probe answers: Dawn's warnings become the reason; software adapters are refused; crashes and silence are named", () => {
  const stderr = [
    "Warning: Vulkan shaderUniform*ArrayDynamicIndexing required.",
    " - While initializing adapter (backend=BackendType::Vulkan)",
    "    at InitializeImpl (/dawn/src/dawn/native/vulkan/PhysicalDeviceVk.cpp:257)",
  ].join("\n");
  assert.deepEqual(interpretProbe('{"adapter":null}\n', stderr, null), {
    ok: false,
    reason: "WebGPU: no adapter (Dawn: Vulkan shaderUniform*ArrayDynamicIndexing required.)",
  });
  const lavapipe = { ...H200, vendor: "mesa", architecture: "", description: "llvmpipe (LLVM 15.0.6, 256 bits)", isFallbackAdapter: true };
  assert.deepEqual(interpretProbe(JSON.stringify({ adapter: lavapipe }), "", null), {
    ok: false,
    reason: "WebGPU: only a software adapter, llvmpipe (LLVM 15.0.6, 256 bits) (vendor mesa), slower than wasm",
  });
  assert.deepEqual(interpretProbe(JSON.stringify({ adapter: H200 }), "", null), { ok: true, adapter: H200 });
  assert.deepEqual(interpretProbe("", "", "crashed (SIGSEGV)"), { ok: false, reason: "the WebGPU probe crashed (SIGSEGV)" });
});

/** A stand-in for the `webgpu` package, written to a temporary folder. */
function fakeWebGpuPackage(body: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fake-webgpu-"));
  const file = path.join(dir, "index.js");
  fs.writeFileSync(file, body);
  return file;
}

test("probe: a webgpu package that hangs, crashes or cannot load its native module is reported, and this process carries on", async () => {
  const hangs = fakeWebGpuPackage("exports.create = () => ({ requestAdapter: () => new Promise(() => setInterval(() => {}, 1000)) });");
  assert.deepEqual(await probeWebGpu(300, hangs), { ok: false, reason: "WebGPU: Dawn's requestAdapter did not answer within 0.3 s" });
  const crashes = fakeWebGpuPackage("exports.create = () => ({ requestAdapter: () => { process.kill(process.pid, 'SIGSEGV'); return new Promise(() => {}); } });");
  assert.deepEqual(await probeWebGpu(5_000, crashes), { ok: false, reason: "the WebGPU probe crashed (SIGSEGV)" });
  const loadError = "/lib/x86_64-linux-gnu/libc.so.6: version `GLIBC_2.38' not found (required by dawn.node)";
  const broken = fakeWebGpuPackage(`throw new Error(${JSON.stringify(loadError)});`);
  assert.deepEqual(await probeWebGpu(5_000, broken), {
    ok: false,
    reason: `WebGPU: webgpu does not load (${loadError})`,
  });
  assert.deepEqual(await probeWebGpu(5_000, null), { ok: false, reason: "the optional package webgpu is not installed" });
});

test("optional dependency: with the webgpu package absent (npm ci --omit=optional, or its install failed) the engine falls back to wasm", () => {
  // Make `webgpu` unresolvable in the child, as if node_modules/webgpu did not exist.
  const hide = fakeWebGpuPackage(`
    const Module = require("module");
    const resolve = Module._resolveFilename;
    Module._resolveFilename = function (request, ...rest) {
      if (request === "webgpu" || request.startsWith("webgpu/")) throw Object.assign(new Error("Cannot find module 'webgpu'"), { code: "MODULE_NOT_FOUND" });
      return resolve.call(this, request, ...rest);
    };`);
  const auto = runNode(`require(${JSON.stringify(ENGINE)}).initEngine({ threads: 2 }).then((i) => console.log(require("@tensorflow/tfjs").getBackend()))`, {
    TFJS_BACKEND: "",
    NODE_OPTIONS: `--require ${hide}`,
  });
  assert.equal(auto.status, 0, auto.stderr);
  assert.match(auto.stdout, /^engine: wasm \(2 threads\) — automatic: .*; the optional package webgpu is not installed; using XNNPACK wasm/m);
  assert.match(auto.stdout, /^wasm$/m);
  const forced = runNode(`require(${JSON.stringify(ENGINE)}).initEngine().catch((e) => { console.log(e.message); process.exit(3); })`, {
    TFJS_BACKEND: "webgpu",
    NODE_OPTIONS: `--require ${hide}`,
  });
  assert.equal(forced.status, 3, forced.stderr);
  assert.match(forced.stdout, /^TFJS_BACKEND=webgpu: the optional package webgpu is not installed\. WebGPU needs/);
});

test("package.json: webgpu is optional and pinned; tfjs' WebGPU backend is the same release as @tensorflow/tfjs", () => {
  const pkg = JSON.parse(fs.readFileSync(path.resolve(__dirname, "../../package.json"), "utf8"));
  assert.match(pkg.optionalDependencies?.webgpu ?? "", /^\d+\.\d+\.\d+$/, "webgpu in optionalDependencies, exact version");
  assert.equal(pkg.dependencies.webgpu, undefined, "webgpu must not be a required dependency");
  assert.equal(pkg.dependencies["@tensorflow/tfjs-backend-webgpu"], pkg.dependencies["@tensorflow/tfjs"]);
});
