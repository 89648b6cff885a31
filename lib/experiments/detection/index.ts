/**
 * lib/experiments/detection — the detection recipe that notebooks 22–23 and `npm run detect:train` run:
 *   const data = await loadDetectionData({ data: "data/defects", size: 192 });   // images → cached backbone features
 *   const trained = await trainDetector(data, { epochs: 30, seed: 0, keepEpochs: [3] });  // tracked, best on val mAP
 *   trained.test.json      // test-split COCOeval numbers with the best epoch's weights
 */
export * from "./data";
export * from "./train";
export * from "./figures";
