import { test } from "node:test";
import assert from "node:assert/strict";
import type { RgbImage } from "../../lib/data/images";
import {
  IMAGENET_NORMALIZATION,
  SYMMETRIC_NORMALIZATION,
  TransformSpec,
  applyTransform,
  augmentationGallery,
  augmentationPreset,
  augmentationPresetNames,
  compose,
  denormalizeImage,
  fitNormalization,
  normalizeImage,
  presetSpecs,
  registerPreset,
  registerTransform,
  resizeImage,
} from "../../lib/images";
import { createRng } from "../../lib/util/random";

// Recorded once (seed 2024, preset "report", 32×32 pattern); only integer RNG and IEEE math feed it.
const GOLDEN_REPORT_CHECKSUM = 14412396;

/** A w×h test pattern with distinct, smooth-ish values per pixel and channel. */
function pattern(w = 16, h = 12): RgbImage {
  const data = new Float32Array(w * h * 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    const o = (y * w + x) * 3;
    data[o] = (x * 13) % 256;
    data[o + 1] = (y * 17) % 256;
    data[o + 2] = (x * y) % 256;
  }
  return { width: w, height: h, data };
}
function solid(w: number, h: number, rgb: [number, number, number]): RgbImage {
  const data = new Float32Array(w * h * 3);
  for (let i = 0; i < data.length; i += 3) data.set(rgb, i);
  return { width: w, height: h, data };
}
const px = (img: RgbImage, x: number, y: number) => Array.from(img.data.subarray((y * img.width + x) * 3, (y * img.width + x) * 3 + 3));
const maxAbsDiff = (a: RgbImage, b: RgbImage) => a.data.reduce((m, v, i) => Math.max(m, Math.abs(v - b.data[i])), 0);

test("resize: bilinear with half-pixel centres, hand-computed 2×1 → 4×1", () => {
  const img: RgbImage = { width: 2, height: 1, data: new Float32Array([0, 0, 0, 100, 100, 100]) };
  const out = resizeImage(img, 4, 1);
  // sample x = (i + 0.5)·0.5 − 0.5 = −0.25, 0.25, 0.75, 1.25 → clamped 0, 25, 75, 100
  assert.deepEqual([0, 1, 2, 3].map((x) => px(out, x, 0)[0]), [0, 25, 75, 100]);
  assert.equal(resizeImage(pattern(), 224).width, 224);
  assert.ok(maxAbsDiff(resizeImage(solid(128, 128, [10, 20, 30]), 224), solid(224, 224, [10, 20, 30])) < 1e-4);
  assert.deepEqual(resizeImage(pattern(), 16, 12), pattern());
});

test("normalisation: ImageNet and [-1, 1] on hand values; fitted stats come from the images given", () => {
  const img = solid(2, 2, [255, 0, 127.5]);
  const imagenet = normalizeImage(img, IMAGENET_NORMALIZATION);
  const expect = [(1 - 0.485) / 0.229, (0 - 0.456) / 0.224, (0.5 - 0.406) / 0.225];
  px(imagenet as RgbImage, 1, 1).forEach((v, c) => assert.ok(Math.abs(v - expect[c]) < 1e-5));
  assert.deepEqual(px(normalizeImage(img, SYMMETRIC_NORMALIZATION) as RgbImage, 0, 0), [1, -1, 0]);
  const back = denormalizeImage(imagenet, IMAGENET_NORMALIZATION);
  assert.ok(maxAbsDiff(back, img) < 1e-3);
  // Two images: red channel 0 and 255 → mean 0.5, std 0.5; green constant 51 → mean 0.2, std 0 → 1
  const fitted = fitNormalization([solid(2, 2, [0, 51, 0]), solid(2, 2, [255, 51, 255])]);
  assert.ok(Math.abs(fitted.mean[0] - 0.5) < 1e-9 && Math.abs(fitted.std[0] - 0.5) < 1e-9);
  assert.ok(Math.abs(fitted.mean[1] - 0.2) < 1e-9);
  assert.equal(fitted.std[1], 1);
  assert.equal(fitted.fittedOnImages, 2);
  assert.throws(() => fitNormalization([]), /no training images/);
});

