import { test } from "node:test";
import assert from "node:assert/strict";
import type { RgbImage } from "../../lib/data/images";
import { type Fill, flipPixels, resamplePixels, warpPixels, type InverseAffine } from "../../lib/images/sampling";
import { createRng } from "../../lib/util";

// The reference: bilinear sampling as plain TypeScript (what lib/images ran before sampling.wasm). The module must give
// the same float32 pixels bit for bit, inside, on and beyond the border, with every fill.

function reflectIndex(i: number, n: number): number {
  if (n === 1) return 0;
  const period = 2 * n;
  let m = ((i % period) + period) % period;
  if (m >= n) m = period - 1 - m;
  return m;
}

function sampleReference(image: RgbImage, x: number, y: number, fill: Fill, out: Float32Array, o: number): void {
  const { width: w, height: h, data } = image;
  const x0 = Math.floor(x);
  const y0 = Math.floor(y);
  const fx = x - x0;
  const fy = y - y0;
  if (x0 >= 0 && y0 >= 0 && x0 + 1 < w && y0 + 1 < h) {
    const a = (y0 * w + x0) * 3;
    const b = a + w * 3;
    const [w00, w01, w10, w11] = [(1 - fx) * (1 - fy), fx * (1 - fy), (1 - fx) * fy, fx * fy];
    for (let c = 0; c < 3; c++) out[o + c] = w00 * data[a + c] + w01 * data[a + 3 + c] + w10 * data[b + c] + w11 * data[b + 3 + c];
    return;
  }
  const sum = [0, 0, 0];
  for (let dy = 0; dy <= 1; dy++) {
    const wy = dy === 0 ? 1 - fy : fy;
    if (wy === 0) continue;
    for (let dx = 0; dx <= 1; dx++) {
      const wx = dx === 0 ? 1 - fx : fx;
      if (wx === 0) continue;
      let xi = x0 + dx;
      let yi = y0 + dy;
      const inside = xi >= 0 && xi < w && yi >= 0 && yi < h;
      let rgb: readonly number[];
      if (inside || fill === "reflect" || fill === "nearest") {
        if (!inside && fill === "reflect") [xi, yi] = [reflectIndex(xi, w), reflectIndex(yi, h)];
        else if (!inside) [xi, yi] = [Math.min(w - 1, Math.max(0, xi)), Math.min(h - 1, Math.max(0, yi))];
        const p = (yi * w + xi) * 3;
        rgb = [data[p], data[p + 1], data[p + 2]];
      } else rgb = typeof fill === "number" ? [fill, fill, fill] : (fill as readonly number[]);
      for (let c = 0; c < 3; c++) sum[c] += wx * wy * rgb[c];
    }
  }
  out.set(sum, o);
}

function warpReference(image: RgbImage, m: InverseAffine, fill: Fill): Float32Array {
  const { width: w, height: h } = image;
  const out = new Float32Array(w * h * 3);
  const cx = (w - 1) / 2;
  const cy = (h - 1) / 2;
  for (let y = 0; y < h; y++) {
    const dy = y - cy - m.ty;
    for (let x = 0; x < w; x++) {
      const dx = x - cx - m.tx;
      sampleReference(image, cx + m.ia * dx + m.ib * dy, cy + m.ic * dx + m.id * dy, fill, out, (y * w + x) * 3);
    }
  }
  return out;
}

function resampleReference(image: RgbImage, left: number, top: number, cropW: number, cropH: number, outW: number, outH: number, fill: Fill): Float32Array {
  const out = new Float32Array(outW * outH * 3);
  const [sx, sy] = [cropW / outW, cropH / outH];
  for (let y = 0; y < outH; y++) {
    for (let x = 0; x < outW; x++) sampleReference(image, left + (x + 0.5) * sx - 0.5, top + (y + 0.5) * sy - 0.5, fill, out, (y * outW + x) * 3);
  }
  return out;
}

function randomImage(width: number, height: number, seed: number): RgbImage {
  const rng = createRng(seed);
  return { width, height, data: Float32Array.from({ length: width * height * 3 }, () => rng.uniform(0, 255)) };
}

