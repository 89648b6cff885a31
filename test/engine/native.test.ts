import { test, before } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { nativeKernelStatus, type TrainKernels } from "../../lib/engine/native";
import { createRng } from "../../lib/util/random";

/**
 * The native training kernels against TensorFlow.js on the cpu backend, shape by shape: channel counts below, at and
 * above the 16- and 32-wide vector tiles, images narrower than a row tile, 1×1 to 5×5 kernels, strides 1–3, same
 * and valid padding. Tolerance: float32 sums in another order (and with fused multiply-adds), relative to the
 * largest reference value.
 */
let kernels: TrainKernels;

before(async () => {
  await tf.setBackend("cpu");
  const status = nativeKernelStatus();
  assert.ok(status.kernels, `native training kernels: ${status.detail}`);
  kernels = status.kernels;
});

function random(length: number, rng: ReturnType<typeof createRng>): Float32Array {
  return Float32Array.from({ length }, () => rng.normal());
}

function assertClose(actual: Float32Array, expected: Float32Array, what: string, tolerance = 1e-5): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  let scale = 1;
  for (const v of expected) scale = Math.max(scale, Math.abs(v));
  for (let i = 0; i < expected.length; i++) {
    if (!(Math.abs(actual[i] - expected[i]) <= tolerance * scale)) assert.fail(`${what}: value ${i} is ${actual[i]}, tfjs ${expected[i]}`);
  }
}

/** tfjs' output size and leading padding for one axis. */
function axis(size: number, kernel: number, stride: number, padding: "same" | "valid"): { out: number; pad: number } {
  const out = padding === "same" ? Math.ceil(size / stride) : Math.floor((size - kernel) / stride) + 1;
  const pad = padding === "same" ? Math.floor(Math.max((out - 1) * stride + kernel - size, 0) / 2) : 0;
  return { out, pad };
}

const CONVOLUTIONS = [
  { n: 2, h: 9, w: 11, cin: 3, cout: 16, k: [3, 3], s: [1, 1], padding: "same", relu: false, bias: true },
  { n: 3, h: 6, w: 5, cin: 1, cout: 1, k: [1, 1], s: [1, 1], padding: "valid", relu: true, bias: true },
  { n: 1, h: 13, w: 7, cin: 20, cout: 70, k: [3, 3], s: [2, 2], padding: "same", relu: true, bias: false },
  { n: 2, h: 12, w: 15, cin: 5, cout: 33, k: [5, 3], s: [3, 1], padding: "valid", relu: false, bias: true },
  { n: 4, h: 8, w: 8, cin: 16, cout: 32, k: [3, 3], s: [1, 1], padding: "same", relu: true, bias: true },
  { n: 1, h: 4, w: 3, cin: 64, cout: 48, k: [2, 2], s: [2, 1], padding: "same", relu: false, bias: true },
] as const;

