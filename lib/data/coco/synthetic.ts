import * as fs from "fs";
import * as path from "path";
import sharp from "sharp";
import { createRng, type Rng } from "../../util";
import type { CocoAnnotation, CocoBox, CocoCategory, CocoImage } from "./instances";
import { COCO_SPLITS, instancesPath, type CocoSplitName } from "./folder";

/**
 * A seeded SYNTHETIC industrial-inspection dataset in the spirit of DAGM 2007 (itself synthetic): textured surfaces
 * (granular, brushed metal, woven, cast) with painted defects, written as COCO instances + images.
 *
 * Classes (ids 1…6) are the coursework's six: NORMAL, PERFORACIONES (holes), RAYONES_ARANAZOS (scratches),
 * DEFORMACIONES (dents), CONTAMINACION (stains), ROTURA_FRACTURA (cracks).
 *
 * What NORMAL means for detection: NORMAL is an image-level verdict (a defect-free surface), not an object. A NORMAL
 * image carries no box — there is nothing to localise — and NORMAL stays in `categories` so ids match the six-class
 * coursework. COCOeval therefore reports -1 for NORMAL (no ground truth, pycocotools' convention), the per-class means
 * are over the five defect classes, and NORMAL images still count: every detection on them is a false positive.
 * An image is NORMAL exactly when it has no annotation; `images[i].defect_free` says so explicitly as well.
 *
 * Boxes are exact: each defect is painted from its own footprint (the pixels it changes by ≥ 1 grey level), the box is
 * that footprint's tight bounding box and `area` its pixel count (a mask area, as in COCO).
 */

export const DEFECT_CLASSES = ["NORMAL", "PERFORACIONES", "RAYONES_ARANAZOS", "DEFORMACIONES", "CONTAMINACION", "ROTURA_FRACTURA"] as const;
export type DefectClass = (typeof DEFECT_CLASSES)[number];

export const SYNTHETIC_NOTE = "SYNTHETIC data: generated surfaces and defects (DAGM-2007-like), not photographs of real parts";

export interface SyntheticOptions {
  /** Output folder (created; existing split files are replaced). */
  out: string;
  seed: number;
  /** Total images over the three splits (default 600). */
  images?: number;
  /** Square image side in pixels (default 256). */
  size?: number;
  /** Fractions of train / val / test (default 0.7 / 0.15 / 0.15). */
  splits?: [number, number, number];
  /** Share of defect-free (NORMAL) images (default 0.2). */
  normalShare?: number;
  format?: "png" | "jpeg";
  onProgress?: (done: number, total: number) => void;
}

export interface SyntheticSummary {
  out: string;
  seed: number;
  images: Record<CocoSplitName, number>;
  annotations: Record<CocoSplitName, number>;
  /** Boxes per defect class over all splits. */
  boxesPerClass: Record<string, number>;
  /** Defect-free (NORMAL) images over all splits. */
  normalImages: number;
  note: string;
}

const TEXTURES = ["granular", "brushed", "woven", "cast"] as const;
type Texture = (typeof TEXTURES)[number];

/** Smooth value noise: a random lattice of `cells` per side, bicubic-smoothed (smoothstep) interpolation. */
function valueNoise(size: number, cellsX: number, cellsY: number, rng: Rng): Float32Array {
  const gx = Math.ceil(cellsX) + 2;
  const gy = Math.ceil(cellsY) + 2;
  const lattice = Float32Array.from({ length: gx * gy }, () => rng.next() * 2 - 1);
  const out = new Float32Array(size * size);
  const smooth = (t: number) => t * t * (3 - 2 * t);
  for (let y = 0; y < size; y++) {
    const fy = (y / size) * cellsY;
    const iy = Math.floor(fy);
    const ty = smooth(fy - iy);
    for (let x = 0; x < size; x++) {
      const fx = (x / size) * cellsX;
      const ix = Math.floor(fx);
      const tx = smooth(fx - ix);
      const a = lattice[iy * gx + ix];
      const b = lattice[iy * gx + ix + 1];
      const c = lattice[(iy + 1) * gx + ix];
      const d = lattice[(iy + 1) * gx + ix + 1];
      out[y * size + x] = (a + (b - a) * tx) * (1 - ty) + (c + (d - c) * tx) * ty;
    }
  }
  return out;
}