/** Equal float32 bits, NaN included; names the first differing value. */
function assertSameBits(actual: Float32Array, expected: Float32Array, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  const a = new Uint32Array(actual.buffer, actual.byteOffset, actual.length);
  const e = new Uint32Array(expected.buffer, expected.byteOffset, expected.length);
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== e[i] && !(Number.isNaN(actual[i]) && Number.isNaN(expected[i]))) assert.fail(`${what}: value ${i} is ${actual[i]}, expected ${expected[i]}`);
  }
}

const FILLS: Fill[] = [0, 17.5, [1, 2, 3], "reflect", "nearest"];

test("warps equal the TypeScript reference bit for bit: rotations, scales, shears and shifts, every fill", () => {
  const rng = createRng(11);
  for (const [width, height] of [[7, 5], [1, 1], [1, 6], [32, 32], [45, 30]]) {
    const image = randomImage(width, height, width * 100 + height);
    for (let trial = 0; trial < 8; trial++) {
      const angle = rng.uniform(-Math.PI, Math.PI);
      const scale = trial === 0 ? 1 : rng.uniform(0.3, 3);
      const shear = rng.uniform(-0.5, 0.5);
      const m: InverseAffine = {
        ia: scale * Math.cos(angle),
        ib: scale * (Math.sin(angle) + shear),
        ic: -scale * Math.sin(angle),
        id: scale * Math.cos(angle),
        tx: trial % 2 ? Math.round(rng.uniform(-width, width)) : rng.uniform(-2, 2),
        ty: trial % 3 ? 0 : rng.uniform(-height, height),
      };
      for (const fill of FILLS) {
        const what = `${width}×${height}, trial ${trial}, fill ${JSON.stringify(fill)}`;
        const warped = warpPixels(image, m, fill);
        assert.deepEqual([warped.width, warped.height], [width, height], what);
        assertSameBits(warped.data, warpReference(image, m, fill), what);
      }
    }
  }
});

test("crops and resizes equal the reference bit for bit: integer and half-pixel steps, windows beyond the border", () => {
  const image = randomImage(13, 9, 3);
  const windows: Array<[number, number, number, number, number, number]> = [
    [0, 0, 13, 9, 13, 9], // identity
    [0, 0, 13, 9, 26, 18], // upscale ×2
    [0, 0, 13, 9, 5, 4], // downscale
    [2, 1, 6, 5, 11, 7], // crop + resize
    [-3, -2, 8, 6, 8, 6], // window partly outside
    [10, 7, 6, 6, 6, 6], // window beyond the far corner
  ];
  for (const [left, top, cropW, cropH, outW, outH] of windows) {
    for (const fill of FILLS) {
      const what = `window ${[left, top, cropW, cropH]} → ${outW}×${outH}, fill ${JSON.stringify(fill)}`;
      const out = resamplePixels(image, left, top, cropW, cropH, outW, outH, fill);
      assert.deepEqual([out.width, out.height], [outW, outH], what);
      assertSameBits(out.data, resampleReference(image, left, top, cropW, cropH, outW, outH, fill), what);
    }
  }
});

test("a degenerate map gives NaN pixels, as the reference does, instead of reading outside the image", () => {
  const image = randomImage(6, 4, 9);
  const m: InverseAffine = { ia: Infinity, ib: 0, ic: 0, id: 1, tx: 0, ty: 0 };
  for (const fill of FILLS) assertSameBits(warpPixels(image, m, fill).data, warpReference(image, m, fill), `fill ${JSON.stringify(fill)}`);
  assert.ok(warpPixels(image, m, "reflect").data.some(Number.isNaN));
});

test("flips mirror rows or columns; the source and earlier results are left untouched", () => {
  const image = randomImage(5, 3, 4);
  const before = image.data.slice();
  const horizontal = flipPixels(image, true);
  const vertical = flipPixels(image, false);
  for (let y = 0; y < 3; y++) {
    for (let x = 0; x < 5; x++) {
      for (let c = 0; c < 3; c++) {
        assert.equal(horizontal.data[(y * 5 + x) * 3 + c], image.data[(y * 5 + (4 - x)) * 3 + c]);
        assert.equal(vertical.data[(y * 5 + x) * 3 + c], image.data[((2 - y) * 5 + x) * 3 + c]);
      }
    }
  }
  assert.deepEqual(image.data, before);
  // Results are copies out of the module's memory: a later, larger call must not change them.
  const kept = horizontal.data.slice();
  flipPixels(randomImage(300, 200, 5), true);
  assert.deepEqual(horizontal.data, kept);
});