for (const c of CONVOLUTIONS) {
  const name = `${c.n}×${c.h}×${c.w}×${c.cin} → ${c.cout}, kernel ${c.k.join("×")}, stride ${c.s.join("×")}, ${c.padding}${c.relu ? ", relu" : ""}${c.bias ? "" : ", no bias"}`;
  test(`convolution ${name}: forward, filter, bias and input gradients equal tfjs'`, () => {
    const rng = createRng(c.cin * 100 + c.cout);
    const rows = axis(c.h, c.k[0], c.s[0], c.padding);
    const cols = axis(c.w, c.k[1], c.s[1], c.padding);
    const x = random(c.n * c.h * c.w * c.cin, rng);
    const w = random(c.k[0] * c.k[1] * c.cin * c.cout, rng);
    const b = c.bias ? random(c.cout, rng) : null;
    const dy = random(c.n * rows.out * cols.out * c.cout, rng);
    const dims = Int32Array.from([c.n, c.h, c.w, c.cin, rows.out, cols.out, c.cout, c.k[0], c.k[1], c.s[0], c.s[1], rows.pad, cols.pad, 1, 1, c.relu ? 1 : 0]);

    const y = new Float32Array(dy.length);
    kernels.conv2dForward(x, w, b, y, dims);
    const dw = new Float32Array(w.length).fill(NaN);
    const db = c.bias ? new Float32Array(c.cout).fill(NaN) : null;
    const dx = Float32Array.from(x, (_, i) => (i % 7) * 0.5); // accumulated into: starts non-zero
    const dxBefore = dx.slice();
    kernels.conv2dBackward(x, w, y, dy, dw, db, dx, dims);

    tf.tidy(() => {
      const xt = tf.tensor4d(x, [c.n, c.h, c.w, c.cin]);
      const wt = tf.tensor4d(w, [c.k[0], c.k[1], c.cin, c.cout]);
      const bt = tf.tensor1d(b ?? new Float32Array(c.cout));
      const dyt = tf.tensor4d(dy, [c.n, rows.out, cols.out, c.cout]);
      const forward = (xi: tf.Tensor, wi: tf.Tensor, bi: tf.Tensor): tf.Tensor => {
        const z = tf.add(tf.conv2d(xi as tf.Tensor4D, wi as tf.Tensor4D, c.s as unknown as [number, number], c.padding), bi);
        return c.relu ? tf.relu(z) : z;
      };
      assertClose(y, forward(xt, wt, bt).dataSync() as Float32Array, "forward");
      const [gx, gw, gb] = tf.grads((xi: tf.Tensor, wi: tf.Tensor, bi: tf.Tensor) => tf.sum(tf.mul(forward(xi, wi, bi), dyt)))([xt, wt, bt]);
      assertClose(dw, gw.dataSync() as Float32Array, "filter gradient");
      if (db) assertClose(db, gb.dataSync() as Float32Array, "bias gradient");
      assertClose(Float32Array.from(dx, (v, i) => v - dxBefore[i]), gx.dataSync() as Float32Array, "input gradient (added to dx)");
    });
  });
}

test("max pooling (2×2 valid, 3×3 stride 2 same, 2×3 stride 1) and its gradient equal tfjs'", () => {
  for (const [h, w, ch, ph, pw, sh, sw, padding] of [
    [8, 6, 5, 2, 2, 2, 2, "valid"],
    [9, 7, 17, 3, 3, 2, 2, "same"],
    [5, 6, 3, 2, 3, 1, 1, "valid"],
  ] as const) {
    const rng = createRng(h * w + ch);
    const n = 2;
    const rows = axis(h, ph, sh, padding);
    const cols = axis(w, pw, sw, padding);
    const x = random(n * h * w * ch, rng);
    const dy = random(n * rows.out * cols.out * ch, rng);
    const dims = Int32Array.from([n, h, w, ch, rows.out, cols.out, ph, pw, sh, sw, rows.pad, cols.pad]);
    const y = new Float32Array(dy.length);
    const argmax = new Int32Array(dy.length);
    kernels.maxPoolForward(x, y, argmax, dims);
    const dx = new Float32Array(x.length);
    kernels.maxPoolBackward(dy, argmax, dx, dims);
    tf.tidy(() => {
      const xt = tf.tensor4d(x, [n, h, w, ch]);
      const pool = (xi: tf.Tensor) => tf.maxPool(xi as tf.Tensor4D, [ph, pw], [sh, sw], padding);
      assertClose(y, pool(xt).dataSync() as Float32Array, `pool ${ph}×${pw}/${sh}×${sw} ${padding}`, 0);
      const g = tf.grad((xi: tf.Tensor) => tf.sum(tf.mul(pool(xi), tf.tensor4d(dy, [n, rows.out, cols.out, ch]))))(xt);
      assertClose(dx, g.dataSync() as Float32Array, `pool gradient ${ph}×${pw}/${sh}×${sw} ${padding}`);
    });
  }
});

