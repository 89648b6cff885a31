/**
 * CenterNet-style box encoding ("Objects as Points", Zhou et al. 2019) on an output grid of `stride` pixels:
 * a box is its centre's cell (the heatmap peak), the centre's offset inside that cell, and log width / height in
 * grid units. Pure numbers, no TensorFlow.js, so encode → decode is testable exactly.
 */

/** [x, y, w, h] in input pixels (COCO order). */
export type Box = [number, number, number, number];

export interface EncodedBox {
  /** Cell column / row of the centre on the output grid. */
  cx: number;
  cy: number;
  /** Centre minus its cell's corner, in [0, 1). */
  offsetX: number;
  offsetY: number;
  /** log(w / stride), log(h / stride). */
  logW: number;
  logH: number;
}

export function encodeBox(box: Box, stride: number, gridSize: number): EncodedBox {
  const [x, y, w, h] = box;
  const centreX = Math.min(gridSize - 1e-6, Math.max(0, (x + w / 2) / stride));
  const centreY = Math.min(gridSize - 1e-6, Math.max(0, (y + h / 2) / stride));
  const cx = Math.floor(centreX);
  const cy = Math.floor(centreY);
  return { cx, cy, offsetX: centreX - cx, offsetY: centreY - cy, logW: Math.log(w / stride), logH: Math.log(h / stride) };
}

export function decodeBox(encoded: EncodedBox, stride: number): Box {
  const w = Math.exp(encoded.logW) * stride;
  const h = Math.exp(encoded.logH) * stride;
  const centreX = (encoded.cx + encoded.offsetX) * stride;
  const centreY = (encoded.cy + encoded.offsetY) * stride;
  return [centreX - w / 2, centreY - h / 2, w, h];
}

/**
 * CenterNet's Gaussian radius (in grid cells) for a box of w × h cells: the largest corner shift that keeps IoU ≥
 * minOverlap in the three cases of the paper's reference code, at least 0.
 */
export function gaussianRadius(w: number, h: number, minOverlap = 0.7): number {
  const a1 = 1;
  const b1 = h + w;
  const c1 = (w * h * (1 - minOverlap)) / (1 + minOverlap);
  const r1 = (b1 + Math.sqrt(b1 * b1 - 4 * a1 * c1)) / 2;
  const a2 = 4;
  const b2 = 2 * (h + w);
  const c2 = (1 - minOverlap) * w * h;
  const r2 = (b2 + Math.sqrt(b2 * b2 - 4 * a2 * c2)) / 2;
  const a3 = 4 * minOverlap;
  const b3 = -2 * minOverlap * (h + w);
  const c3 = (minOverlap - 1) * w * h;
  const r3 = (b3 + Math.sqrt(b3 * b3 - 4 * a3 * c3)) / 2;
  return Math.max(0, Math.min(r1, r2, r3));
}

/** Scale a box from one image size to another (e.g. network input → original image). */
export function scaleBox(box: Box, sx: number, sy: number): Box {
  return [box[0] * sx, box[1] * sy, box[2] * sx, box[3] * sy];
}

/** Clip a box to a width × height image; null when nothing is left. */
export function clipBox(box: Box, width: number, height: number): Box | null {
  const x0 = Math.max(0, box[0]);
  const y0 = Math.max(0, box[1]);
  const x1 = Math.min(width, box[0] + box[2]);
  const y1 = Math.min(height, box[1] + box[3]);
  return x1 > x0 && y1 > y0 ? [x0, y0, x1 - x0, y1 - y0] : null;
}
