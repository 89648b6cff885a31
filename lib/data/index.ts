/**
 * lib/data — reading any dataset (no TensorFlow.js): where the project's files live, loader errors that name
 * file/row/field, image decoding to RGB and image quality statistics. The POI table is one dataset (lib/poi).
 *
 *   const image = await decodeImage(file, { size: 224 });     // RGB floats in [0, 255]; grey/RGBA → RGB
 *   const audit = await auditImages(files.map((file) => ({ file })));   // quality per image, errors listed
 */
export * from "./paths";
export * from "./errors";
export * from "./images";
export * from "./imageStats";
