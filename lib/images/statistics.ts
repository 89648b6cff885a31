/**
 * Hand-made image statistics: colour, sharpness and JPEG-compression descriptors of a photo, as a named vector.
 *
 *   const stats = imageStatistics(image, { fileBytes: fs.readFileSync(file) });   // { names, values }
 *
 * Why these: on the POI data the "medium" vs "high" engagement classes differ mostly in how sharp and how
 * heavily compressed the photo is (see notebook 05), which a logistic regression reads from these numbers
 * far better than from an ImageNet embedding of the upscaled 128 px photo. No fitting here: the statistics
 * are per image; scaling them is a train-fitted step in lib/experiments.
 */
import type { RgbImage } from "../data/images";

/** Column names of `imageStatistics`, in output order. */
export const IMAGE_STATISTICS_NAMES = [
  "img_mean_r",
  "img_mean_g",
  "img_mean_b",
  "img_std_r",
  "img_std_g",
  "img_std_b",
  "img_saturation",
  "img_brightness",
  "img_colourfulness",
  "img_entropy",
  "img_grad_mean",
  "img_grad_p90",
  "img_grad_p99",
  "img_edges_20",
  "img_edges_40",
  "img_edges_80",
  "img_laplacian_logvar",
  "img_laplacian_p90",
  "img_laplacian_p99",
  "img_blockiness",
  "img_lag_ratio",
  "img_down2_residual",
  "img_block_std_p50",
  "img_block_std_p90",
  "jpeg_log_bytes",
  "jpeg_luma_quant",
] as const;

export interface ImageStatistics {
  names: readonly string[];
  values: Float64Array;
}

export interface ImageStatisticsOptions {
  /** The encoded file (for the size and JPEG quantisation features); without it those two are 0. */
  fileBytes?: Uint8Array;
}

