import * as tf from "@tensorflow/tfjs";
import { KernelArgs, heapFloats, heapOutput, heapOffset, simdPool, threadsFor } from "./heap";

/**
 * MaxPoolGrad over the wasm heap (the stock wasm kernel is several times slower): the SIMD kernel for 2×2 / stride 2
 * windows inside the input, plain JS otherwise. Each window's gradient goes to its first maximum in row-major order,
 * as in tfjs's cpu kernel.
 */

export function maxPoolGrad({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo {
  const { filterSize, strides, pad, dimRoundingMode } = attrs as unknown as tf.MaxPoolGradAttrs;
  const input = inputs.input as tf.TensorInfo;
  const dy = inputs.dy as tf.TensorInfo;
  const info = tf.backend_util.computePool2DInfo(
    input.shape as [number, number, number, number],
    filterSize,
    strides,
    1,
    pad,
    dimRoundingMode,
  );
  const out = heapOutput(backend, input.shape);
  // Views are taken after the allocation above, which may have grown (and replaced) the heap buffer.
  const dx = heapFloats(backend, out);
  const x = heapFloats(backend, input);
  const g = heapFloats(backend, dy);
  const { batchSize, inHeight, inWidth, inChannels: channels, outHeight, outWidth, strideHeight, strideWidth } = info;
  const { filterHeight, filterWidth } = info;
  const { top, left } = info.padInfo;
  const windowsInside = top === 0 && left === 0 && 2 * outHeight <= inHeight && 2 * outWidth <= inWidth;
  const pool = simdPool(backend);
  if (filterHeight === 2 && filterWidth === 2 && strideHeight === 2 && strideWidth === 2 && windowsInside && pool) {
    if (outHeight * 2 !== inHeight || outWidth * 2 !== inWidth) dx.fill(0); // odd sizes: last row/column gets no gradient
    const rows = batchSize * outHeight;
    const threads = threadsFor(pool, rows, outWidth * channels * 4);
    const [xAt, dyAt, dxAt] = [heapOffset(backend, input), heapOffset(backend, dy), heapOffset(backend, out)];
    pool.run("maxpool2x2_grad", rows, threads, () => [xAt, dyAt, dxAt, inHeight, inWidth, channels, outHeight, outWidth]);
    return out;
  }
  if (filterHeight === 2 && filterWidth === 2 && strideHeight === 2 && strideWidth === 2 && windowsInside) {
    maxPool2x2Grad(x, g, dx, batchSize, inHeight, inWidth, channels, outHeight, outWidth);
    return out;
  }
  dx.fill(0);
  const best = new Float32Array(channels);
  const bestAt = new Int32Array(channels);
  let gi = 0;
  for (let b = 0; b < batchSize; b++) {
    for (let oy = 0; oy < outHeight; oy++) {
      const y0 = Math.max(0, oy * strideHeight - top);
      const y1 = Math.min(inHeight, oy * strideHeight - top + filterHeight);
      for (let ox = 0; ox < outWidth; ox++) {
        const x0 = Math.max(0, ox * strideWidth - left);
        const x1 = Math.min(inWidth, ox * strideWidth - left + filterWidth);
        best.fill(Number.NEGATIVE_INFINITY);
        bestAt.fill(-1);
        for (let yy = y0; yy < y1; yy++) {
          for (let xx = x0; xx < x1; xx++) {
            const base = ((b * inHeight + yy) * inWidth + xx) * channels;
            for (let c = 0; c < channels; c++) {
              const v = x[base + c];
              if (v > best[c]) {
                best[c] = v;
                bestAt[c] = base + c;
              }
            }
          }
        }
        for (let c = 0; c < channels; c++, gi++) {
          if (bestAt[c] >= 0) dx[bestAt[c]] += g[gi];
        }
      }
    }
  }
  return out;
}

/** The common 2×2 / stride 2 / valid case: windows do not overlap, so every input cell is written once. */
export function maxPool2x2Grad(
  x: Float32Array,
  g: Float32Array,
  dx: Float32Array,
  batchSize: number,
  inHeight: number,
  inWidth: number,
  channels: number,
  outHeight: number,
  outWidth: number,
): void {
  if (outHeight * 2 !== inHeight || outWidth * 2 !== inWidth) dx.fill(0); // odd sizes: last row/column gets no gradient
  const rowStride = inWidth * channels;
  let gi = 0;
  for (let b = 0; b < batchSize; b++) {
    for (let oy = 0; oy < outHeight; oy++) {
      const rowBase = (b * inHeight + 2 * oy) * rowStride;
      for (let ox = 0; ox < outWidth; ox++) {
        const p00 = rowBase + 2 * ox * channels;
        const p01 = p00 + channels;
        const p10 = p00 + rowStride;
        const p11 = p10 + channels;
        for (let c = 0; c < channels; c++, gi++) {
          const v00 = x[p00 + c];
          const v01 = x[p01 + c];
          const v10 = x[p10 + c];
          const v11 = x[p11 + c];
          // First maximum in row-major window order wins, as in tfjs's cpu kernel.
          let best = v00;
          let at = 0;
          if (v01 > best) {
            best = v01;
            at = 1;
          }
          if (v10 > best) {
            best = v10;
            at = 2;
          }
          if (v11 > best) at = 3;
          const grad = g[gi];
          dx[p00 + c] = at === 0 ? grad : 0;
          dx[p01 + c] = at === 1 ? grad : 0;
          dx[p10 + c] = at === 2 ? grad : 0;
          dx[p11 + c] = at === 3 ? grad : 0;
        }
      }
    }
  }
}
