import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as tf from "@tensorflow/tfjs";
import { initEngine, setSimdKernels, simdKernelsActive, wasmThreadsInUse, WASM_TRAINING_KERNEL_NAMES } from "../../lib/engine";
import { createRng } from "../../lib/util";

/**
 * Gradients on wasm (with lib/engine's training kernels) against the cpu backend, on fresh random inputs.
 * The cpu backend is tfjs's reference implementation of every kernel.
 */

function randomArray(seed: number | string, size: number): Float32Array {
  const rng = createRng(typeof seed === "number" ? seed : 7).fork(String(seed));
  const out = new Float32Array(size);
  for (let i = 0; i < size; i++) out[i] = rng.normal();
  return out;
}

function sizeOf(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Run `compute` on a backend; returns plain arrays so results can be compared across backends. */
async function on(backend: "cpu" | "wasm", compute: () => tf.Tensor[]): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  const before = tf.memory().numTensors;
  const outputs = tf.tidy(compute);
  const arrays = outputs.map((t) => t.dataSync() as Float32Array);
  tf.dispose(outputs);
  assert.equal(tf.memory().numTensors, before, `${backend}: tensors leaked`);
  return arrays;
}

function assertClose(actual: Float32Array, expected: Float32Array, label: string, tolerance = 1e-4): void {
  assert.equal(actual.length, expected.length, `${label}: length`);
  let scale = 0;
  let worst = 0;
  for (let i = 0; i < expected.length; i++) {
    scale = Math.max(scale, Math.abs(expected[i]));
    worst = Math.max(worst, Math.abs(actual[i] - expected[i]));
  }
  assert.ok(scale > 0, `${label}: reference gradient is all zeros`);
  assert.ok(worst / scale < tolerance, `${label}: max abs diff ${worst} vs scale ${scale} (relative ${worst / scale})`);
}

test("engine starts a wasm backend with the training kernels registered", async () => {
  const info = await initEngine({ backend: "wasm", log: false });
  assert.equal(info.backend, "wasm");
  assert.equal(tf.getBackend(), "wasm");
  for (const name of WASM_TRAINING_KERNEL_NAMES) assert.ok(tf.getKernel(name, "wasm"), `${name} registered`);
});

const N = 2;
const H = 9;
const W = 11;

// Channel counts that reach every code path of the SIMD kernels: RGB-like inputs (fewer than four channels),
// runs of four, sixteen and eight output channels, and leftovers after each.
const CONV_CHANNELS: Array<[number, number]> = [
  [3, 4],
  [16, 8],
  [21, 19],
];

for (const kernel of [1, 3, 7]) {
  for (const stride of [1, 2]) {
    for (const pad of ["same", "valid"] as const) {
      for (const [cin, cout] of CONV_CHANNELS) {
      test(`conv2d gradients match cpu: kernel ${kernel}, stride ${stride}, ${pad}, channels ${cin}→${cout}`, async () => {
        await initEngine({ backend: "wasm", log: false });
        const xShape = [N, H, W, cin];
        const wShape = [kernel, kernel, cin, cout];
        const seed = `conv:${kernel}:${stride}:${pad}:${cin}:${cout}`;
        const xData = randomArray(`${seed}:x`, sizeOf(xShape));
        const wData = randomArray(`${seed}:w`, sizeOf(wShape));
        const compute = (): tf.Tensor[] => {
          const x = tf.tensor4d(xData, xShape as [number, number, number, number]);
          const w = tf.tensor4d(wData, wShape as [number, number, number, number]);
          const probe = (a: tf.Tensor4D, b: tf.Tensor4D): tf.Tensor => {
            const y = tf.conv2d(a, b, stride, pad);
            const r = tf.tensor(randomArray(`${seed}:r`, y.size), y.shape);
            return tf.sum(tf.mul(y, r));
          };
          const [dx, dw] = tf.grads((a: tf.Tensor, b: tf.Tensor) => probe(a as tf.Tensor4D, b as tf.Tensor4D))([x, w]);
          return [dx, dw];
        };
        const expected = await on("cpu", compute);
        const actual = await on("wasm", compute);
        assertClose(actual[0], expected[0], "dx");
        assertClose(actual[1], expected[1], "dW");
      });
      }
    }
  }
}