function percentile(values: Float64Array, q: number): number {
  const sorted = Float64Array.from(values).sort();
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

function meanStd(values: ArrayLike<number>): { mean: number; std: number } {
  let s = 0;
  for (let i = 0; i < values.length; i++) s += values[i];
  const mean = s / values.length;
  let v = 0;
  for (let i = 0; i < values.length; i++) v += (values[i] - mean) ** 2;
  return { mean, std: Math.sqrt(v / values.length) };
}

/**
 * Mean of the luminance (table 0) quantisation values of a baseline JPEG's DQT segments: a direct reading of
 * the encoder's quality setting (larger = coarser). 0 when the bytes are not a JPEG or carry no table 0.
 */
export function jpegLumaQuantization(bytes: Uint8Array): number {
  if (bytes.length < 4 || bytes[0] !== 0xff || bytes[1] !== 0xd8) return 0;
  let i = 2;
  while (i + 4 <= bytes.length) {
    if (bytes[i] !== 0xff) return 0;
    const marker = bytes[i + 1];
    if (marker === 0xd8 || (marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) {
      i += 2;
      continue;
    }
    if (marker === 0xda || marker === 0xd9) return 0; // start of scan: no table 0 before the image data
    const length = (bytes[i + 2] << 8) | bytes[i + 3];
    if (marker === 0xdb) {
      let p = i + 4;
      const end = i + 2 + length;
      while (p < end) {
        const precision = bytes[p] >> 4;
        const table = bytes[p] & 0x0f;
        const size = precision === 0 ? 1 : 2;
        if (table === 0) {
          let sum = 0;
          for (let k = 0; k < 64; k++) sum += size === 1 ? bytes[p + 1 + k] : (bytes[p + 1 + 2 * k] << 8) | bytes[p + 2 + 2 * k];
          return sum / 64;
        }
        p += 1 + 64 * size;
      }
    }
    i += 2 + length;
  }
  return 0;
}

/** The statistics of one image (any size ≥ 16×16; the POI photos are 128×128). */
export function imageStatistics(image: RgbImage, options: ImageStatisticsOptions = {}): ImageStatistics {
  const { width: w, height: h, data } = image;
  if (w < 16 || h < 16) throw new Error(`imageStatistics: image is ${w}×${h}, need at least 16×16`);
  const n = w * h;
  const grey = new Float64Array(n);
  const channels = [new Float64Array(n), new Float64Array(n), new Float64Array(n)];
  const saturation = new Float64Array(n);
  const brightness = new Float64Array(n);
  const rg = new Float64Array(n);
  const yb = new Float64Array(n);
  for (let p = 0; p < n; p++) {
    const r = data[3 * p];
    const g = data[3 * p + 1];
    const b = data[3 * p + 2];
    channels[0][p] = r;
    channels[1][p] = g;
    channels[2][p] = b;
    grey[p] = 0.299 * r + 0.587 * g + 0.114 * b;
    const max = Math.max(r, g, b);
    const min = Math.min(r, g, b);
    brightness[p] = max;
    saturation[p] = max > 0 ? ((max - min) / max) * 255 : 0;
    rg[p] = r - g;
    yb[p] = 0.5 * (r + g) - b;
  }
  const colour = channels.map(meanStd);
  const rgs = meanStd(rg);
  const ybs = meanStd(yb);
  const colourfulness = Math.sqrt(rgs.std ** 2 + ybs.std ** 2) + 0.3 * Math.sqrt(rgs.mean ** 2 + ybs.mean ** 2);

  const hist = new Float64Array(64);
  for (let p = 0; p < n; p++) hist[Math.min(63, Math.floor(grey[p] / 4))]++;
  let entropy = 0;
  for (const c of hist) if (c > 0) entropy -= (c / n) * Math.log2(c / n);

  // Gradients (forward differences) and their magnitude.
  const gw = w - 1;
  const gh = h - 1;
  const magnitude = new Float64Array(gw * gh);
  for (let y = 0; y < gh; y++) {
    for (let x = 0; x < gw; x++) {
      const v = grey[y * w + x];
      const gx = grey[y * w + x + 1] - v;
      const gy = grey[(y + 1) * w + x] - v;
      magnitude[y * gw + x] = Math.sqrt(gx * gx + gy * gy);
    }
  }
  const gradMean = meanStd(magnitude).mean;
  const edgeFraction = (t: number) => magnitude.reduce((a, m) => a + (m > t ? 1 : 0), 0) / magnitude.length;

  // 4-neighbour Laplacian on the interior.
  const lap = new Float64Array((w - 2) * (h - 2));
  for (let y = 1; y < h - 1; y++) {
    for (let x = 1; x < w - 1; x++) {
      const i = y * w + x;
      lap[(y - 1) * (w - 2) + x - 1] = 4 * grey[i] - grey[i - 1] - grey[i + 1] - grey[i - w] - grey[i + w];
    }
  }
  const lapStats = meanStd(lap);
  const absLap = lap.map(Math.abs);

  // Blockiness: horizontal/vertical differences across 8-pixel boundaries vs inside the 8×8 blocks.
  let boundary = 0;
  let boundaryCount = 0;
  let inner = 0;
  let innerCount = 0;
  let lag1 = 0;
  let lag2 = 0;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w - 1; x++) {
      const d = Math.abs(grey[y * w + x + 1] - grey[y * w + x]);
      if (x % 8 === 7) {
        boundary += d;
        boundaryCount++;
      } else {
        inner += d;
        innerCount++;
      }
      lag1 += d * d;
      if (x < w - 2) lag2 += (grey[y * w + x + 2] - grey[y * w + x]) ** 2;
    }
  }
  for (let x = 0; x < w; x++) {
    for (let y = 0; y < h - 1; y++) {
      const d = Math.abs(grey[(y + 1) * w + x] - grey[y * w + x]);
      if (y % 8 === 7) {
        boundary += d;
        boundaryCount++;
      } else {
        inner += d;
        innerCount++;
      }
    }
  }
  const blockiness = boundary / Math.max(1, boundaryCount) / (inner / Math.max(1, innerCount) + 1e-6);
  // An upscaled (blurred) photo has neighbouring differences that add up: lag-2 energy close to 4× lag-1.
  const lagRatio = Math.log(lag2 / (w * h) + 1e-6) - Math.log(lag1 / (w * h) + 1e-6);

  // Residual after 2× box downscale and nearest upscale: the detail only full resolution carries.
  let residual = 0;
  const hw = Math.floor(w / 2);
  const hh = Math.floor(h / 2);
  for (let y = 0; y < hh; y++) {
    for (let x = 0; x < hw; x++) {
      const i = 2 * y * w + 2 * x;
      const m = (grey[i] + grey[i + 1] + grey[i + w] + grey[i + w + 1]) / 4;
      residual += (grey[i] - m) ** 2 + (grey[i + 1] - m) ** 2 + (grey[i + w] - m) ** 2 + (grey[i + w + 1] - m) ** 2;
    }
  }
  residual /= 4 * hw * hh;

  // Spread of detail over the picture: std of each 8×8 block.
  const bw = Math.floor(w / 8);
  const bh = Math.floor(h / 8);
  const blockStd = new Float64Array(bw * bh);
  for (let by = 0; by < bh; by++) {
    for (let bx = 0; bx < bw; bx++) {
      let s = 0;
      let s2 = 0;
      for (let y = 0; y < 8; y++) {
        for (let x = 0; x < 8; x++) {
          const v = grey[(by * 8 + y) * w + bx * 8 + x];
          s += v;
          s2 += v * v;
        }
      }
      const mean = s / 64;
      blockStd[by * bw + bx] = Math.sqrt(Math.max(0, s2 / 64 - mean * mean));
    }
  }

  const bytes = options.fileBytes;
  const values = [
    colour[0].mean,
    colour[1].mean,
    colour[2].mean,
    colour[0].std,
    colour[1].std,
    colour[2].std,
    meanStd(saturation).mean,
    meanStd(brightness).mean,
    colourfulness,
    entropy,
    gradMean,
    Math.log1p(percentile(magnitude, 0.9)),
    Math.log1p(percentile(magnitude, 0.99)),
    edgeFraction(20),
    edgeFraction(40),
    edgeFraction(80),
    Math.log1p(lapStats.std ** 2),
    Math.log1p(percentile(absLap, 0.9)),
    Math.log1p(percentile(absLap, 0.99)),
    blockiness,
    lagRatio,
    Math.log(residual + 1e-6),
    Math.log1p(percentile(blockStd, 0.5)),
    Math.log1p(percentile(blockStd, 0.9)),
    bytes ? Math.log(bytes.length) : 0,
    bytes ? jpegLumaQuantization(bytes) : 0,
  ];
  return { names: IMAGE_STATISTICS_NAMES, values: Float64Array.from(values) };
}
