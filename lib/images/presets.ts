/**
 * Named augmentation pipelines. A preset is a plain list of transform specs, so it is logged as a run param verbatim
 * and its `key` changes whenever a parameter does. Add a preset: one entry here (or registerPreset from a notebook).
 */
import type { RgbImage } from "../data/images";
import { createRng } from "../util/random";
import { IMAGENET_NORMALIZATION } from "./normalize";
import { ImageAugmentation, TransformSpec, compose } from "./transforms";

/** ImageNet mean in pixels: what torchvision's RandomErasing(value=0) paints when it runs after Normalize. */
const IMAGENET_MEAN_PIXELS = IMAGENET_NORMALIZATION.mean.map((m) => Math.round(m * 255)) as [number, number, number];

const presets: Record<string, readonly TransformSpec[]> = {
  /** No augmentation (validation / test, and the baseline). */
  none: [],

  /** The seed report's training transform: flip 0.5, ColorJitter 0.2/0.2/0.2, rotation 10°, translate 0.1. */
  report: [
    { op: "hflip", p: 0.5 },
    { op: "colorJitter", brightness: 0.2, contrast: 0.2, saturation: 0.2 },
    { op: "rotate", degrees: 10 },
    { op: "affine", translate: [0.1, 0.1] },
  ],

  // The backbone-comparison seed's four Keras-style pipelines. Its text names the layers, not every factor; the factors
  // below are the usual Keras tutorial values (RandomRotation(0.1) = ±36°, RandomZoom(0.1), …) and use Keras' reflect fill.
  /** A1: horizontal flip + rotation. */
  A1: [
    { op: "hflip", p: 0.5 },
    { op: "rotate", degrees: 36, fill: "reflect" },
  ],
  /** A2: A1 + zoom. */
  A2: [
    { op: "hflip", p: 0.5 },
    { op: "rotate", degrees: 36, fill: "reflect" },
    { op: "zoom", factor: 0.1, fill: "reflect" },
  ],
  /** A3: zoom, brightness, contrast. */
  A3: [
    { op: "zoom", factor: 0.1, fill: "reflect" },
    { op: "colorJitter", brightness: 0.2, contrast: 0.2 },
  ],
  /** A4: zoom, shear, crop, gaussian noise. */
  A4: [
    { op: "zoom", factor: 0.1, fill: "reflect" },
    { op: "affine", shear: 10, fill: "reflect" },
    { op: "randomResizedCrop", scale: [0.8, 1], ratio: [1, 1] },
    { op: "gaussianNoise", std: 0.03 },
  ],

  /** The ODIR seed: RandomAffine(±7°, ±2% shift, 0.95–1.05 scale), ColorJitter(0.1, 0.1, 0.1, 0.02), flip 0.5, RandomErasing(0.25). */
  odir: [
    { op: "affine", degrees: 7, translate: [0.02, 0.02], scale: [0.95, 1.05] },
    { op: "colorJitter", brightness: 0.1, contrast: 0.1, saturation: 0.1, hue: 0.02 },
    { op: "hflip", p: 0.5 },
    { op: "randomErasing", p: 0.25, value: IMAGENET_MEAN_PIXELS },
  ],
  /** The ODIR seed's basic set: flip 0.2, rotation 15°. */
  odirBasic: [
    { op: "hflip", p: 0.2 },
    { op: "rotate", degrees: 15 },
  ],
};

export type BuiltinPresetName = "none" | "report" | "A1" | "A2" | "A3" | "A4" | "odir" | "odirBasic";

/** Names of all presets, built-in and registered, in definition order. */
export function augmentationPresetNames(): string[] {
  return Object.keys(presets);
}

/** The spec list of a preset (a copy). */
export function presetSpecs(name: string): TransformSpec[] {
  const specs = presets[name];
  if (!specs) throw new Error(`unknown augmentation preset "${name}"; known: ${augmentationPresetNames().join(", ")}`);
  return JSON.parse(JSON.stringify(specs)) as TransformSpec[];
}

/** A ready-to-apply preset: `augmentationPreset("A1").apply(image, rng)`. */
export function augmentationPreset(name: BuiltinPresetName | (string & {})): ImageAugmentation {
  return compose(presetSpecs(name), name);
}

/** Add (or replace) a preset at run time, e.g. in a notebook; it then shows up in the gallery. */
export function registerPreset(name: string, specs: readonly TransformSpec[]): ImageAugmentation {
  const aug = compose(specs, name); // validates the ops
  presets[name] = aug.specs;
  return aug;
}

export interface GalleryRow {
  preset: string;
  key: string;
  images: RgbImage[];
}

/**
 * The same photos under every preset (first row per preset = first draw). Image i under preset P is augmented with
 * createRng(seed).fork(`${P}:${i}`), so adding a preset never changes the others' pictures.
 */
export function augmentationGallery(images: readonly RgbImage[], presetNames: readonly string[] = augmentationPresetNames(), seed = 0): GalleryRow[] {
  const root = createRng(seed);
  return presetNames.map((name) => {
    const aug = augmentationPreset(name);
    return { preset: name, key: aug.key, images: images.map((img, i) => aug.apply(img, root.fork(`${name}:${i}`))) };
  });
}
