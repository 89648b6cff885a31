import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "child_process";
import * as path from "path";
import { parseBackendSetting, parseThreadsSetting } from "../../lib/engine";

const ENGINE = path.resolve(__dirname, "../../lib/engine");

test("TFJS_BACKEND accepts the backend names and aliases, and names the setting when wrong", () => {
  assert.equal(parseBackendSetting(undefined), undefined);
  assert.equal(parseBackendSetting("auto"), undefined);
  assert.equal(parseBackendSetting("wasm"), "wasm");
  assert.equal(parseBackendSetting("CPU"), "cpu");
  assert.equal(parseBackendSetting("gpu"), "tfjs-node-gpu");
  assert.equal(parseBackendSetting("tensorflow"), "tfjs-node");
  assert.throws(() => parseBackendSetting("webgl"), /TFJS_BACKEND=webgl: unknown backend; use one of tfjs-node-gpu, tfjs-node, wasm, cpu/);
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

test("automatic choice: without tfjs-node the engine runs multithreaded wasm, says why, and the process exits by itself", () => {
  const code = `
    const tf = require("@tensorflow/tfjs");
    const { initEngine } = require(${JSON.stringify(ENGINE)});
    const before = process.listeners("uncaughtException").length + process.listeners("unhandledRejection").length;
    initEngine({ threads: 2 }).then((info) => {
      const y = tf.conv2d(tf.ones([1, 8, 8, 3]), tf.ones([3, 3, 3, 4]), 1, "same");
      const after = process.listeners("uncaughtException").length + process.listeners("unhandledRejection").length;
      console.log(JSON.stringify({ info, backend: tf.getBackend(), center: y.dataSync()[(4 * 8 + 4) * 4],
        globalWorker: typeof globalThis.Worker, listenersAdded: after - before }));
    });`;
  const { status, stdout, stderr } = runNode(code, { TFJS_BACKEND: "", INFERENCE_RUNTIME: "" });
  assert.equal(status, 0, stderr);
  const lines = stdout.trim().split("\n");
  assert.match(lines[0], /^engine: wasm \(2 threads\) — automatic: @tensorflow\/tfjs-node-gpu is not installed; @tensorflow\/tfjs-node is not installed; using XNNPACK wasm \(SIMD, multithreaded\) · frozen backbones: automatic: onnxruntime-node [\d.]+ \(CPU, 2 threads\)$/);
  const result = JSON.parse(lines[1]);
  assert.equal(result.info.backend, "wasm");
  assert.equal(result.info.threads, 2);
  assert.equal(result.backend, "wasm");
  assert.equal(result.center, 27, "3×3×3 ones convolved with ones");
  assert.equal(result.globalWorker, "undefined", "no global Worker left behind");
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