function surface(size: number, texture: Texture, rng: Rng): Float32Array {
  const base = rng.uniform(95, 165);
  const contrast = rng.uniform(10, 22);
  const out = new Float32Array(size * size).fill(base);
  const add = (field: Float32Array, gain: number) => {
    for (let i = 0; i < out.length; i++) out[i] += gain * field[i];
  };
  if (texture === "granular") {
    for (const [cells, gain] of [[8, 0.6], [32, 0.5], [96, 0.6]] as const) add(valueNoise(size, cells, cells, rng.fork(cells)), contrast * gain);
  } else if (texture === "brushed") {
    // Streaks along one axis: fine lattice across, coarse along; transposed half the time.
    const streaks = rng.next() < 0.5 ? valueNoise(size, 3, 110, rng.fork("s")) : valueNoise(size, 110, 3, rng.fork("s"));
    add(streaks, contrast * 0.9);
    add(valueNoise(size, 6, 6, rng.fork("low")), contrast * 0.5);
  } else if (texture === "woven") {
    const period = rng.uniform(6, 12);
    const angle = rng.uniform(0, Math.PI);
    const [c, s] = [Math.cos(angle), Math.sin(angle)];
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const u = (x * c + y * s) / period;
        const v = (-x * s + y * c) / period;
        out[y * size + x] += contrast * 0.7 * Math.sin(2 * Math.PI * u) * Math.sin(2 * Math.PI * v);
      }
    }
    add(valueNoise(size, 48, 48, rng.fork("grain")), contrast * 0.4);
  } else {
    add(valueNoise(size, 4, 4, rng.fork("blotch")), contrast * 1.0);
    add(valueNoise(size, 20, 20, rng.fork("mid")), contrast * 0.35);
    add(valueNoise(size, 128, 128, rng.fork("fine")), contrast * 0.45);
  }
  return out;
}

/** A defect as a sparse change of grey level: only pixels with |delta| ≥ 1 belong to its footprint. */
interface Painted {
  delta: Map<number, number>;
  /** Optional colour shift (stains): multiplies the tint of the pixels in the footprint. */
  tint?: [number, number, number];
}