test("batch norm over images (statistics, normalisation, moving averages, full gradient) and global average pooling equal tfjs'", () => {
  const rng = createRng(5);
  const [rows, c] = [7 * 9 * 2, 19];
  const x = Float32Array.from({ length: rows * c }, (_, i) => rng.normal() * 3 + (i % c));
  const gamma = random(c, rng);
  const beta = random(c, rng);
  const dy = random(rows * c, rng);
  const y = new Float32Array(x.length);
  const xhat = new Float32Array(x.length);
  const invStd = new Float64Array(c);
  const movingMean = new Float32Array(c).fill(0.5);
  const movingVariance = new Float32Array(c).fill(2);
  kernels.batchNormForward(x, y, xhat, invStd, gamma, beta, movingMean, movingVariance, rows, c, 1e-3, 0.99);
  const dgamma = new Float32Array(c);
  const dbeta = new Float32Array(c);
  const dx = new Float32Array(x.length);
  kernels.batchNormBackward(dy, xhat, invStd, gamma, dgamma, dbeta, dx, rows, c);
  tf.tidy(() => {
    const xt = tf.tensor2d(x, [rows, c]);
    const { mean, variance } = tf.moments(xt, 0);
    const forward = (xi: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
      const m = tf.moments(xi, 0);
      return tf.batchNorm(xi, m.mean, m.variance, b, g, 1e-3);
    };
    const g = tf.tensor1d(gamma);
    const b = tf.tensor1d(beta);
    assertClose(y, forward(xt, g, b).dataSync() as Float32Array, "batch norm forward");
    assertClose(movingMean, tf.sub(0.5, tf.mul(tf.sub(0.5, mean), 0.01)).dataSync() as Float32Array, "moving mean");
    assertClose(movingVariance, tf.sub(2, tf.mul(tf.sub(2, variance), 0.01)).dataSync() as Float32Array, "moving variance");
    const [gx, gg, gb] = tf.grads((xi: tf.Tensor, gi: tf.Tensor, bi: tf.Tensor) => tf.sum(tf.mul(forward(xi, gi, bi), tf.tensor2d(dy, [rows, c]))))([xt, g, b]);
    assertClose(dx, gx.dataSync() as Float32Array, "batch norm input gradient", 1e-4);
    assertClose(dgamma, gg.dataSync() as Float32Array, "γ gradient");
    assertClose(dbeta, gb.dataSync() as Float32Array, "β gradient");
  });
  const [n, pixels] = [3, 5 * 4];
  const images = random(n * pixels * c, rng);
  const pooled = new Float32Array(n * c);
  kernels.globalAvgPoolForward(images, pooled, n, pixels, c);
  const back = new Float32Array(images.length);
  const gradient = random(n * c, rng);
  kernels.globalAvgPoolBackward(gradient, back, n, pixels, c);
  tf.tidy(() => {
    const xt = tf.tensor4d(images, [n, 5, 4, c]);
    assertClose(pooled, tf.mean(xt, [1, 2]).dataSync() as Float32Array, "global average pool");
    const g = tf.grad((xi: tf.Tensor) => tf.sum(tf.mul(tf.mean(xi, [1, 2]), tf.tensor2d(gradient, [n, c]))))(xt);
    assertClose(back, g.dataSync() as Float32Array, "global average pool gradient");
  });
});

test("the kernels refuse arrays shorter than their dimensions say, naming the kernel", () => {
  const dims = Int32Array.from([1, 4, 4, 2, 4, 4, 3, 3, 3, 1, 1, 1, 1, 1, 1, 0]);
  assert.throws(() => kernels.conv2dForward(new Float32Array(31), new Float32Array(54), null, new Float32Array(48), dims), /train-kernels conv2dForward: argument 0 has 31 elements, needs 32/);
  assert.throws(() => kernels.conv2dForward(new Float32Array(32), new Float32Array(54), null, new Float32Array(48), Int32Array.from([1, 4, 4])), /conv2dForward/);
  assert.throws(() => kernels.reluForward(new Float32Array(4), new Float32Array(3), 4), /reluForward: argument 1 has 3 elements, needs 4/);
});
