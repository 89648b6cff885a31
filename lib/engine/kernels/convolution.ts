import * as tf from "@tensorflow/tfjs";
import type { SimdPool } from "../simd";
import { ConvInfo, KernelArgs, KernelFn, Pads, heapOutput, accumulateInChunks, asTensor, heapFloats, heapOffset, outputOf, padsOf, requireNhwc, requireNoDilation, simdPool, stock, threadsFor } from "./heap";

/**
 * Convolutions on wasm: forward (our SIMD kernel where it beats XNNPACK), the input and filter gradients (our SIMD
 * kernels; op-based versions for the single-threaded build) and the depthwise gradients.
 */

/** The attributes every convolution kernel passes to tfjs' geometry (dilation is always 1 here). */
type ConvGeometryAttrs = Pick<tf.Conv2DAttrs, "strides" | "pad" | "dimRoundingMode">;

/** tfjs' convolution geometry of an NHWC input and an [h, w, in, out] (depthwise: [h, w, c, multiplier]) filter. */
function convInfo(inputShape: readonly number[], filterShape: readonly number[], attrs: ConvGeometryAttrs, depthwise = false): ConvInfo {
  type Shape4 = [number, number, number, number];
  return tf.backend_util.computeConv2DInfo(
    inputShape as Shape4,
    filterShape as Shape4,
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
    depthwise,
  );
}

/** Insert (stride − 1) zeros between rows/columns of `dy` (NHWC); trailing zeros kept (callers trim). */

export function dilateSpatial(dy: tf.Tensor4D, sh: number, sw: number): tf.Tensor4D {
  if (sh === 1 && sw === 1) return dy;
  const [n, h, w, c] = dy.shape;
  const spread = tf.pad(tf.reshape(dy, [n, h, 1, w, 1, c]), [
    [0, 0],
    [0, 0],
    [0, sh - 1],
    [0, 0],
    [0, sw - 1],
    [0, 0],
  ]);
  return tf.reshape(spread, [n, h * sh, w * sw, c]);
}

/**
 * Input gradient of a (depthwise or ordinary) convolution: correlate the zero-dilated dy with the
 * spatially flipped filter. `correlate(d, pads)` runs the matching forward op with stride 1.
 */
export function inputGradient(
  dy: tf.Tensor4D,
  info: ConvInfo,
  correlate: (dilated: tf.Tensor4D, pads: Pads) => tf.Tensor4D,
): tf.Tensor4D {
  const { strideHeight: sh, strideWidth: sw, filterHeight: fh, filterWidth: fw, inHeight, inWidth } = info;
  const { top, left } = info.padInfo;
  let dilated = dilateSpatial(dy, sh, sw);
  // Rows of the dilated dy after the last real one are zeros; trim them when the pad cannot absorb them.
  let padBottom = inHeight + top - dilated.shape[1];
  let padRight = inWidth + left - dilated.shape[2];
  if (padBottom < 0 || padRight < 0) {
    dilated = tf.slice(dilated, [0, 0, 0, 0], [-1, dilated.shape[1] + Math.min(padBottom, 0), dilated.shape[2] + Math.min(padRight, 0), -1]);
    padBottom = Math.max(padBottom, 0);
    padRight = Math.max(padRight, 0);
  }
  const pads: Pads = [
    [0, 0],
    [fh - 1 - top, padBottom],
    [fw - 1 - left, padRight],
    [0, 0],
  ];
  if (pads[1][0] < 0 || pads[2][0] < 0) {
    throw new Error(`convolution gradient on wasm: padding ${top}/${left} larger than the filter is not supported`);
  }
  return correlate(dilated, pads);
}