test("flips: p = 1 mirrors, p = 0 copies", () => {
  const img = pattern();
  const rng = createRng(1);
  const h = applyTransform(img, { op: "hflip", p: 1 }, rng);
  assert.deepEqual(px(h, 0, 3), px(img, 15, 3));
  const v = applyTransform(img, { op: "vflip", p: 1 }, rng);
  assert.deepEqual(px(v, 2, 0), px(img, 2, 11));
  assert.deepEqual(applyTransform(img, { op: "hflip", p: 0 }, rng), img);
});

test("geometric transforms with zero strength are the identity", () => {
  const img = pattern();
  const rng = createRng(2);
  for (const spec of [
    { op: "rotate", degrees: 0 },
    { op: "affine", degrees: 0, translate: [0, 0], scale: [1, 1], shear: 0 },
    { op: "zoom", factor: 0 },
    { op: "randomCrop", size: 12 },
  ] as TransformSpec[]) {
    const out = applyTransform(spec.op === "randomCrop" ? resizeImage(img, 12, 12) : img, spec, rng);
    const ref = spec.op === "randomCrop" ? resizeImage(img, 12, 12) : img;
    assert.ok(maxAbsDiff(out, ref) < 1e-3, `${spec.op} changed the image`);
  }
});

test("affine translate shifts whole pixels; rotation keeps a solid image solid inside", () => {
  const img = pattern(20, 20);
  // translate 0.1 of 20 px → shift in [−2, 2] px, rounded to whole pixels like torchvision
  const out = applyTransform(img, { op: "affine", translate: [0.1, 0.1], fill: 0 }, createRng(5));
  let matched = false;
  for (let dx = -2; dx <= 2; dx++) for (let dy = -2; dy <= 2; dy++) {
    if ([5, 10, 14].every((x) => [5, 10, 14].every((y) => px(out, x + dx, y + dy).join() === px(img, x, y).join()))) matched = true;
  }
  assert.ok(matched, "output is not a whole-pixel shift of the input");
  const rotated = applyTransform(solid(21, 21, [50, 60, 70]), { op: "rotate", degrees: 30, fill: 0 }, createRng(1));
  assert.deepEqual(px(rotated, 10, 10).map(Math.round), [50, 60, 70]);
});

test("random crops produce the requested size", () => {
  const img = pattern(32, 32);
  assert.equal(applyTransform(img, { op: "randomCrop", size: 24, padding: 4 }, createRng(1)).width, 24);
  const rrc = applyTransform(img, { op: "randomResizedCrop", size: 20, scale: [0.5, 1] }, createRng(1));
  assert.deepEqual([rrc.width, rrc.height], [20, 20]);
  assert.throws(() => applyTransform(img, { op: "randomCrop", size: 40 }, createRng(1)), /larger than/);
});

test("colour jitter: brightness scales every pixel by one factor; grey stays grey under hue and saturation", () => {
  const img = pattern();
  const out = applyTransform(img, { op: "colorJitter", brightness: 0.2 }, createRng(3));
  const ratio = out.data[3] / img.data[3];
  assert.ok(ratio >= 0.8 && ratio <= 1.2);
  for (let i = 0; i < img.data.length; i++) assert.ok(Math.abs(out.data[i] - Math.min(255, img.data[i] * ratio)) < 1e-3);
  const grey = solid(4, 4, [90, 90, 90]);
  const jittered = applyTransform(grey, { op: "colorJitter", contrast: 0.5, saturation: 0.5, hue: 0.3 }, createRng(4));
  assert.ok(maxAbsDiff(jittered, grey) < 1e-3);
  assert.throws(() => applyTransform(grey, { op: "colorJitter", hue: 0.7 }, createRng(1)), /hue must be in/);
});