for (const kernel of [1, 3, 7]) {
  for (const stride of [1, 2]) {
    for (const pad of ["same", "valid"] as const) {
      for (const multiplier of [1, 2]) {
        test(`depthwiseConv2d gradients match cpu: kernel ${kernel}, stride ${stride}, ${pad}, multiplier ${multiplier}`, async () => {
          await initEngine({ backend: "wasm", log: false });
          const channels = 3;
          const xShape = [N, H, W, channels];
          const wShape = [kernel, kernel, channels, multiplier];
          const seed = `dw:${kernel}:${stride}:${pad}:${multiplier}`;
          const xData = randomArray(`${seed}:x`, sizeOf(xShape));
          const wData = randomArray(`${seed}:w`, sizeOf(wShape));
          const compute = (): tf.Tensor[] => {
            const x = tf.tensor4d(xData, xShape as [number, number, number, number]);
            const w = tf.tensor4d(wData, wShape as [number, number, number, number]);
            const probe = (a: tf.Tensor4D, b: tf.Tensor4D): tf.Tensor => {
              const y = tf.depthwiseConv2d(a, b, stride, pad);
              const r = tf.tensor(randomArray(`${seed}:r`, y.size), y.shape);
              return tf.sum(tf.mul(y, r));
            };
            const [dx, dw] = tf.grads((a: tf.Tensor, b: tf.Tensor) => probe(a as tf.Tensor4D, b as tf.Tensor4D))([x, w]);
            return [dx, dw];
          };
          const expected = await on("cpu", compute);
          const actual = await on("wasm", compute);
          assertClose(actual[0], expected[0], "dx");
          assertClose(actual[1], expected[1], "dW");
        });
      }
    }
  }
}

for (const size of [2, 3]) {
  for (const stride of [1, 2]) {
    for (const pad of ["same", "valid"] as const) {
      test(`maxPool gradient matches cpu: pool ${size}, stride ${stride}, ${pad}`, async () => {
        await initEngine({ backend: "wasm", log: false });
        const xShape = [N, H, W, 5];
        const seed = `pool:${size}:${stride}:${pad}`;
        // Rounded values make ties common: the gradient must go to the first maximum, as on cpu.
        const xData = randomArray(`${seed}:x`, sizeOf(xShape)).map((v) => Math.round(v * 2));
        const compute = (): tf.Tensor[] => {
          const x = tf.tensor4d(xData, xShape as [number, number, number, number]);
          const probe = (a: tf.Tensor): tf.Tensor => {
            const y = tf.maxPool(a as tf.Tensor4D, size, stride, pad);
            return tf.sum(tf.mul(y, tf.tensor(randomArray(`${seed}:r`, y.size), y.shape)));
          };
          return [tf.grad(probe)(x)];
        };
        const expected = await on("cpu", compute);
        const actual = await on("wasm", compute);
        assertClose(actual[0], expected[0], "dx", 1e-6);
      });
    }
  }
}

test("GatherV2 fast path (rows along axis 0) matches cpu; other axes and bad indices still go to the stock kernel", async () => {
  await initEngine({ backend: "wasm", log: false });
  const shape: [number, number, number, number] = [6, 5, 4, 3];
  const data = randomArray("fast:x", sizeOf(shape));
  const compute = (): tf.Tensor[] => {
    const x = tf.tensor4d(data, shape);
    return [
      tf.gather(x, tf.tensor1d([5, 0, 0, 3], "int32")),
      tf.gather(x, tf.tensor2d([[1, 2], [4, 4]], [2, 2], "int32")),
      tf.gather(x, tf.tensor1d([1, 2], "int32"), 2),
    ];
  };
  const expected = await on("cpu", compute);
  const actual = await on("wasm", compute);
  expected.forEach((e, i) => assertClose(actual[i], e, `output ${i}`, 1e-7));
  await tf.setBackend("wasm");
  assert.throws(() => tf.gather(tf.zeros([2, 3]), tf.tensor1d([7], "int32")), /7/);
});

