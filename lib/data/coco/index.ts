/**
 * lib/data/coco — COCO-format object-detection datasets (no TensorFlow.js):
 *   const { instances, notes } = readCocoInstances("instances_val.json");   // errors name the image and annotation
 *   const dets = readCocoDetections("detections.json", instances);          // a COCO results file, checked against it
 *   const folder = loadCocoFolder("data/defects");  requireSplit(folder, "train")  // annotations/instances_<split>.json
 *   await readSplitImage(split, image, 224)          // RGB bytes resized; missing / corrupt / wrong-size images name the image
 *   await generateSyntheticDefects({ out, seed })    // the SYNTHETIC DAGM-like six-class set (npm run detect:synth)
 */
export * from "./instances";
export * from "./folder";
export * from "./synthetic";
export * from "./explore";
