import { test } from "node:test";
import assert from "node:assert/strict";
import { findDuplicates, hasDataset, loadPoiDataset } from "../../lib/poi";

const skip = !hasDataset() && "real dataset not found (set POI_DATA_DIR)";

test("the real poi_dataset.csv loads completely, tricky rows included", { skip }, () => {
  const { records, skipped } = loadPoiDataset();
  assert.equal(records.length, 1569);
  assert.equal(skipped.length, 0);
  assert.equal(new Set(records.flatMap((r) => r.categories)).size, 12);
  // Row 744: a tag that contains an apostrophe, so Python wrote it in double quotes.
  assert.ok(records[743].tags.includes("Bernardo o'higgins"));
  // Row 42: a name that starts with a quoted title and contains commas.
  assert.equal(records[41].name, '"El Gran Canal desde San Vio, Venecia",  hacia 1723-1724, Giovanni Antonio Canal (Canaletto)');
  assert.equal(records.filter((r) => r.tags.length === 0).length, 107);
  assert.equal(records.filter((r) => r.categories.length === 0).length, 2);
  assert.ok(records.every((r) => r.tier >= 1 && r.tier <= 4));
});

test("the real data has 23 repeated ids covering 100 rows", { skip }, () => {
  const report = findDuplicates(loadPoiDataset().records);
  assert.equal(report.byId.length, 23);
  assert.equal(report.byId.reduce((n, g) => n + g.rows.length, 0), 100);
});