test("per-channel broadcast fast paths (Multiply, Add, Sub, SquaredDifference) match cpu in both operand orders", async () => {
  await initEngine({ backend: "wasm", log: false });
  const shapes: number[][] = [
    [8, 16, 16, 12],
    [4096, 12],
    [16, 128, 12],
  ];
  const vData = randomArray("bc:v", 12);
  for (const shape of shapes) {
    const xData = randomArray(`bc:x:${shape.join("x")}`, sizeOf(shape));
    const compute = (): tf.Tensor[] => {
      const x = tf.tensor(xData, shape);
      const v = tf.tensor1d(vData);
      const v4 = tf.reshape(v, [...new Array(shape.length - 1).fill(1), 12]);
      return [
        tf.mul(x, v), tf.mul(v4, x),
        tf.add(x, v4), tf.add(v, x),
        tf.sub(x, v), tf.sub(v4, x),
        tf.squaredDifference(x, v), tf.squaredDifference(v, x),
      ];
    };
    const expected = await on("cpu", compute);
    const actual = await on("wasm", compute);
    expected.forEach((e, i) => assertClose(actual[i], e, `shape ${shape.join("×")}, output ${i}`, 1e-6));
  }
});

test("leading-axes Sum/Mean fast path matches cpu; other reductions still go to the stock kernels", async () => {
  await initEngine({ backend: "wasm", log: false });
  const shape = [8, 16, 16, 10]; // ≥ 16 384 values: the fast path
  const data = randomArray("red:x", sizeOf(shape));
  const compute = (): tf.Tensor[] => {
    const x = tf.tensor(data, shape);
    return [
      tf.sum(x, [0, 1, 2]),
      tf.mean(x, [0, 1, 2]),
      tf.mean(x, [0, 1], true),
      tf.sum(x, 0),
      tf.sum(tf.reshape(x, [2048, 10]), 0),
      tf.mean(x, [1, 2]), // not leading: stock
      tf.sum(x), // all axes: stock
    ];
  };
  const expected = await on("cpu", compute);
  const actual = await on("wasm", compute);
  // float32 sums of 20 480 values differ between backends at ~1e-5 relative, whatever the algorithm.
  expected.forEach((e, i) => assertClose(actual[i], e, `output ${i}`, 1e-4));
});

test("matrix products with transposed operands (dense gradients) match cpu, batched, fused with bias and relu", async () => {
  await initEngine({ backend: "wasm", log: false });
  const [a, b, w, bias] = [randomArray("mm:a", 2 * 37 * 19), randomArray("mm:b", 2 * 37 * 11), randomArray("mm:w", 19 * 11), randomArray("mm:bias", 11)];
  const compute = (): tf.Tensor[] => {
    const x = tf.tensor3d(a, [2, 37, 19]);
    const dy = tf.tensor3d(b, [2, 37, 11]);
    const x2 = tf.tensor2d(a.subarray(0, 37 * 19), [37, 19]);
    const dy2 = tf.tensor2d(b.subarray(0, 37 * 11), [37, 11]);
    const kernel = tf.tensor2d(w, [19, 11]);
    return [
      tf.matMul(x2, dy2, true, false), // xᵀ·dy: a dense kernel's gradient
      tf.matMul(dy2, kernel, false, true), // dy·Wᵀ: the input's gradient
      tf.matMul(x, dy, true, false), // batched
      tf.matMul(dy2, tf.transpose(x2), true, true),
      tf.fused.matMul({ a: x2, b: dy2, transposeA: true, bias: tf.tensor1d(bias), activation: "relu" }),
      tf.matMul(x2, kernel), // untransposed: the stock kernel
    ];
  };
  const expected = await on("cpu", compute);
  const actual = await on("wasm", compute);
  expected.forEach((e, i) => assertClose(actual[i], e, `output ${i}`, 1e-5));
});

