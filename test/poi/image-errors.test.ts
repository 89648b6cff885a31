import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "fs";
import * as path from "path";
import sharp from "sharp";
import { createRng } from "../../lib/util";
import { auditImages, decodeImage, ImageLoadError } from "../../lib/data";
import { auditPoiImages, loadPoiDataset, recordImage } from "../../lib/poi";
import { createBackbone, embedImages, initEngine } from "../../lib/engine";
import { imageStatisticsOf, loadExperimentData } from "../../lib/experiments";
import { imageGridHtml } from "../../lib/viz";
import { csvLine, makeDataset } from "./csv-fixtures";

/** A POI dataset of three rows whose second photo is a JPEG cut in half, and whose third photo is missing after loading. */
async function datasetWithBrokenPhotos(): Promise<{ dir: string; truncatedFile: string }> {
  const dir = await makeDataset([csvLine("aa"), csvLine("bb"), csvLine("cc")], ["aa", "bb", "cc"]);
  const truncatedFile = path.join(dir, "data_main", "bb", "main.jpg");
  // A 64×64 photo-like (noisy) JPEG, so that the cut falls in the image data, not in the header.
  const rng = createRng(5);
  const noise = Buffer.from(Array.from({ length: 64 * 64 * 3 }, () => rng.int(256)));
  const bytes = await sharp(noise, { raw: { width: 64, height: 64, channels: 3 } }).jpeg({ quality: 90 }).toBuffer();
  fs.writeFileSync(truncatedFile, bytes.subarray(0, Math.floor(bytes.length * 0.6)));
  return { dir, truncatedFile };
}

const TRUNCATED = `poi_dataset.csv row 2 (id bb): data_main/bb/main.jpg: truncated JPEG: the file ends before the image does (libvips: VipsJpeg: Premature end of input file)`;
const MISSING = `poi_dataset.csv row 3 (id cc): data_main/cc/main.jpg: file does not exist`;
// Where several images decode at once (embedding batches, audits, grids), libvips sometimes reports a failure as
// "Unknown error" (its error text is shared between threads): the row and file are always named.
const TRUNCATED_ANY = /^(ImageLoadError: )?poi_dataset\.csv row 2 \(id bb\): data_main\/bb\/main\.jpg: (truncated JPEG: the file ends before the image does|cannot decode) \(libvips: .*\)$/;

test("decodeImage: a truncated JPEG of a POI row is reported with the table, row, id and the path as written in the CSV", async () => {
  const { dir } = await datasetWithBrokenPhotos();
  const { records } = loadPoiDataset({ dataDir: dir });
  await assert.rejects(decodeImage(recordImage(dir, records[1]), { size: 32 }), (err: unknown) => {
    assert.ok(err instanceof ImageLoadError);
    assert.equal(err.message, TRUNCATED);
    assert.deepEqual([err.row, err.origin.id], [2, "bb"]);
    return true;
  });
  fs.rmSync(path.join(dir, "data_main", "cc", "main.jpg"));
  await assert.rejects(decodeImage(recordImage(dir, records[2])), { message: MISSING });
});

test("embedImages names the row of a truncated or missing photo", async () => {
  await initEngine({ log: false });
  const { dir } = await datasetWithBrokenPhotos();
  const { records } = loadPoiDataset({ dataDir: dir });
  const backbone = createBackbone("small-cnn", { inputSize: 16, seed: 0 });
  const files = records.map((r) => recordImage(dir, r));
  await assert.rejects(embedImages({ backbone, files, cacheDir: null, log: false }), TRUNCATED_ANY);
  fs.rmSync(path.join(dir, "data_main", "cc", "main.jpg"));
  await assert.rejects(embedImages({ backbone, files, cacheDir: null, log: false }), { message: MISSING });
  backbone.model.dispose();
});

test("image statistics, the image audit and photo grids name the row", async () => {
  const { dir } = await datasetWithBrokenPhotos();
  const { records } = loadPoiDataset({ dataDir: dir });
  const files = records.map((r) => recordImage(dir, r));
  await assert.rejects(imageStatisticsOf(files, { cacheDir: null }), { message: TRUNCATED });
  const audit = await auditPoiImages(dir, records);
  assert.deepEqual([audit[0].error, audit[2].error], [undefined, undefined]);
  assert.match(audit[1].error ?? "", TRUNCATED_ANY);
  // lib/data's audit without a table: the row (its position) still comes first.
  assert.match((await auditImages([{ file: files[1].file }]))[0].error ?? "", /^row 1: .*bb\/main\.jpg: truncated JPEG/);
  await assert.rejects(imageGridHtml([{ source: files[0] }, { source: files[1], caption: "bb" }]), TRUNCATED_ANY);
});

test("an experiment's input loading stops at a broken photo with its row", async () => {
  const { dir } = await datasetWithBrokenPhotos();
  await assert.rejects(loadExperimentData({ dataDir: dir, cacheDir: null }), { message: TRUNCATED });
});
