import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "fs";
import * as path from "path";
import { compareFingerprints, fingerprint } from "../../bench/gpu/compare";
import { SYNC_READ_MESSAGE } from "../../lib/engine";

test("GPU check comparison: whole small outputs, the same seeded sample of large ones, rtol·max|ref| + atol", () => {
  const small = Float32Array.from({ length: 100 }, (_, i) => Math.sin(i));
  const tol = { rtol: 1e-3, atol: 1e-6, why: "test" };
  assert.equal(fingerprint(small).values.length, 100);
  assert.ok(compareFingerprints("x", fingerprint(small.map((v) => v * (1 + 5e-4))), fingerprint(small), tol).pass);
  const off = small.slice();
  off[7] += 2e-3; // max|ref| ≈ 1: allowed |Δ| ≈ 1e-3
  const failed = compareFingerprints("x", fingerprint(off), fingerprint(small), tol);
  assert.equal(failed.pass, false);
  assert.ok(failed.worst > 1.9 && failed.worst < 2.1, `worst ${failed.worst}`);
  // Gradients that are rounding noise around 0 (a bias before BatchNorm) pass on atol.
  assert.ok(compareFingerprints("b", fingerprint(new Float32Array([1e-11, -3e-9])), fingerprint(new Float32Array([2e-12, 5e-9])), tol).pass);
  const big = Float32Array.from({ length: 50_000 }, (_, i) => Math.cos(i / 7));
  const [a, b] = [fingerprint(big), fingerprint(big.map((v) => v + 1e-7))];
  assert.deepEqual(a.positions, b.positions, "both sides sample the same positions");
  assert.equal(a.values.length, 2048);
  assert.ok(compareFingerprints("big", b, a, tol).pass);
  const nan = big.slice();
  nan[a.positions![3]] = NaN;
  assert.equal(compareFingerprints("big", fingerprint(nan), a, tol).pass, false, "a NaN on one side fails");
});

test("lib/ reads tensors with await only (dataSync / arraySync / bufferSync cannot read a GPU tensor on WebGPU in Node)", () => {
  const root = path.resolve(__dirname, "../../lib");
  // The wasm kernels run on the wasm heap only; startNative's test operation runs on tfjs-node only; the ONNX export
  // reads weights for ONNX Runtime, which the engine chooses on CPU backends only (on a GPU, INFERENCE_RUNTIME=auto
  // keeps embeddings on tfjs).
  const exempt = [
    path.join(root, "engine", "kernels"),
    path.join(root, "engine", "backend.ts"),
    path.join(root, "engine", "webgpu.ts"),
    path.join(root, "engine", "onnx", "export.ts"),
    // Not yet: the detector (issue 17) decodes its output synchronously, so detection does not run on WebGPU yet
    // (environment.md, *GPU paths*).
    path.join(root, "models", "detection", "centernet.ts"),
    // fit's fused step computes on CPU copies; fit does not take it on webgpu.
    path.join(root, "train", "fused-steps.ts"),
  ];
  const offenders: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const file = path.join(dir, entry.name);
      if (exempt.some((e) => file === e || file.startsWith(e + path.sep))) continue;
      if (entry.isDirectory()) walk(file);
      else if (entry.name.endsWith(".ts")) {
        fs.readFileSync(file, "utf8")
          .split("\n")
          .forEach((line, i) => {
            // A line marked "cpu-only read" is never reached on webgpu.
            if (/\.(dataSync|arraySync|bufferSync)\(/.test(line) && !line.includes("cpu-only read")) offenders.push(`${path.relative(root, file)}:${i + 1}`);
          });
      }
    }
  };
  walk(root);
  assert.deepEqual(offenders, [], `${SYNC_READ_MESSAGE}. Found: ${offenders.join(", ")}`);
});
