/**
 * Seeded image augmentations on RgbImage (HWC floats in [0, 255]); the pixel loops run in sampling.ts.
 * Each transform is a plain-JSON spec `{ op, ...params }` plus one function `(image, params, rng) => image`;
 * every random draw comes from the `Rng` passed in, so the same seed gives the same output on any machine.
 * Semantics follow torchvision (RandomAffine, ColorJitter, RandomErasing, RandomResizedCrop) unless noted.
 *
 * To add an augmentation: add its params to `TransformOps`, its function to `TRANSFORMS`, and use it in a preset
 * (presets.ts). For a quick experiment in a notebook, `registerTransform(name, fn)` and `{ op: "custom", name }` work
 * without touching lib/.
 */
import type { RgbImage } from "../data/images";
import type { Rng } from "../util/random";
import { Affine2, Fill, assertImage, clampInPlace, cloneImage, resampleWindow, resizeImage, warpAffine } from "./resize";
import { imageData } from "./arena";
import { flipPixels } from "./sampling";

export { warpAffine };

type Range = readonly [number, number];

/** Parameters of each built-in transform. */
export interface TransformOps {
  /** Mirror left–right with probability p (default 0.5). */
  hflip: { p?: number };
  /** Mirror top–bottom with probability p (default 0.5). */
  vflip: { p?: number };
  /** Rotate by an angle uniform in [−degrees, degrees] (counter-clockwise positive) about the centre. */
  rotate: { degrees: number; fill?: Fill };
  /**
   * torchvision RandomAffine: angle ∈ [−degrees, degrees]; shift ∈ [−translate·size, translate·size] per axis;
   * scale ∈ [scale₀, scale₁]; x-shear angle ∈ [−shear, shear] (or the given range), in degrees.
   */
  affine: { degrees?: number; translate?: Range; scale?: Range; shear?: number | Range; fill?: Fill };
  /** Keras RandomZoom-like: magnification uniform in [1 − factor, 1 + factor] about the centre (> 1 zooms in). */
  zoom: { factor: number; fill?: Fill };
  /** torchvision RandomCrop: a size × size window at a random position (after optional padding). */
  randomCrop: { size: number; padding?: number; fill?: Fill };
  /** torchvision RandomResizedCrop: random area share in `scale` and aspect in `ratio`, resized to `size` (default: input size). */
  randomResizedCrop: { size?: number; scale?: Range; ratio?: Range };
  /** torchvision ColorJitter: factors in [1 − x, 1 + x] (hue shift in [−hue, hue], ≤ 0.5), applied in random order. */
  colorJitter: { brightness?: number; contrast?: number; saturation?: number; hue?: number };
  /** torchvision RandomErasing: with probability p, fill a random rectangle (area share `scale`, aspect `ratio`). */
  randomErasing: { p?: number; scale?: Range; ratio?: Range; value?: number | readonly [number, number, number] | "random" };
  /** Additive gaussian noise with std `std` on the [0, 1] scale (×255 in pixels), with probability p (default 1). */
  gaussianNoise: { std: number; p?: number };
  /** Deterministic resize (bilinear), e.g. to 224 for pretrained backbones. */
  resize: { size: number };
  /** A transform registered at run time with registerTransform(name, fn). */
  custom: { name: string; params?: Record<string, unknown> };
}

export type TransformOp = keyof TransformOps;
export type TransformSpec = { [K in TransformOp]: { op: K } & TransformOps[K] }[TransformOp];
export type TransformFn<P> = (image: RgbImage, params: P, rng: Rng) => RgbImage;

// ---------------------------------------------------------------- geometry