test("Identity shares data: a clone outlives its source and both read the same values", async () => {
  await initEngine({ backend: "wasm", log: false });
  await tf.setBackend("wasm");
  const before = tf.memory().numTensors;
  const x = tf.tensor1d([1, 2, 3]);
  const copy = tf.clone(x);
  x.dispose();
  assert.deepEqual(Array.from(copy.dataSync()), [1, 2, 3]);
  const y = tf.add(copy, 1);
  copy.dispose();
  assert.deepEqual(Array.from(y.dataSync()), [2, 3, 4]);
  y.dispose();
  assert.equal(tf.memory().numTensors, before);
});

test("FusedBatchNorm forward fast path matches cpu, with and without scale/offset", async () => {
  await initEngine({ backend: "wasm", log: false });
  // Large enough (≥ 16 384 values, ≥ 8 channels) to take the fast path.
  const shape: [number, number, number, number] = [8, 16, 16, 12];
  const xData = randomArray("bnf:x", sizeOf(shape));
  const v = (label: string, positive = false) => randomArray(`bnf:${label}`, 12).map((x) => (positive ? Math.abs(x) + 0.1 : x));
  const [m, s2, g, b] = [v("m"), v("v", true), v("g"), v("b")];
  const compute = (): tf.Tensor[] => {
    const x = tf.tensor4d(xData, shape);
    return [
      tf.batchNorm(x, tf.tensor1d(m), tf.tensor1d(s2), tf.tensor1d(b), tf.tensor1d(g), 1e-3),
      tf.batchNorm(x, tf.tensor1d(m), tf.tensor1d(s2), undefined, undefined, 1e-3),
      tf.batchNorm(tf.reshape(x, [2048, 12]), tf.tensor1d(m), tf.tensor1d(s2), tf.tensor1d(b), tf.tensor1d(g), 1e-3),
    ];
  };
  const expected = await on("cpu", compute);
  const actual = await on("wasm", compute);
  expected.forEach((e, i) => assertClose(actual[i], e, `output ${i}`, 1e-5));
});

test("the threaded wasm backend runs our SIMD kernels (simd/kernels.wasm over its shared memory)", async () => {
  await initEngine({ backend: "wasm", log: false });
  assert.equal(simdKernelsActive(), wasmThreadsInUse() > 1, "SIMD kernels exactly when the backend's memory is shared");
});

test("SIMD kernels split over threads match cpu on tensors large enough to use every thread", async () => {
  await initEngine({ backend: "wasm", log: false });
  const xShape: [number, number, number, number] = [8, 32, 32, 16];
  const wShape: [number, number, number, number] = [3, 3, 16, 24];
  const xData = randomArray("big:x", sizeOf(xShape)).map((v) => Math.round(v * 4) / 4); // ties for the pooling
  const wData = randomArray("big:w", sizeOf(wShape));
  const vData = randomArray("big:v", 16);
  const compute = (): tf.Tensor[] => {
    const x = tf.tensor4d(xData, xShape);
    const w = tf.tensor4d(wData, wShape);
    const probe = (a: tf.Tensor, b: tf.Tensor): tf.Tensor => {
      const y = tf.conv2d(tf.maxPool(a as tf.Tensor4D, 2, 2, "valid"), b as tf.Tensor4D, 1, "same");
      return tf.sum(tf.mul(y, tf.tensor(randomArray("big:r", y.size), y.shape)));
    };
    const [dx, dw] = tf.grads(probe)([x, w]);
    const v = tf.tensor1d(vData);
    return [dx, dw, tf.sum(x, [0, 1, 2]), tf.mean(x, [0, 1]), tf.mul(x, v), tf.sub(v, x), tf.squaredDifference(x, v)];
  };
  const expected = await on("cpu", compute);
  const actual = await on("wasm", compute);
  expected.forEach((e, i) => assertClose(actual[i], e, `output ${i}`, 1e-4));
});

