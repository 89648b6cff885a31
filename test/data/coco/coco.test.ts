import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import sharp from "sharp";
import {
  CocoFormatError,
  checkSplitImages,
  DEFECT_CLASSES,
  generateSyntheticDefects,
  loadCocoFolder,
  parseCocoDetections,
  parseCocoInstances,
  readSplitImage,
  requireSplit,
  SYNTHETIC_NOTE,
} from "../../../lib/data/coco";

function instances(overrides: { annotations?: unknown[]; images?: unknown[] } = {}) {
  return {
    images: overrides.images ?? [
      { id: 1, file_name: "a.png", width: 100, height: 80 },
      { id: 2, file_name: "b.png", width: 100, height: 80 },
    ],
    categories: [
      { id: 1, name: "hole" },
      { id: 2, name: "crack" },
    ],
    annotations: overrides.annotations ?? [{ id: 1, image_id: 1, category_id: 1, bbox: [10, 10, 20, 20], area: 300, iscrowd: 0 }],
  };
}

function assertCocoError(fn: () => unknown, ...fragments: string[]): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof CocoFormatError, `a CocoFormatError, got ${String(error)}`);
    for (const fragment of fragments) assert.ok(error.message.includes(fragment), `"${error.message}" names ${fragment}`);
    return true;
  });
}

test("instances errors name the file, the annotation and the image", () => {
  const box = (bbox: number[]) => instances({ annotations: [{ id: 7, image_id: 2, category_id: 1, bbox, area: 1, iscrowd: 0 }] });
  assertCocoError(() => parseCocoInstances(box([90, 10, 20, 20]), "gt.json"), "gt.json", "annotation 7", "image 2 (b.png)", "outside the 100×80 image");
  assertCocoError(() => parseCocoInstances(box([10, 70, 5, 20]), "gt.json"), "annotation 7", "outside");
  assertCocoError(() => parseCocoInstances(box([-1, 10, 5, 5]), "gt.json"), "annotation 7", "outside");
  assertCocoError(() => parseCocoInstances(box([10, 10, 0, 5]), "gt.json"), "annotation 7", "b.png", "must be positive");
  assertCocoError(() => parseCocoInstances(box([10, 10, 5, -2]), "gt.json"), "must be positive");
  assertCocoError(() => parseCocoInstances(box([10, 10, 5]), "gt.json"), "annotation 7", "4 finite numbers");
  assertCocoError(
    () => parseCocoInstances(instances({ annotations: [{ id: 3, image_id: 1, category_id: 9, bbox: [1, 1, 2, 2] }] }), "gt.json"),
    "annotation 3",
    "a.png",
    "unknown category_id 9",
  );
  assertCocoError(() => parseCocoInstances(instances({ annotations: [{ id: 3, image_id: 5, category_id: 1, bbox: [1, 1, 2, 2] }] }), "gt.json"), "annotation 3", "unknown image_id 5");
  assertCocoError(
    () =>
      parseCocoInstances(
        instances({
          annotations: [
            { id: 3, image_id: 1, category_id: 1, bbox: [1, 1, 2, 2] },
            { id: 3, image_id: 2, category_id: 1, bbox: [1, 1, 2, 2] },
          ],
        }),
        "gt.json",
      ),
    "annotation 3",
    "duplicate annotation id",
  );
  assertCocoError(() => parseCocoInstances(instances({ images: [{ id: 1, file_name: "a.png", width: 0, height: 5 }], annotations: [] }), "gt.json"), "image 1 (a.png)", "width");
  // Out-of-bounds boxes are accepted when asked (other tools' files), and a missing area / iscrowd is filled and counted.
  const lenient = parseCocoInstances(instances({ annotations: [{ id: 1, image_id: 1, category_id: 2, bbox: [95, 10, 10, 4] }] }), "gt.json", { checkBounds: false });
  assert.equal(lenient.instances.annotations[0].area, 40);
  assert.deepEqual(lenient.notes, { areaFromBox: 1, iscrowdDefaulted: 1 });
});