/** Rotation (counter-clockwise on screen, y pointing down) · x-shear · uniform scale. */
function affineMatrix(angleDeg: number, scale: number, shearDeg: number, tx: number, ty: number): Affine2 {
  const t = (angleDeg * Math.PI) / 180;
  const cos = Math.cos(t);
  const sin = Math.sin(t);
  const sh = Math.tan((shearDeg * Math.PI) / 180);
  // R = [cos, sin; −sin, cos], Sh = [1, sh; 0, 1]
  return {
    a: scale * cos,
    b: scale * (cos * sh + sin),
    c: scale * -sin,
    d: scale * (-sin * sh + cos),
    tx,
    ty,
  };
}

const symmetric = (x: number): Range => [-x, x];
const asRange = (x: number | Range): Range => (typeof x === "number" ? symmetric(x) : x);

// ---------------------------------------------------------------- colour helpers

function grayOf(d: Float32Array, i: number): number {
  return 0.299 * d[i] + 0.587 * d[i + 1] + 0.114 * d[i + 2];
}

function blendInPlace(image: RgbImage, factor: number, other: (i: number) => number): void {
  const d = image.data;
  for (let i = 0; i < d.length; i += 3) {
    const o = other(i);
    for (let c = 0; c < 3; c++) {
      const v = factor * d[i + c] + (1 - factor) * o;
      d[i + c] = v < 0 ? 0 : v > 255 ? 255 : v;
    }
  }
}

function adjustBrightness(image: RgbImage, f: number): void {
  blendInPlace(image, f, () => 0);
}
function adjustContrast(image: RgbImage, f: number): void {
  let sum = 0;
  for (let i = 0; i < image.data.length; i += 3) sum += grayOf(image.data, i);
  const mean = sum / (image.data.length / 3);
  blendInPlace(image, f, () => mean);
}
function adjustSaturation(image: RgbImage, f: number): void {
  const gray = imageData(image.data.length / 3);
  for (let i = 0, p = 0; i < image.data.length; i += 3, p++) gray[p] = grayOf(image.data, i);
  blendInPlace(image, f, (i) => gray[i / 3]);
}
/** Rotate hue by `shift` of a full turn (HSV), keeping saturation and value. */
function adjustHue(image: RgbImage, shift: number): void {
  const d = image.data;
  for (let i = 0; i < d.length; i += 3) {
    const r = d[i] / 255;
    const g = d[i + 1] / 255;
    const b = d[i + 2] / 255;
    const max = Math.max(r, g, b);
    const min = Math.min(r, g, b);
    const delta = max - min;
    if (delta === 0) continue;
    let h: number;
    if (max === r) h = ((g - b) / delta) % 6;
    else if (max === g) h = (b - r) / delta + 2;
    else h = (r - g) / delta + 4;
    h = h / 6 + shift;
    h -= Math.floor(h);
    const s = delta / max;
    const v = max;
    const h6 = h * 6;
    const k = Math.floor(h6);
    const f = h6 - k;
    const p = v * (1 - s);
    const q = v * (1 - s * f);
    const t = v * (1 - s * (1 - f));
    const [nr, ng, nb] = [
      [v, t, p],
      [q, v, p],
      [p, v, t],
      [p, q, v],
      [t, p, v],
      [v, p, q],
    ][k % 6];
    d[i] = nr * 255;
    d[i + 1] = ng * 255;
    d[i + 2] = nb * 255;
  }
}

// ---------------------------------------------------------------- the transforms

function checkProbability(p: number, op: string): number {
  if (!(p >= 0 && p <= 1)) throw new Error(`${op}: p must be in [0, 1], got ${p}`);
  return p;
}

const customTransforms = new Map<string, TransformFn<Record<string, unknown>>>();

/** Register a transform for `{ op: "custom", name, params }` specs (e.g. from a notebook cell). */
export function registerTransform(name: string, fn: TransformFn<Record<string, unknown>>): void {
  customTransforms.set(name, fn);
}