test("with the SIMD kernels turned off, the op-based training kernels still match cpu", async () => {
  await initEngine({ backend: "wasm", log: false });
  setSimdKernels(false);
  try {
    for (const [stride, pad] of [[1, "same"], [2, "valid"]] as const) {
      const xShape: [number, number, number, number] = [2, 9, 11, 5];
      const wShape: [number, number, number, number] = [3, 3, 5, 6];
      const seed = `off:${stride}:${pad}`;
      const xData = randomArray(`${seed}:x`, sizeOf(xShape));
      const wData = randomArray(`${seed}:w`, sizeOf(wShape));
      const compute = (): tf.Tensor[] => {
        const probe = (a: tf.Tensor, b: tf.Tensor): tf.Tensor => {
          const y = tf.conv2d(tf.maxPool(a as tf.Tensor4D, 2, 1, "same"), b as tf.Tensor4D, stride, pad);
          return tf.sum(tf.mul(y, tf.tensor(randomArray(`${seed}:r`, y.size), y.shape)));
        };
        return tf.grads(probe)([tf.tensor4d(xData, xShape), tf.tensor4d(wData, wShape)]);
      };
      const expected = await on("cpu", compute);
      const actual = await on("wasm", compute);
      assertClose(actual[0], expected[0], `${seed} dx`);
      assertClose(actual[1], expected[1], `${seed} dW`);
    }
    // The op-based fast paths: per-channel broadcasts, BatchNorm forward, leading-axes reductions (≥ 16 384 values).
    const shape: [number, number, number, number] = [8, 16, 16, 12];
    const xData = randomArray("off:big", sizeOf(shape));
    const vData = randomArray("off:v", 12).map((v) => Math.abs(v) + 0.1);
    const compute = (): tf.Tensor[] => {
      const x = tf.tensor4d(xData, shape);
      const v = tf.tensor1d(vData);
      return [tf.mul(x, v), tf.sub(v, x), tf.squaredDifference(x, v), tf.batchNorm(x, v, v, v, v, 1e-3), tf.sum(x, [0, 1, 2]), tf.mean(x, [0, 1])];
    };
    const expected = await on("cpu", compute);
    const actual = await on("wasm", compute);
    expected.forEach((e, i) => assertClose(actual[i], e, `op-based output ${i}`, 1e-4));
  } finally {
    setSimdKernels(true);
  }
});

test("SIMD forward convolution (Conv2D and FusedConv2D with bias and relu/relu6) matches cpu", async () => {
  await initEngine({ backend: "wasm", log: false });
  // 16 and 32 output channels over 8+ input channels take our kernel; odd sizes and strides reach its borders.
  const cases: Array<[number[], number[], number, "same" | "valid"]> = [
    [[3, 9, 11, 8], [3, 3, 8, 16], 1, "same"],
    [[2, 10, 7, 12], [3, 3, 12, 32], 2, "same"],
    [[2, 9, 9, 16], [5, 5, 16, 16], 1, "valid"],
  ];
  for (const [xShape, wShape, stride, pad] of cases) {
    const seed = `fwd:${xShape.join("x")}:${wShape.join("x")}`;
    const [xData, wData, bData] = [randomArray(`${seed}:x`, sizeOf(xShape)), randomArray(`${seed}:w`, sizeOf(wShape)), randomArray(`${seed}:b`, wShape[3])];
    const compute = (): tf.Tensor[] => {
      const x = tf.tensor4d(xData, xShape as [number, number, number, number]);
      const w = tf.tensor4d(wData, wShape as [number, number, number, number]);
      const b = tf.tensor1d(bData);
      return [
        tf.conv2d(x, w, stride, pad),
        tf.fused.conv2d({ x, filter: w, strides: stride, pad, bias: b, activation: "relu" }),
        tf.fused.conv2d({ x, filter: w, strides: stride, pad, bias: b, activation: "relu6" }),
        tf.fused.conv2d({ x, filter: w, strides: stride, pad }),
      ];
    };
    const expected = await on("cpu", compute);
    const actual = await on("wasm", compute);
    expected.forEach((e, i) => assertClose(actual[i], e, `${seed} output ${i}`, 1e-5));
  }
});

