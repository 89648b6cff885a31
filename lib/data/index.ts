/**
 * lib/data — any dataset (no TensorFlow.js): the Dataset description every layer above reads, the specs that build
 * one, loader errors that name file/row/field (or counted skips), CSV reading, image decoding, image quality.
 *
 *   const flowers = await imageFolder("data/flowers", { validationSplit: 0.2, seed: 1 });   // root/<class>/*.jpg (Keras)
 *   const odir = await imageTable("odir/labels.csv", { imageColumn: "file", target: "diagnosis", metadata: ["age", "sex"], group: "patient" });
 *   const fashion = fashionMnist();                             // Debian's dataset-fashion-mnist, official 60 000 / 10 000 split
 *   const subset = selectClasses(odir, ["N", "D", "G"]);       // renumbered labels, dropped rows counted
 *   describeDataset(flowers); countClasses(flowers); flowers.skipped   // [{ file, row?, field?, reason }]
 *   const px = await decodeItemPixels(flowers.items[0], { size: 96 });  // 8-bit RGB (grey / RGBA → RGB)
 *
 * Bad input (unreadable or corrupt image, empty class folder, missing path, unknown class, non-numeric value in a
 * numeric column) is a DataError naming file, row and field; `onInvalid: "skip"` lists it in `skipped` instead.
 * The POI table is one more dataset: lib/poi's poiDataset({ target: "engagement" | "main-category" }).
 */
export * from "./paths";
export * from "./errors";
export * from "./csv-records";
export * from "./images";
export * from "./imageStats";
export * from "./csv";
export * from "./dataset";
export * from "./item-images";
export * from "./image-folder";
export * from "./image-table";
export * from "./idx";
export * from "./bmp";
export * from "./item-audit";