/** One function per built-in op. The compiler checks that every op in TransformOps has one. */
export const TRANSFORMS: { [K in TransformOp]: TransformFn<TransformOps[K]> } = {
  hflip: (image, { p = 0.5 }, rng) => (rng.next() < checkProbability(p, "hflip") ? flipPixels(image, true) : cloneImage(image)),

  vflip: (image, { p = 0.5 }, rng) => (rng.next() < checkProbability(p, "vflip") ? flipPixels(image, false) : cloneImage(image)),

  rotate: (image, { degrees, fill = 0 }, rng) => warpAffine(image, affineMatrix(rng.uniform(-degrees, degrees), 1, 0, 0, 0), fill),

  affine: (image, { degrees = 0, translate, scale, shear, fill = 0 }, rng) => {
    const angle = rng.uniform(-degrees, degrees);
    const tx = translate ? Math.round(rng.uniform(-translate[0] * image.width, translate[0] * image.width)) : 0;
    const ty = translate ? Math.round(rng.uniform(-translate[1] * image.height, translate[1] * image.height)) : 0;
    const s = scale ? rng.uniform(scale[0], scale[1]) : 1;
    const shearRange = shear === undefined ? undefined : asRange(shear);
    const sh = shearRange ? rng.uniform(shearRange[0], shearRange[1]) : 0;
    return warpAffine(image, affineMatrix(angle, s, sh, tx, ty), fill);
  },

  zoom: (image, { factor, fill = "reflect" }, rng) => {
    if (!(factor >= 0 && factor < 1)) throw new Error(`zoom: factor must be in [0, 1), got ${factor}`);
    return warpAffine(image, affineMatrix(0, rng.uniform(1 - factor, 1 + factor), 0, 0, 0), fill);
  },

  randomCrop: (image, { size, padding = 0, fill = 0 }, rng) => {
    const maxLeft = image.width + 2 * padding - size;
    const maxTop = image.height + 2 * padding - size;
    if (maxLeft < 0 || maxTop < 0) throw new Error(`randomCrop: ${size}px crop larger than the ${image.width}×${image.height} image (+${padding} padding)`);
    const left = rng.int(maxLeft + 1) - padding;
    const top = rng.int(maxTop + 1) - padding;
    return resampleWindow(image, left, top, size, size, size, size, fill);
  },

  randomResizedCrop: (image, { size, scale = [0.08, 1], ratio = [3 / 4, 4 / 3] }, rng) => {
    const { width: W, height: H } = image;
    const area = W * H;
    const logRatio = [Math.log(ratio[0]), Math.log(ratio[1])];
    for (let attempt = 0; attempt < 10; attempt++) {
      const target = area * rng.uniform(scale[0], scale[1]);
      const aspect = Math.exp(rng.uniform(logRatio[0], logRatio[1]));
      const w = Math.round(Math.sqrt(target * aspect));
      const h = Math.round(Math.sqrt(target / aspect));
      if (w > 0 && h > 0 && w <= W && h <= H) {
        const top = rng.int(H - h + 1);
        const left = rng.int(W - w + 1);
        return resampleWindow(image, left, top, w, h, size ?? W, size ?? H);
      }
    }
    // Fallback (torchvision): the central crop with the aspect clamped into `ratio`.
    const inRatio = W / H;
    const w = inRatio < ratio[0] ? W : inRatio > ratio[1] ? Math.round(H * ratio[1]) : W;
    const h = inRatio < ratio[0] ? Math.round(W / ratio[0]) : H;
    return resampleWindow(image, Math.floor((W - w) / 2), Math.floor((H - h) / 2), w, h, size ?? W, size ?? H);
  },

  colorJitter: (image, { brightness = 0, contrast = 0, saturation = 0, hue = 0 }, rng) => {
    if (!(hue >= 0 && hue <= 0.5)) throw new Error(`colorJitter: hue must be in [0, 0.5], got ${hue}`);
    const out = cloneImage(image);
    const factor = (x: number) => rng.uniform(Math.max(0, 1 - x), 1 + x);
    for (const step of rng.shuffle([0, 1, 2, 3])) {
      if (step === 0 && brightness > 0) adjustBrightness(out, factor(brightness));
      if (step === 1 && contrast > 0) adjustContrast(out, factor(contrast));
      if (step === 2 && saturation > 0) adjustSaturation(out, factor(saturation));
      if (step === 3 && hue > 0) adjustHue(out, rng.uniform(-hue, hue));
    }
    return out;
  },

  randomErasing: (image, { p = 0.5, scale = [0.02, 0.33], ratio = [0.3, 3.3], value = 0 }, rng) => {
    const out = cloneImage(image);
    if (rng.next() >= checkProbability(p, "randomErasing")) return out;
    const { width: W, height: H } = image;
    const logRatio = [Math.log(ratio[0]), Math.log(ratio[1])];
    for (let attempt = 0; attempt < 10; attempt++) {
      const target = W * H * rng.uniform(scale[0], scale[1]);
      const aspect = Math.exp(rng.uniform(logRatio[0], logRatio[1]));
      const h = Math.round(Math.sqrt(target * aspect));
      const w = Math.round(Math.sqrt(target / aspect));
      if (!(h < H && w < W)) continue;
      const top = rng.int(H - h + 1);
      const left = rng.int(W - w + 1);
      for (let y = top; y < top + h; y++) {
        for (let x = left; x < left + w; x++) {
          const o = (y * W + x) * 3;
          for (let c = 0; c < 3; c++) {
            out.data[o + c] = value === "random" ? rng.next() * 255 : typeof value === "number" ? value : value[c];
          }
        }
      }
      return out;
    }
    return out;
  },

  gaussianNoise: (image, { std, p = 1 }, rng) => {
    const out = cloneImage(image);
    if (rng.next() >= checkProbability(p, "gaussianNoise")) return out;
    const sigma = std * 255;
    for (let i = 0; i < out.data.length; i++) out.data[i] += sigma * rng.normal();
    return clampInPlace(out);
  },

  resize: (image, { size }) => resizeImage(image, size),

  custom: (image, { name, params = {} }, rng) => {
    const fn = customTransforms.get(name);
    if (!fn) throw new Error(`custom transform "${name}" is not registered (registerTransform); registered: ${[...customTransforms.keys()].join(", ") || "none"}`);
    return fn(image, params, rng);
  },
};