/** Each thread writes its own share of the input rows; the filter is transposed to [kh, kw, out, in] first. */
export function conv2DBackpropInputSimd({ inputs, backend, attrs }: KernelArgs, pool: SimdPool): tf.TensorInfo {
  const { strides, pad, dataFormat, dimRoundingMode, inputShape } = attrs as unknown as tf.Conv2DBackpropInputAttrs;
  requireNhwc("Conv2DBackpropInput", dataFormat);
  const dy = inputs.dy as tf.TensorInfo;
  const filter = inputs.filter as tf.TensorInfo;
  const info = convInfo(inputShape, filter.shape, { strides, pad, dimRoundingMode });
  // The filter as [kh, kw, out, in] (small); tidy disposes the wrapper asTensor may create for a TensorInfo.
  const transposed = tf.tidy(() => tf.transpose(asTensor(filter, "filter"), [0, 1, 3, 2]));
  try {
    const out = heapOutput(backend, inputShape);
    const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, outChannels, filterHeight, filterWidth } = info;
    const rows = batchSize * inHeight;
    const threads = threadsFor(pool, rows, inWidth * inChannels * 4);
    const dyAt = heapOffset(backend, dy);
    const wtAt = heapOffset(backend, transposed);
    const dxAt = heapOffset(backend, out);
    const wfAt = heapOffset(backend, filter);
    pool.run("conv2d_input_grad", rows, threads, () => [
      dyAt, wfAt, wtAt, dxAt, inHeight, inWidth, inChannels, outHeight, outWidth, outChannels,
      filterHeight, filterWidth, info.strideHeight, info.strideWidth, info.padInfo.top, info.padInfo.left,
    ]);
    return out;
  } finally {
    transposed.dispose();
  }
}