test("random erasing paints one rectangle with the value; gaussian noise stays in [0, 255]", () => {
  const img = solid(32, 32, [200, 200, 200]);
  const erased = applyTransform(img, { op: "randomErasing", p: 1, value: [1, 2, 3] }, createRng(9));
  const painted: number[] = [];
  for (let y = 0; y < 32; y++) for (let x = 0; x < 32; x++) if (px(erased, x, y).join() === "1,2,3") painted.push(y * 32 + x);
  assert.ok(painted.length > 0 && painted.length < 32 * 32);
  const xs = painted.map((p) => p % 32);
  const ys = painted.map((p) => Math.floor(p / 32));
  const box = (Math.max(...xs) - Math.min(...xs) + 1) * (Math.max(...ys) - Math.min(...ys) + 1);
  assert.equal(box, painted.length, "erased pixels form a rectangle");
  assert.deepEqual(applyTransform(img, { op: "randomErasing", p: 0 }, createRng(9)), img);
  const noisy = applyTransform(solid(16, 16, [250, 5, 128]), { op: "gaussianNoise", std: 0.1 }, createRng(2));
  assert.ok(noisy.data.every((v) => v >= 0 && v <= 255));
  assert.ok(maxAbsDiff(noisy, solid(16, 16, [250, 5, 128])) > 1);
});

test("every preset: identical seed → identical output, input untouched, other seed → different", () => {
  const img = pattern(32, 32);
  const before = img.data.slice();
  assert.deepEqual(augmentationPresetNames().slice(0, 8), ["none", "report", "A1", "A2", "A3", "A4", "odir", "odirBasic"]);
  for (const name of augmentationPresetNames()) {
    const aug = augmentationPreset(name);
    const a = aug.apply(img, createRng(11));
    const b = augmentationPreset(name).apply(img, createRng(11));
    assert.deepEqual(a, b, `${name} is not deterministic`);
    assert.deepEqual(img.data, before, `${name} mutated its input`);
    if (name !== "none") {
      const differs = [12, 13, 14].some((s) => maxAbsDiff(aug.apply(img, createRng(s)), a) > 0);
      assert.ok(differs, `${name} ignores its seed`);
    }
  }
});

test("golden output: the same seed gives the same pixels on any machine", () => {
  const out = augmentationPreset("report").apply(pattern(32, 32), createRng(2024));
  const checksum = out.data.reduce((s, v, i) => s + Math.round(v) * ((i % 97) + 1), 0);
  assert.equal(checksum, GOLDEN_REPORT_CHECKSUM);
});

test("keys are stable strings of the spec", () => {
  const a = compose([{ op: "hflip", p: 0.5 }, { op: "rotate", degrees: 10 }]);
  const b = compose([{ p: 0.5, op: "hflip" } as TransformSpec, { degrees: 10, op: "rotate" }]);
  assert.equal(a.key, b.key);
  assert.equal(a.key, '[{"op":"hflip","p":0.5},{"degrees":10,"op":"rotate"}]');
  assert.notEqual(compose([{ op: "hflip", p: 0.6 }]).key, compose([{ op: "hflip", p: 0.5 }]).key);
  assert.equal(augmentationPreset("A1").key, compose(presetSpecs("A1")).key);
  assert.throws(() => compose([{ op: "sepia" } as unknown as TransformSpec]), /unknown transform op "sepia"/);
  assert.throws(() => augmentationPreset("A9"), /unknown augmentation preset "A9"/);
});

test("a new augmentation is one function plus a preset entry, and shows up in the gallery", () => {
  registerTransform("invert", (image) => ({ ...image, data: image.data.map((v) => 255 - v) }));
  registerPreset("inverted", [{ op: "custom", name: "invert" }]);
  assert.ok(augmentationPresetNames().includes("inverted"));
  const img = solid(4, 4, [10, 20, 30]);
  const rows = augmentationGallery([img, img], ["none", "inverted"], 1);
  assert.deepEqual(rows.map((r) => r.preset), ["none", "inverted"]);
  assert.deepEqual(px(rows[1].images[1], 0, 0), [245, 235, 225]);
  assert.deepEqual(augmentationGallery([img], ["A1"], 5), augmentationGallery([img], ["A1"], 5));
});