/** Apply one spec. */
export function applyTransform(image: RgbImage, spec: TransformSpec, rng: Rng): RgbImage {
  const fn = TRANSFORMS[spec.op] as TransformFn<TransformSpec> | undefined;
  if (!fn) throw new Error(`unknown transform op "${(spec as { op: string }).op}"; known: ${Object.keys(TRANSFORMS).join(", ")}`);
  return fn(image, spec, rng);
}

// ---------------------------------------------------------------- composition

/** The contract shared with lib/engine's embedding cache: a stable key and a seeded, pure apply. */
export interface ImageAugmentation {
  /** Stable string of the spec (canonical JSON of the transform list): equal keys ⇒ identical behaviour. */
  readonly key: string;
  readonly name: string;
  readonly specs: readonly TransformSpec[];
  /** Never mutates `image`; draws only from `rng`. */
  apply(image: RgbImage, rng: Rng): RgbImage;
}

/** JSON with object keys sorted, so `{p, op}` and `{op, p}` give the same key. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

/** Chain transforms left to right; each draws from the same rng stream in order. */
export function compose(specs: readonly TransformSpec[], name = "custom"): ImageAugmentation {
  for (const s of specs) {
    if (!(s.op in TRANSFORMS)) throw new Error(`compose: unknown transform op "${s.op}"; known: ${Object.keys(TRANSFORMS).join(", ")}`);
  }
  const frozen = JSON.parse(JSON.stringify(specs)) as TransformSpec[];
  return {
    key: canonicalJson(frozen),
    name,
    specs: frozen,
    apply(image, rng) {
      assertImage(image, `augmentation ${name}`);
      let out = image;
      for (const spec of frozen) out = applyTransform(out, spec, rng);
      return out === image ? cloneImage(image) : out;
    },
  };
}
