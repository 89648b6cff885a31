import { test } from "node:test";
import assert from "node:assert/strict";
import type { DatasetItem, MetadataColumn } from "../../lib/data";
import { datasetKFold, fitMetadataEncoder, splitDataset, transformMetadata, FeatureInputError } from "../../lib/features";

/** Labels 70 / 20 / 10 %; groups: rows of one label within a block of 30. */
function items(n: number, options: { groups?: boolean; split?: boolean } = {}): DatasetItem[] {
  const labelOf = (i: number) => (i % 10 < 7 ? 0 : i % 10 < 9 ? 1 : 2);
  return Array.from({ length: n }, (_, i) => ({
    row: i + 1,
    id: `i${i}`,
    label: labelOf(i),
    group: options.groups ? `g${labelOf(i)}:${Math.floor(i / 30)}` : undefined,
    metadata: { age: 20 + (i % 7), sex: i % 2 ? "F" : "M" },
    split: options.split ? (i < n * 0.75 ? "train" : "test") : undefined,
  }));
}

test("splitDataset: stratified 80/20 by class, groups kept together, same seed same split", () => {
  const ds = { items: items(300, { groups: true }) };
  const a = splitDataset(ds, { seed: 3 });
  assert.equal(a.fromSource, false);
  assert.equal(a.test.length, 60);
  assert.deepEqual(a, splitDataset(ds, { seed: 3 }));
  const count = (ix: number[], label: number) => ix.filter((i) => ds.items[i].label === label).length;
  for (const label of [0, 1, 2]) assert.ok(Math.abs(count(a.test, label) / 60 - count(a.train, label) / 240) < 0.05);
  const testGroups = new Set(a.test.map((i) => ds.items[i].group));
  assert.ok(a.train.every((i) => !testGroups.has(ds.items[i].group)));
});

test("splitDataset keeps the source's train/test and carves validation out of train", () => {
  const ds = { items: items(100, { split: true }) };
  const parts = splitDataset(ds, { seed: 0, valFraction: 0.2 });
  assert.equal(parts.fromSource, true);
  assert.deepEqual(parts.test, Array.from({ length: 25 }, (_, i) => 75 + i));
  assert.equal(parts.val.length, 15);
  assert.equal(parts.train.length + parts.val.length, 75);
  assert.ok(parts.val.every((i) => i < 75));
});

test("datasetKFold: every item validated once, groups never straddle folds", () => {
  const ds = { items: items(90, { groups: true }) };
  const folds = datasetKFold(ds, { k: 5, seed: 1 });
  assert.deepEqual(folds.flatMap((f) => f.val).sort((a, b) => a - b), ds.items.map((_, i) => i));
  for (const f of folds) {
    const val = new Set(f.val.map((i) => ds.items[i].group));
    assert.ok(f.train.every((i) => !val.has(ds.items[i].group)));
  }
});

test("metadata encoder: train-fitted scaler and vocabulary, plain JSON, unknown categories error or zeros", () => {
  const columns: MetadataColumn[] = [{ name: "age", kind: "numeric" }, { name: "sex", kind: "categorical" }];
  const train = [{ metadata: { age: 10, sex: "F" } }, { metadata: { age: 30, sex: "M" } }];
  const enc = JSON.parse(JSON.stringify(fitMetadataEncoder(columns, train)));
  assert.deepEqual(enc.outputColumns, ["age", "sex=F", "sex=M"]);
  const X = transformMetadata(enc, [{ metadata: { age: 20, sex: "M" } }, { metadata: { age: 40, sex: "F" } }]);
  assert.deepEqual(Array.from(X.data), [0, 0, 1, 2, 1, 0]);
  assert.deepEqual(X.groups, { age: ["age"], sex: ["sex=F", "sex=M"] });
  assert.throws(() => transformMetadata(enc, [{ row: 7, metadata: { age: 1, sex: "X" } }]), (e: unknown) => e instanceof FeatureInputError && /row 7: sex="X" was not seen/.test(e.message));
  const zeros = fitMetadataEncoder(columns, train, { unknown: "zeros" });
  assert.deepEqual(Array.from(transformMetadata(zeros, [{ metadata: { age: 20, sex: "X" } }]).data), [0, 0, 0]);
  assert.throws(() => fitMetadataEncoder(columns, [{ row: 2, metadata: { age: "old", sex: "F" } }]), /row 2: age="old" is not a finite number/);
});
