/**
 * lib/models/detection — a one-stage anchor-free detector that trains on a CPU:
 *   const detector = await Detector.create({ inputSize: 192, categories, seed: 0 });  // frozen MobileNetV2 + CenterNet head
 *   const [f8, f16] = detector.extractor.extract(pixels);  const out = detector.forward(f8, f16);
 *   detector.toCocoDetections(out.squeeze([0]), { id, width, height })   // COCO results rows in image pixels
 *   buildTargets(objects, gridSize, K)  centerNetLoss(out, heat, reg, mask, K)  encodeBox / decodeBox
 *   await detector.save(dir);  await Detector.load(dir)
 */
export * from "./boxes";
export * from "./centernet";
export * from "./features";
export * from "./detector";