function distanceToSegment(px: number, py: number, ax: number, ay: number, bx: number, by: number): number {
  const dx = bx - ax;
  const dy = by - ay;
  const t = Math.max(0, Math.min(1, ((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy || 1)));
  return Math.hypot(px - (ax + t * dx), py - (ay + t * dy));
}

/** Paint a polyline of given half-width; `value(t)` the grey change at normalised distance t ∈ [0, 1] from its axis. */
function paintPolyline(points: Array<[number, number]>, halfWidth: number, amplitude: number, size: number): Map<number, number> {
  const delta = new Map<number, number>();
  const reach = halfWidth + 1;
  for (let i = 0; i + 1 < points.length; i++) {
    const [ax, ay] = points[i];
    const [bx, by] = points[i + 1];
    const x0 = Math.max(0, Math.floor(Math.min(ax, bx) - reach));
    const x1 = Math.min(size - 1, Math.ceil(Math.max(ax, bx) + reach));
    const y0 = Math.max(0, Math.floor(Math.min(ay, by) - reach));
    const y1 = Math.min(size - 1, Math.ceil(Math.max(ay, by) + reach));
    for (let y = y0; y <= y1; y++) {
      for (let x = x0; x <= x1; x++) {
        const d = distanceToSegment(x, y, ax, ay, bx, by);
        const weight = Math.max(0, Math.min(1, halfWidth + 0.5 - d));
        const value = amplitude * weight;
        const k = y * size + x;
        if (Math.abs(value) > Math.abs(delta.get(k) ?? 0)) delta.set(k, value);
      }
    }
  }
  return delta;
}

function paintHole(cx: number, cy: number, size: number, rng: Rng, level: (k: number) => number): Painted {
  const rx = rng.uniform(3.5, 10);
  const ry = rx * rng.uniform(0.75, 1.25);
  const rim = rng.uniform(1, 2);
  const delta = new Map<number, number>();
  for (let y = Math.floor(cy - ry - rim - 1); y <= Math.ceil(cy + ry + rim + 1); y++) {
    for (let x = Math.floor(cx - rx - rim - 1); x <= Math.ceil(cx + rx + rim + 1); x++) {
      if (x < 0 || y < 0 || x >= size || y >= size) continue;
      const r = Math.hypot((x - cx) / rx, (y - cy) / ry);
      const k = y * size + x;
      const dark = rng.uniform(15, 40);
      if (r <= 1) delta.set(k, dark - level(k));
      else if (r <= 1 + rim / rx) delta.set(k, 45);
    }
  }
  return { delta };
}

function paintScratch(cx: number, cy: number, size: number, rng: Rng): Painted {
  const length = rng.uniform(35, 120);
  const angle = rng.uniform(0, Math.PI);
  const bend = rng.uniform(-0.25, 0.25) * length;
  const points: Array<[number, number]> = [];
  for (let i = 0; i <= 12; i++) {
    const t = i / 12 - 0.5;
    const along = t * length;
    const across = bend * (1 - 4 * t * t);
    points.push([cx + along * Math.cos(angle) - across * Math.sin(angle), cy + along * Math.sin(angle) + across * Math.cos(angle)]);
  }
  const sign = rng.next() < 0.7 ? 1 : -1;
  return { delta: paintPolyline(points, rng.uniform(0.6, 1.4), sign * rng.uniform(45, 80), size) };
}

function paintCrack(cx: number, cy: number, size: number, rng: Rng): Painted {
  const delta = new Map<number, number>();
  const branches = 1 + rng.int(3);
  const trunkLength = rng.uniform(30, 90);
  let angle = rng.uniform(0, 2 * Math.PI);
  const trunk: Array<[number, number]> = [[cx - (Math.cos(angle) * trunkLength) / 2, cy - (Math.sin(angle) * trunkLength) / 2]];
  const step = 5;
  for (let travelled = 0; travelled < trunkLength; travelled += step) {
    angle += rng.uniform(-0.6, 0.6);
    const [x, y] = trunk[trunk.length - 1];
    trunk.push([x + step * Math.cos(angle), y + step * Math.sin(angle)]);
  }
  const strokes = [trunk];
  for (let b = 1; b < branches; b++) {
    const start = trunk[1 + rng.int(trunk.length - 2)];
    let a = angle + rng.uniform(0.6, 1.4) * (rng.next() < 0.5 ? -1 : 1);
    const branch: Array<[number, number]> = [start];
    for (let travelled = 0; travelled < trunkLength * rng.uniform(0.25, 0.5); travelled += step) {
      a += rng.uniform(-0.5, 0.5);
      const [x, y] = branch[branch.length - 1];
      branch.push([x + step * Math.cos(a), y + step * Math.sin(a)]);
    }
    strokes.push(branch);
  }
  strokes.forEach((stroke, i) => {
    for (const [k, v] of paintPolyline(stroke, i === 0 ? rng.uniform(0.7, 1.5) : 0.6, -rng.uniform(70, 100), size)) {
      if (Math.abs(v) > Math.abs(delta.get(k) ?? 0)) delta.set(k, v);
    }
  });
  return { delta };
}

function paintStain(cx: number, cy: number, size: number, rng: Rng): Painted {
  const radius = rng.uniform(9, 30);
  const blobs = Array.from({ length: 3 + rng.int(4) }, () => ({
    x: cx + rng.uniform(-0.6, 0.6) * radius,
    y: cy + rng.uniform(-0.6, 0.6) * radius,
    s: radius * rng.uniform(0.35, 0.7),
  }));
  const amplitude = -rng.uniform(30, 60);
  const delta = new Map<number, number>();
  const reach = radius * 1.8;
  for (let y = Math.floor(cy - reach); y <= Math.ceil(cy + reach); y++) {
    for (let x = Math.floor(cx - reach); x <= Math.ceil(cx + reach); x++) {
      if (x < 0 || y < 0 || x >= size || y >= size) continue;
      let field = 0;
      for (const b of blobs) field += Math.exp(-((x - b.x) ** 2 + (y - b.y) ** 2) / (2 * b.s * b.s));
      // A soft-edged blotch: full strength where the blobs overlap, fading out over about a pixel or two.
      const value = amplitude * Math.max(0, Math.min(1, (field - 0.35) * 3));
      if (Math.abs(value) >= 1) delta.set(y * size + x, value);
    }
  }
  const warm = rng.next() < 0.6;
  return { delta, tint: warm ? [1.0, 0.86, 0.62] : [0.8, 0.9, 0.85] };
}

function paintDent(cx: number, cy: number, size: number, rng: Rng): Painted {
  const sx = rng.uniform(10, 26);
  const sy = sx * rng.uniform(0.6, 1.4);
  const light = rng.uniform(0, 2 * Math.PI);
  const [lx, ly] = [Math.cos(light), Math.sin(light)];
  const amplitude = rng.uniform(45, 70);
  const delta = new Map<number, number>();
  for (let y = Math.floor(cy - 2.5 * sy); y <= Math.ceil(cy + 2.5 * sy); y++) {
    for (let x = Math.floor(cx - 2.5 * sx); x <= Math.ceil(cx + 2.5 * sx); x++) {
      if (x < 0 || y < 0 || x >= size || y >= size) continue;
      const u = (x - cx) / sx;
      const v = (y - cy) / sy;
      // Shading of a smooth depression lit from one side: the directional derivative of a Gaussian.
      const value = amplitude * (u * lx + v * ly) * Math.exp(-(u * u + v * v) / 2);
      if (Math.abs(value) >= 4) delta.set(y * size + x, value);
    }
  }
  return { delta };
}

function footprintBox(delta: Map<number, number>, size: number): { bbox: CocoBox; area: number } | null {
  let x0 = Infinity;
  let y0 = Infinity;
  let x1 = -Infinity;
  let y1 = -Infinity;
  let area = 0;
  for (const [k, v] of delta) {
    if (Math.abs(v) < 1) continue;
    const x = k % size;
    const y = (k - x) / size;
    x0 = Math.min(x0, x);
    x1 = Math.max(x1, x);
    y0 = Math.min(y0, y);
    y1 = Math.max(y1, y);
    area++;
  }
  if (area === 0) return null;
  return { bbox: [x0, y0, x1 - x0 + 1, y1 - y0 + 1], area };
}

function overlaps(a: CocoBox, b: CocoBox, margin: number): boolean {
  return a[0] - margin < b[0] + b[2] && b[0] - margin < a[0] + a[2] && a[1] - margin < b[1] + b[3] && b[1] - margin < a[1] + a[3];
}

/** One synthetic image: RGB bytes plus its annotations (category ids 2…6; none for NORMAL). */
export function renderSyntheticImage(
  rng: Rng,
  size: number,
  normal: boolean,
): { rgb: Uint8Array; objects: Array<{ categoryId: number; bbox: CocoBox; area: number }>; texture: Texture } {
  const texture = TEXTURES[rng.int(TEXTURES.length)];
  const grey = surface(size, texture, rng.fork("surface"));
  const tintBase: [number, number, number] = texture === "woven" ? [1.05, 0.98, 0.88] : texture === "brushed" ? [0.95, 0.99, 1.06] : [1, 1, 1];
  const tint = new Float32Array(size * size * 3);
  for (let i = 0; i < size * size; i++) tint.set(tintBase, i * 3);
  const objects: Array<{ categoryId: number; bbox: CocoBox; area: number }> = [];
  const count = normal ? 0 : rng.next() < 0.55 ? 1 : rng.next() < 0.7 ? 2 : 3;
  let attempts = 0;
  while (objects.length < count && attempts++ < 60) {
    const categoryId = 2 + rng.int(5);
    const margin = 12;
    const cx = rng.uniform(margin, size - margin);
    const cy = rng.uniform(margin, size - margin);
    const painter = rng.fork(`defect${attempts}`);
    const painted =
      categoryId === 2
        ? paintHole(cx, cy, size, painter, (k) => grey[k])
        : categoryId === 3
          ? paintScratch(cx, cy, size, painter)
          : categoryId === 4
            ? paintDent(cx, cy, size, painter)
            : categoryId === 5
              ? paintStain(cx, cy, size, painter)
              : paintCrack(cx, cy, size, painter);
    const box = footprintBox(painted.delta, size);
    // Defects must lie inside the image (the painters clip) and not touch another defect's box.
    if (!box || box.bbox[2] < 3 || box.bbox[3] < 3 || objects.some((o) => overlaps(o.bbox, box.bbox, 4))) continue;
    for (const [k, v] of painted.delta) {
      grey[k] += v;
      if (painted.tint) for (let c = 0; c < 3; c++) tint[k * 3 + c] = painted.tint[c];
    }
    objects.push({ categoryId, ...box });
  }
  const noise = rng.fork("noise");
  const sigma = rng.uniform(1.5, 4);
  const rgb = new Uint8Array(size * size * 3);
  for (let i = 0; i < size * size; i++) {
    const value = grey[i] + sigma * noise.normal();
    for (let c = 0; c < 3; c++) rgb[i * 3 + c] = Math.max(0, Math.min(255, Math.round(value * tint[i * 3 + c])));
  }
  return { rgb, objects, texture };
}

/** Write the dataset: `<out>/<split>/<file>` images and `<out>/annotations/instances_<split>.json` (COCO). */
export async function generateSyntheticDefects(options: SyntheticOptions): Promise<SyntheticSummary> {
  const total = options.images ?? 600;
  const size = options.size ?? 256;
  const [trainShare, valShare] = options.splits ?? [0.7, 0.15, 0.15];
  const normalShare = options.normalShare ?? 0.2;
  const format = options.format ?? "png";
  if (!Number.isInteger(total) || total < 3) throw new Error(`generateSyntheticDefects: images must be an integer ≥ 3, got ${total}`);
  if (!Number.isInteger(size) || size < 64) throw new Error(`generateSyntheticDefects: size must be an integer ≥ 64, got ${size}`);
  const root = createRng(options.seed);
  const nVal = Math.max(1, Math.round(total * valShare));
  const nTrain = Math.max(1, Math.round(total * trainShare));
  const nTest = total - nTrain - nVal;
  if (nTest < 1) throw new Error(`generateSyntheticDefects: ${total} images leave no test split`);
  const splitOf = (i: number): CocoSplitName => (i < nTrain ? "train" : i < nTrain + nVal ? "val" : "test");
  const categories: CocoCategory[] = DEFECT_CLASSES.map((name, i) => ({ id: i + 1, name, supercategory: name === "NORMAL" ? "none" : "defect" }));
  type SyntheticImage = CocoImage & { defect_free: boolean; texture: string };
  const makeSplit = (split: CocoSplitName) => ({
    info: { description: SYNTHETIC_NOTE, synthetic: true, generator: "lib/data/coco/synthetic.ts v1", seed: options.seed, split },
    images: [] as SyntheticImage[],
    annotations: [] as CocoAnnotation[],
    categories,
  });
  const datasets = { train: makeSplit("train"), val: makeSplit("val"), test: makeSplit("test") };
  for (const split of COCO_SPLITS) fs.mkdirSync(path.join(options.out, split), { recursive: true });
  fs.mkdirSync(path.join(options.out, "annotations"), { recursive: true });
  // Which images are NORMAL is drawn up front so every split gets its share.
  const normal = root.fork("normal").shuffle(Array.from({ length: total }, (_, i) => i < Math.round(total * normalShare)));
  let annotationId = 1;
  for (let i = 0; i < total; i++) {
    const split = splitOf(i);
    const { rgb, objects, texture } = renderSyntheticImage(root.fork(`image${i}`), size, normal[i]);
    const fileName = `${String(i).padStart(5, "0")}.${format === "png" ? "png" : "jpg"}`;
    const image = sharp(Buffer.from(rgb.buffer, rgb.byteOffset, rgb.byteLength), { raw: { width: size, height: size, channels: 3 } });
    await (format === "png" ? image.png() : image.jpeg({ quality: 92 })).toFile(path.join(options.out, split, fileName));
    const imageId = i + 1;
    datasets[split].images.push({ id: imageId, file_name: fileName, width: size, height: size, defect_free: objects.length === 0, texture });
    for (const o of objects) datasets[split].annotations.push({ id: annotationId++, image_id: imageId, category_id: o.categoryId, bbox: o.bbox, area: o.area, iscrowd: 0 });
    options.onProgress?.(i + 1, total);
  }
  for (const split of COCO_SPLITS) fs.writeFileSync(instancesPath(options.out, split), JSON.stringify(datasets[split]));
  fs.writeFileSync(
    path.join(options.out, "README.txt"),
    `${SYNTHETIC_NOTE}.\nGenerated by npm run detect:synth -- --out <folder> --seed ${options.seed} --images ${total}.\n` +
      `COCO layout: annotations/instances_{train,val,test}.json, images in train/, val/, test/.\n` +
      `NORMAL (category 1) marks defect-free images: they have no boxes, so COCOeval reports -1 for NORMAL.\n`,
  );
  const boxesPerClass: Record<string, number> = Object.fromEntries(DEFECT_CLASSES.slice(1).map((name) => [name, 0]));
  for (const split of COCO_SPLITS) for (const a of datasets[split].annotations) boxesPerClass[DEFECT_CLASSES[a.category_id - 1]]++;
  const normalImages = COCO_SPLITS.reduce((n, split) => n + datasets[split].images.filter((im) => im.defect_free).length, 0);
  return {
    out: options.out,
    seed: options.seed,
    images: { train: datasets.train.images.length, val: datasets.val.images.length, test: datasets.test.images.length },
    annotations: { train: datasets.train.annotations.length, val: datasets.val.annotations.length, test: datasets.test.annotations.length },
    boxesPerClass,
    normalImages,
    note: SYNTHETIC_NOTE,
  };
}

/**
 * The folder a notebook works on: used as it is when it holds a COCO split, otherwise the synthetic set is generated
 * there with `seed` (so the pipeline runs on a fresh machine and users point DATA_DIR at their own data).
 */
export async function ensureCocoFolder(dir: string, synthetic: { seed: number; images?: number }): Promise<{ generated: SyntheticSummary | null }> {
  const hasSplit = COCO_SPLITS.some(
    (split) => fs.existsSync(instancesPath(dir, split)) || fs.existsSync(path.join(dir, split === "val" ? "valid" : split, "_annotations.coco.json")),
  );
  if (hasSplit) return { generated: null };
  return { generated: await generateSyntheticDefects({ out: dir, seed: synthetic.seed, images: synthetic.images }) };
}
