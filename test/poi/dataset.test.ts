import { test } from "node:test";
import assert from "node:assert/strict";
import { countClasses, labelsFor } from "../../lib/data";
import { stratifiedGroupKFold } from "../../lib/features";
import { engagementClasses, fitEngagementTarget, hasDataset, loadPoiDataset, poiDataset, POI_METADATA } from "../../lib/poi";

test("the POI main category: first element of categories, 11 classes from 510 down to 11, rows without one skipped", { skip: !hasDataset() }, () => {
  const ds = poiDataset({ target: "main-category" });
  assert.equal(ds.classes.length, 11);
  const counts = countClasses(ds).map((c) => c.count).sort((a, b) => b - a);
  assert.equal(counts[0], 510);
  assert.equal(counts[10], 11);
  assert.equal(ds.items.length + ds.skipped.length, loadPoiDataset().records.length);
  assert.ok(ds.skipped.every((s) => s.field === "categories"));
  assert.deepEqual(ds.metadata, POI_METADATA);
  for (const item of ds.items) {
    assert.deepEqual(Object.keys(item.metadata), POI_METADATA.map((c) => c.name));
    assert.ok(!("categories" in item.metadata) && !("Visits" in item.metadata));
  }
  assert.equal(ds.fitLabels, undefined);
});

test("the POI engagement target: labels fitted on the training rows only, rows sharing an id or image grouped", { skip: !hasDataset() }, () => {
  const ds = poiDataset({ target: "engagement" });
  const { records } = loadPoiDataset();
  assert.deepEqual(ds.classes, ["low", "medium", "high"]);
  const folds = stratifiedGroupKFold(ds.items, { k: 5, seed: 0, groupKeys: (it) => [it.group!], stratify: (it) => it.label });
  const train = folds[0].train;
  const expected = engagementClasses(fitEngagementTarget(train.map((i) => records[i]), { metric: "M2", classes: 3 }), records);
  assert.deepEqual(labelsFor(ds, train), expected);
  const byId = new Map<string, string>();
  ds.items.forEach((item) => {
    const seen = byId.get(item.id);
    if (seen !== undefined) assert.equal(item.group, seen);
    byId.set(item.id, item.group!);
  });
});