test("detections are checked against the ground truth's images, naming the entry", () => {
  const { instances: gt } = parseCocoInstances(instances(), "gt.json");
  assert.equal(parseCocoDetections([{ image_id: 1, category_id: 42, bbox: [1, 2, 3, 4], score: 0.5 }], gt, "dt.json").length, 1);
  assertCocoError(() => parseCocoDetections([{ image_id: 1, category_id: 1, bbox: [1, 2, 3, 4], score: 0.5 }, { image_id: 3, category_id: 1, bbox: [1, 2, 3, 4], score: 0.5 }], gt, "dt.json"), "dt.json", "detection 1", "image_id 3");
  assertCocoError(() => parseCocoDetections([{ image_id: 1, category_id: 1, bbox: [1, 2, 3, 4] }], gt, "dt.json"), "detection 0", "score");
  assertCocoError(() => parseCocoDetections({}, gt, "dt.json"), "JSON array");
});

test("the synthetic set: same seed same files, six classes, NORMAL images without boxes, exact boxes inside the image", async () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "synth-"));
  const a = path.join(tmp, "a");
  const b = path.join(tmp, "b");
  const summary = await generateSyntheticDefects({ out: a, seed: 5, images: 20, size: 96 });
  await generateSyntheticDefects({ out: b, seed: 5, images: 20, size: 96 });
  assert.equal(summary.note, SYNTHETIC_NOTE);
  assert.deepEqual(summary.images, { train: 14, val: 3, test: 3 });
  assert.equal(summary.normalImages, 4);
  for (const file of ["annotations/instances_train.json", "annotations/instances_test.json", "train/00000.png", "test/00019.png"]) {
    assert.ok(fs.readFileSync(path.join(a, file)).equals(fs.readFileSync(path.join(b, file))), `${file} is reproducible`);
  }
  const folder = loadCocoFolder(a);
  const train = requireSplit(folder, "train");
  assert.deepEqual(train.instances.categories.map((c) => c.name), [...DEFECT_CLASSES]);
  assert.match(String(train.instances.info?.description), /SYNTHETIC/);
  assert.equal(await checkSplitImages(train), 14);
  const raw = JSON.parse(fs.readFileSync(train.instancesFile, "utf8"));
  for (const image of raw.images) {
    const boxes = raw.annotations.filter((ann: { image_id: number }) => ann.image_id === image.id);
    assert.equal(image.defect_free, boxes.length === 0, "NORMAL exactly when an image has no box");
  }
  assert.ok(train.instances.annotations.every((ann) => ann.category_id >= 2 && ann.area <= ann.bbox[2] * ann.bbox[3] && ann.area > 0));
  const { rgb } = await readSplitImage(train, train.instances.images[0]);
  assert.equal(rgb.length, 96 * 96 * 3);
  const other = await generateSyntheticDefects({ out: path.join(tmp, "c"), seed: 6, images: 20, size: 96 });
  assert.notDeepEqual(other.boxesPerClass, summary.boxesPerClass, "another seed, another set");
});

test("image errors name the instances file and the image: missing, corrupt, wrong size", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "coco-img-"));
  fs.mkdirSync(path.join(dir, "annotations"));
  fs.mkdirSync(path.join(dir, "train"));
  const gt = instances({ annotations: [] });
  fs.writeFileSync(path.join(dir, "annotations", "instances_train.json"), JSON.stringify(gt));
  await sharp({ create: { width: 100, height: 80, channels: 3, background: "gray" } }).png().toFile(path.join(dir, "train", "a.png"));
  const split = requireSplit(loadCocoFolder(dir), "train");
  await assert.rejects(checkSplitImages(split), /instances_train\.json: image 2 \(b\.png\): image file .*b\.png is missing/);
  fs.writeFileSync(path.join(dir, "train", "b.png"), "not a png");
  await assert.rejects(readSplitImage(split, split.instances.images[1]), /image 2 \(b\.png\): cannot decode/);
  await sharp({ create: { width: 50, height: 80, channels: 3, background: "gray" } }).png().toFile(path.join(dir, "train", "b.png"));
  await assert.rejects(checkSplitImages(split), /image 2 \(b\.png\): image file is 50×80 but the instances say 100×80/);
  const { rgb, width } = await readSplitImage(split, split.instances.images[0], 32);
  assert.equal(width, 32);
  assert.equal(rgb.length, 32 * 32 * 3);
  assert.throws(() => requireSplit(loadCocoFolder(dir), "val"), /no "val" split/);
});
