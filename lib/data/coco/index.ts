/**
 * lib/data/coco — COCO-format object-detection datasets (no TensorFlow.js):
 *   const { instances, notes } = readCocoInstances("instances_val.json");   // errors name the image and annotation
 *   const dets = readCocoDetections("detections.json", instances);          // a COCO results file, checked against it
 */
export * from "./instances";