test("SIMD ReLU, global-average-pooling and batch-norm gradients match cpu", async () => {
  await initEngine({ backend: "wasm", log: false });
  const shape: [number, number, number, number] = [8, 12, 12, 20];
  const xData = randomArray("grads:x", sizeOf(shape));
  const gamma = randomArray("grads:g", 20);
  const compute = (): tf.Tensor[] => {
    const x = tf.tensor4d(xData, shape);
    const probe = (a: tf.Tensor): tf.Tensor => {
      const { mean, variance } = tf.moments(a, [0, 1, 2]);
      // (tfjs-core cannot differentiate batchNorm without an offset: its tape then holds an undefined input.)
      const normed = tf.batchNorm(a, mean, variance, tf.tensor1d(gamma.map((g) => g / 2)), tf.tensor1d(gamma), 1e-3);
      const pooled = tf.mean(tf.relu(normed), [1, 2]); // global average pooling: a middle-axes reduction
      return tf.sum(tf.mul(pooled, tf.tensor(randomArray("grads:r", pooled.size), pooled.shape)));
    };
    return [tf.grad(probe)(x), tf.mean(x, [1, 2]), tf.sum(x, [1, 2], true)];
  };
  const expected = await on("cpu", compute);
  const actual = await on("wasm", compute);
  expected.forEach((e, i) => assertClose(actual[i], e, `output ${i}`, 1e-4));
});

const hasClang = spawnSync("clang-14", ["--version"]).status === 0 && spawnSync("llvm-objdump-14", ["--version"]).status === 0;

test("the committed engine/simd/kernels.wasm, util/gemm.wasm and images/sampling.wasm are the build of their C sources (needs clang-14 + lld-14)", { skip: !hasClang }, () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "poi-simd-"));
  try {
    const result = spawnSync("bash", [path.join("lib", "engine", "simd", "build.sh"), dir], { encoding: "utf8" });
    assert.equal(result.status, 0, result.stderr);
    for (const committed of [path.join("lib", "engine", "simd", "kernels.wasm"), path.join("lib", "util", "gemm.wasm"), path.join("lib", "images", "sampling.wasm")]) {
      const built = fs.readFileSync(path.join(dir, path.basename(committed)));
      assert.ok(built.equals(fs.readFileSync(committed)), `rebuild ${committed} with lib/engine/simd/build.sh and commit it`);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("SIMD gradients are deterministic: repeated filter gradients and per-channel sums are bit-identical", async () => {
  await initEngine({ backend: "wasm", log: false });
  const x = tf.tensor4d(randomArray("det:x", 16 * 32 * 32 * 16), [16, 32, 32, 16]);
  const dy = tf.tensor4d(randomArray("det:dy", 16 * 32 * 32 * 24), [16, 32, 32, 24]);
  const once = (): number[] =>
    tf.tidy(() => {
      const dw = tf.grad((w: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(x, w as tf.Tensor4D, 1, "same"), dy)))(tf.zeros([3, 3, 16, 24]));
      return [...dw.dataSync(), ...tf.sum(dy, [0, 1, 2]).dataSync()];
    });
  const first = once();
  for (let i = 0; i < 5; i++) assert.deepEqual(once(), first, `repeat ${i + 1} differs`);
  tf.dispose([x, dy]);
});
