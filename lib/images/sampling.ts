import * as fs from "fs";
import * as path from "path";
import type { RgbImage } from "../data/images";
import { imageData } from "./arena";

/**
 * The pixel loops of warps, crops, resizes and flips, in WebAssembly (sampling.c → sampling.wasm, built by
 * lib/engine/simd/build.sh): bilinear sampling in float64 in the TypeScript reference's order (test/images/sampling.test.ts),
 * so the same float32 pixels. A 224 px rotation takes 1.1–1.5 ms, copies included, against 2.0–2.5 ms in JS; a flip
 * 0.05 ms plus the copies. Each call copies the source into the module's memory and the result out into a new image.
 */

/** What a sample outside the image reads: a constant grey level / RGB colour, the mirrored pixel, or the nearest edge pixel. */
export type Fill = number | readonly [number, number, number] | "reflect" | "nearest";

// WebAssembly is a Node global, but tslab compiles without the DOM lib that declares it.
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
}
const WA = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

interface Exports {
  memory: { buffer: ArrayBuffer; grow(pages: number): number };
  warp_affine(src: number, dst: number, width: number, height: number, ia: number, ib: number, ic: number, id: number, cx: number, cy: number, tx: number, ty: number, fill: number, r: number, g: number, b: number): void;
  resample_window(src: number, width: number, height: number, dst: number, outWidth: number, outHeight: number, left: number, top: number, stepX: number, stepY: number, fill: number, r: number, g: number, b: number): void;
  flip(src: number, dst: number, width: number, height: number, horizontal: number): void;
}

let module: Exports | null = null;
const PAGE = 65536;

/** The instance, with room for a source of `srcValues` floats followed by a destination of `dstValues`. */
function sized(srcValues: number, dstValues: number): { wasm: Exports; dst: number } {
  module ??= new WA.Instance(new WA.Module(fs.readFileSync(path.join(__dirname, "sampling.wasm"))), {}).exports as unknown as Exports;
  const dst = Math.ceil((srcValues * 4) / 16) * 16;
  const bytes = dst + dstValues * 4;
  const missing = Math.ceil(bytes / PAGE) - module.memory.buffer.byteLength / PAGE;
  if (missing > 0) module.memory.grow(missing);
  return { wasm: module, dst };
}

function withSource(image: RgbImage, dstValues: number): { wasm: Exports; dst: number } {
  const room = sized(image.data.length, dstValues);
  new Float32Array(room.wasm.memory.buffer, 0, image.data.length).set(image.data);
  return room;
}

function result(wasm: Exports, dst: number, width: number, height: number): RgbImage {
  const data = imageData(width * height * 3);
  data.set(new Float32Array(wasm.memory.buffer, dst, width * height * 3));
  return { width, height, data };
}

/** [mode, r, g, b] as sampling.c reads a fill. */
function fillArguments(fill: Fill): [number, number, number, number] {
  if (fill === "reflect") return [1, 0, 0, 0];
  if (fill === "nearest") return [2, 0, 0, 0];
  if (typeof fill === "number") return [0, fill, fill, fill];
  return [0, fill[0], fill[1], fill[2]];
}

/** Inverse of a forward affine map about the image centre: output (x, y) reads centre + [ia ib; ic id]·((x, y) − centre − (tx, ty)). */
export interface InverseAffine {
  ia: number;
  ib: number;
  ic: number;
  id: number;
  tx: number;
  ty: number;
}

export function warpPixels(image: RgbImage, m: InverseAffine, fill: Fill): RgbImage {
  const { width, height } = image;
  const { wasm, dst } = withSource(image, width * height * 3);
  const cx = (width - 1) / 2;
  const cy = (height - 1) / 2;
  wasm.warp_affine(0, dst, width, height, m.ia, m.ib, m.ic, m.id, cx, cy, m.tx, m.ty, ...fillArguments(fill));
  return result(wasm, dst, width, height);
}

/** The window [left, left + cropW) × [top, top + cropH) resampled to outW × outH (half-pixel centres). */
export function resamplePixels(image: RgbImage, left: number, top: number, cropW: number, cropH: number, outW: number, outH: number, fill: Fill): RgbImage {
  const { wasm, dst } = withSource(image, outW * outH * 3);
  wasm.resample_window(0, image.width, image.height, dst, outW, outH, left, top, cropW / outW, cropH / outH, ...fillArguments(fill));
  return result(wasm, dst, outW, outH);
}

export function flipPixels(image: RgbImage, horizontal: boolean): RgbImage {
  const { width, height } = image;
  const { wasm, dst } = withSource(image, width * height * 3);
  wasm.flip(0, dst, width, height, horizontal ? 1 : 0);
  return result(wasm, dst, width, height);
}