export function conv2DBackpropInputOps({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo {
  const { strides, pad, dataFormat, dimRoundingMode, inputShape } = attrs as unknown as tf.Conv2DBackpropInputAttrs;
  requireNhwc("Conv2DBackpropInput", dataFormat);
  const dy = asTensor(inputs.dy, "dy") as tf.Tensor4D;
  const filter = asTensor(inputs.filter, "filter") as tf.Tensor4D;
  const info = convInfo(inputShape, filter.shape, { strides, pad, dimRoundingMode });
  return outputOf(backend, () => {
    const flipped = tf.transpose(tf.reverse(filter, [0, 1]), [0, 1, 3, 2]) as tf.Tensor4D;
    return inputGradient(dy, info, (d, pads) => tf.conv2d(d, flipped, 1, pads));
  });
}

/** Each chunk of output rows sums into its own buffer; the buffers are added up in chunk order. */
export function conv2DBackpropFilterSimd({ inputs, backend, attrs }: KernelArgs, pool: SimdPool): tf.TensorInfo {
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs as unknown as tf.Conv2DBackpropFilterAttrs;
  requireNhwc("Conv2DBackpropFilter", dataFormat);
  const x = inputs.x as tf.TensorInfo;
  const dy = inputs.dy as tf.TensorInfo;
  const info = convInfo(x.shape, filterShape, { strides, pad, dimRoundingMode });
  const size = info.filterHeight * info.filterWidth * info.inChannels * info.outChannels;
  const rows = info.batchSize * info.outHeight;
  const threads = threadsFor(pool, rows, info.outWidth * info.outChannels * 4);
  const { inHeight, inWidth, inChannels, outHeight, outWidth, outChannels, filterHeight, filterWidth } = info;
  const args = [
    heapOffset(backend, x), heapOffset(backend, dy), 0, inHeight, inWidth, inChannels, outHeight, outWidth, outChannels,
    filterHeight, filterWidth, info.strideHeight, info.strideWidth, info.padInfo.top, info.padInfo.left,
  ];
  const sums = accumulateInChunks(pool, backend, "conv2d_filter_grad", rows, threads, args, 2, size);
  const out = heapOutput(backend, filterShape);
  heapFloats(backend, out).set(sums);
  return out;
}

export function conv2DBackpropFilterOps({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo {
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs as unknown as tf.Conv2DBackpropFilterAttrs;
  requireNhwc("Conv2DBackpropFilter", dataFormat);
  const x = asTensor(inputs.x, "x") as tf.Tensor4D;
  const dy = asTensor(inputs.dy, "dy") as tf.Tensor4D;
  const info = convInfo(x.shape, filterShape, { strides, pad, dimRoundingMode });
  return outputOf(backend, () => {
    // dW[kh,kw,ci,co] = Σ_n,o x[n, o·s + k − pad, ci] · dy[n, o, co]: a convolution with batch = ci,
    // channels = n, the filter = dy laid out [ho, wo, n, co], and dilation = stride.
    const xT = tf.transpose(x, [3, 1, 2, 0]) as tf.Tensor4D;
    const dyT = tf.transpose(dy, [1, 2, 0, 3]) as tf.Tensor4D;
    const full = tf.conv2d(xT, dyT, 1, padsOf(info), "NHWC", [info.strideHeight, info.strideWidth]);
    const cropped =
      full.shape[1] === info.filterHeight && full.shape[2] === info.filterWidth
        ? full
        : tf.slice(full, [0, 0, 0, 0], [-1, info.filterHeight, info.filterWidth, -1]);
    return tf.transpose(cropped, [1, 2, 0, 3]);
  });
}

export function depthwiseBackpropInput({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo {
  const { strides, dilations, pad, dimRoundingMode, inputShape } =
    attrs as unknown as tf.DepthwiseConv2dNativeBackpropInputAttrs;
  requireNoDilation("DepthwiseConv2dNativeBackpropInput", dilations);
  const dy = asTensor(inputs.dy, "dy") as tf.Tensor4D;
  const filter = asTensor(inputs.filter, "filter") as tf.Tensor4D;
  const [fh, fw, channels, multiplier] = filter.shape;
  const info = convInfo(inputShape, filter.shape, { strides, pad, dimRoundingMode }, true);
  return outputOf(backend, () => {
    // Output channel c·M + m came from input channel c: one depthwise pass per output channel, then sum over m.
    const flipped = tf.reshape(tf.reverse(filter, [0, 1]), [fh, fw, channels * multiplier, 1]) as tf.Tensor4D;
    const perOutput = inputGradient(dy, info, (d, pads) => tf.depthwiseConv2d(d, flipped, 1, pads));
    if (multiplier === 1) return perOutput;
    const [n, h, w] = perOutput.shape;
    return tf.sum(tf.reshape(perOutput, [n, h, w, channels, multiplier]), 4);
  });
}

export function depthwiseBackpropFilter({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo {
  const { strides, dilations, pad, dimRoundingMode, filterShape } =
    attrs as unknown as tf.DepthwiseConv2dNativeBackpropFilterAttrs;
  requireNoDilation("DepthwiseConv2dNativeBackpropFilter", dilations);
  const x = asTensor(inputs.x, "x") as tf.Tensor4D;
  const dy = asTensor(inputs.dy, "dy") as tf.Tensor4D;
  const [fh, fw, channels, multiplier] = filterShape as [number, number, number, number];
  const info = convInfo(x.shape, [fh, fw, channels, multiplier], { strides, pad, dimRoundingMode }, true);
  const { strideHeight: sh, strideWidth: sw, outHeight, outWidth, batchSize } = info;
  return outputOf(backend, () => {
    // dW[kh,kw,c,m] = Σ_n,o x[n, o·s + k − pad, c] · dy[n, o, c·M + m]: per filter tap, a strided window of
    // the padded input times dy, summed over batch and positions. Few taps, each a handful of fast ops.
    const padded = tf.pad(x, padsOf(info));
    const dy5 = multiplier === 1 ? dy : tf.reshape(dy, [batchSize, outHeight, outWidth, channels, multiplier]);
    const taps: tf.Tensor[] = [];
    for (let kh = 0; kh < fh; kh++) {
      for (let kw = 0; kw < fw; kw++) {
        const window = tf.stridedSlice(
          padded,
          [0, kh, kw, 0],
          [batchSize, kh + (outHeight - 1) * sh + 1, kw + (outWidth - 1) * sw + 1, channels],
          [1, sh, sw, 1],
        );
        const product =
          multiplier === 1
            ? tf.mul(window, dy5)
            : tf.mul(tf.reshape(window, [batchSize, outHeight, outWidth, channels, 1]), dy5);
        taps.push(tf.sum(product, [0, 1, 2]));
      }
    }
    return tf.reshape(tf.stack(taps), [fh, fw, channels, multiplier]);
  });
}

export const FORWARD_ACTIVATIONS: Record<string, number> = { linear: 0, relu: 1, relu6: 2 };

/**
 * Conv2D / FusedConv2D forward with our SIMD kernel where it beats XNNPACK: spatial filters over few channels
 * (the convolutions of small CNNs trained here, and a backbone's RGB stem), output channels in runs of 16.
 * 1×1 convolutions (GEMMs) and wide layers stay with XNNPACK, as do other activations and layouts.
 */
export function convForward(kind: "Conv2D" | "FusedConv2D"): KernelFn {
  return (args) => {
    const { inputs, backend, attrs } = args;
    const a = attrs as unknown as tf.FusedConv2DAttrs;
    const x = inputs.x as tf.TensorInfo;
    const filter = inputs.filter as tf.TensorInfo;
    const bias = (inputs.bias as tf.TensorInfo | undefined) ?? null;
    const activation = FORWARD_ACTIVATIONS[a.activation ?? "linear"];
    const [fh, fw, ci, co] = filter.shape;
    const dilations = typeof a.dilations === "number" ? [a.dilations, a.dilations] : a.dilations ?? [1, 1];
    const pool = simdPool(backend);
    const usable =
      pool !== null &&
      x.dtype === "float32" &&
      x.shape.length === 4 &&
      (a.dataFormat ?? "NHWC") === "NHWC" &&
      dilations[0] === 1 &&
      dilations[1] === 1 &&
      activation !== undefined &&
      inputs.preluActivationWeights == null &&
      (bias === null || (bias.shape.length === 1 && bias.shape[0] === co)) &&
      co % 16 === 0 &&
      fh * fw > 1 &&
      ci >= 8 && // an RGB stem is as fast on XNNPACK
      ci * fh * fw <= 576;
    if (!usable) return stock(kind)(args);
    const info = convInfo(x.shape, filter.shape, a);
    const out = heapOutput(backend, info.outShape);
    const rows = info.batchSize * info.outHeight;
    const threads = threadsFor(pool, rows, info.outWidth * co * 8);
    const [xAt, wAt, yAt] = [heapOffset(backend, x), heapOffset(backend, filter), heapOffset(backend, out)];
    const biasAt = bias ? heapOffset(backend, bias) : 0;
    pool.run("conv2d_forward", rows, threads, () => [
      xAt, wAt, biasAt, yAt, info.inHeight, info.inWidth, ci, info.outHeight, info.outWidth, co,
      fh, fw, info.strideHeight, info.strideWidth, info.padInfo.top, info.padInfo.left, activation,
    ]);
    return out;
  };
}

/** The SIMD version where our kernels run (multithreaded backend), else the op-based one. */
function simdOrOps(
  simd: (args: KernelArgs, pool: SimdPool) => tf.TensorInfo,
  ops: (args: KernelArgs) => tf.TensorInfo,
): (args: KernelArgs) => tf.TensorInfo {
  return (args) => {
    const pool = simdPool(args.backend);
    return pool ? simd(args, pool) : ops(args);
  };
}

export const conv2DBackpropInput = simdOrOps(conv2DBackpropInputSimd, conv2DBackpropInputOps);
export const conv2DBackpropFilter = simdOrOps(conv2DBackpropFilterSimd, conv2DBackpropFilterOps);
