import { test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { WORKLOADS } from "../../bench/gpu/workloads";

// Registers tfjs' WebGPU kernels (for the backend name "webgpu"); no GPU is needed for the list.
require("@tensorflow/tfjs-backend-webgpu");

test("every kernel the notebooks' workloads dispatch is registered on tfjs' WebGPU backend (no per-op fallback needed)", async () => {
  // The cpu backend runs tfjs-core's own gradients, as WebGPU does (the project's replacements are for wasm only).
  await tf.setBackend("cpu");
  const dispatched = new Set<string>();
  for (const workload of WORKLOADS) {
    const info = await tf.profile(async () => {
      await workload.run("small");
      return [];
    });
    // Only kernels: tf.profile also lists the scopes of custom-gradient ops (e.g. "fusedConv2d__op").
    for (const name of info.kernelNames) if (tf.getKernel(name, "cpu")) dispatched.add(name);
  }
  const webgpu = new Set(tf.getKernelsForBackend("webgpu").map((k) => k.kernelName));
  assert.ok(webgpu.size > 150, `tfjs-backend-webgpu registers ${webgpu.size} kernels`);
  for (const expected of ["FusedConv2D", "FusedDepthwiseConv2D", "Conv2DBackpropFilter", "DepthwiseConv2dNativeBackpropFilter", "MaxPoolGrad", "FusedBatchNorm", "_FusedMatMul"]) {
    assert.ok(dispatched.has(expected), `the workloads exercise ${expected} (dispatched: ${[...dispatched].sort().join(", ")})`);
  }
  const missing = [...dispatched].filter((name) => !webgpu.has(name)).sort();
  assert.deepEqual(missing, [], `kernels with no WebGPU implementation in tfjs-backend-webgpu 4.22: ${missing.join(", ")}`);
});
