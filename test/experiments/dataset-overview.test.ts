import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "fs";
import * as path from "path";
import { auditItemImages, hasFashionMnist, type Dataset } from "../../lib/data";
import { classCountRows, classImageRows, loadDataset, metadataRows, sampleItemsPerClass, seededSample } from "../../lib/experiments";
import { tempDir, writeImage } from "../data/fixtures";

async function folderFixture(): Promise<string> {
  const root = tempDir("overview");
  for (const [cls, n, colour] of [["cat", 3, [200, 10, 10]], ["dog", 1, [10, 10, 10]]] as const) {
    for (let i = 0; i < n; i++) await writeImage(path.join(root, cls, `${i}.png`), [...colour], { size: 16 });
  }
  fs.writeFileSync(path.join(root, "dog", "broken.jpg"), Buffer.from([0xff, 0xd8, 0xff, 0x00, 1, 2, 3]));
  return root;
}

test("class counts, per-class samples and image statistics of a dataset", async () => {
  const dataset = await loadDataset(await folderFixture(), { onInvalid: "skip" });
  assert.equal(dataset.skipped.length, 1);
  assert.deepEqual(classCountRows(dataset).map((r) => [r.class, r.items, r.share]), [["cat", 3, "75.0 %"], ["dog", 1, "25.0 %"]]);
  const samples = sampleItemsPerClass(dataset, 2, 7);
  assert.deepEqual(samples.map((i) => dataset.classes[dataset.items[i].label]), ["cat", "cat", "dog"]);
  assert.deepEqual(sampleItemsPerClass(dataset, 2, 7), samples, "same seed, same sample");
  assert.deepEqual(seededSample(10, 0, 1), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  const sample = seededSample(100, 5, 3);
  assert.equal(sample.length, 5);
  assert.deepEqual(seededSample(100, 5, 3), sample);
  assert.deepEqual([...sample].sort((a, b) => a - b), sample);
  // An image that became unreadable after listing is reported with its file and row, not fatal.
  const broken: Dataset = { ...dataset, items: [...dataset.items, { ...dataset.items[0], row: 99, id: "gone", image: path.join(dataset.source, "cat", "gone.png") }] };
  const audit = await auditItemImages(broken);
  assert.equal(audit.filter((a) => a.quality).length, 4);
  assert.match(audit[4].error ?? "", /gone\.png/);
  const rows = classImageRows(audit, broken.classes);
  assert.deepEqual(rows.map((r) => [r.class, r.decoded, r.unreadable, r["near blank"]]), [["cat", 3, 1, 3], ["dog", 1, 0, 1]]);
  assert.ok(Math.abs((rows[0]["mean brightness"] as number) - 220 / 3) < 1.5);
});

test("Fashion-MNIST and the POI main category open by name", { skip: !hasFashionMnist() && "dataset-fashion-mnist is not installed" }, async () => {
  const fashion = await loadDataset("fashion-mnist", { classes: ["Sandal", "Bag"] });
  assert.deepEqual(classCountRows(fashion).map((r) => [r.class, r.items, r.train, r.test]), [["Sandal", 7000, 6000, 1000], ["Bag", 7000, 6000, 1000]]);
  const [first] = await auditItemImages(fashion, [0]);
  assert.equal(first.quality?.width, 28);
  const poi = await loadDataset("poi:main-category");
  assert.equal(poi.classes.length, 11);
  const meta = metadataRows(poi);
  assert.deepEqual(meta.map((r) => [r.column, r.kind]), [["tier", "categorical"], ["xps", "numeric"], ["tag_count", "numeric"], ["latitude", "numeric"], ["longitude", "numeric"]]);
  assert.match(String(meta[0].summary), /^1 \(\d+\), 2 \(\d+\)/);
});
