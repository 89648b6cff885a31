/**
 * lib/images — image preprocessing on RgbImage (HWC floats in [0, 255]): TypeScript, with the pixel loops in a small
 * WebAssembly module (sampling.ts); no TensorFlow.js, so it runs before any forward pass (e.g. in lib/engine's
 * embedding cache).
 *
 *   const aug = augmentationPreset("A1");           // or compose([{ op: "hflip", p: 0.5 }, …])
 *   const out = aug.apply(image, rng);              // same rng seed ⇒ same pixels; aug.key is a stable string of the spec
 *   const x = normalizeImage(resizeImage(out, PRETRAINED_SIZE), IMAGENET_NORMALIZATION);
 */
export * from "./arena";
export * from "./resize";
export * from "./normalize";
export * from "./transforms";
export * from "./presets";
export * from "./statistics";
