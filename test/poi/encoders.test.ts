import { test } from "node:test";
import assert from "node:assert/strict";
import { FeatureInputError, column, fitKMeans, groupIndices, silhouetteScore, toRowArrays } from "../../lib/features";
import {
  FittedPreprocessor,
  TargetLeakError,
  categoriesMultiHot,
  coordinatesScaled,
  featurePipeline,
  featurePipelineFromJson,
  featurePipelineToJson,
  fitFeaturePipeline,
  locationClusters,
  numericScaled,
  tagsCount,
  tierOneHot,
  transformFeatures,
  transformFitted,
  xpsLogScaled,
} from "../../lib/poi";
import { poi } from "./record-fixtures";

const close = (a: number, b: number, tol = 1e-5) => assert.ok(Math.abs(a - b) < tol, `${a} ≉ ${b}`);

test("total_tags counts tags (empty → 0) and is standard-scaled with train mean / population std", () => {
  const train = [poi(1, { tags: [] }), poi(2, { tags: ["a", "b"] }), poi(3, { tags: ["a", "b", "c", "d"] })];
  const pre = tagsCount();
  const fitted = pre.fit(train);
  // counts 0, 2, 4: mean 2, std sqrt(8/3)
  close(fitted.scale.mean, 2);
  close(fitted.scale.std, Math.sqrt(8 / 3));
  const m = pre.transform(fitted, [poi(9, { tags: ["x", "y", "z", "w", "v", "u"] }), poi(10, { tags: [] })]);
  assert.deepEqual(m.columns, ["total_tags"]);
  close(m.data[0], 4 / Math.sqrt(8 / 3));
  close(m.data[1], -2 / Math.sqrt(8 / 3));
});

test("a constant training column scales to 0 instead of dividing by zero", () => {
  const fitted = tagsCount().fit([poi(1), poi(2)]);
  assert.equal(fitted.scale.std, 1);
  assert.equal(tagsCount().transform(fitted, [poi(3)]).data[0], 0);
});

test("categories: vocabulary from train (sorted), multi-hot columns, unknown-value policy", () => {
  const train = [poi(1, { categories: ["Pintura", "Escultura"] }), poi(2, { categories: ["Historia"] })];
  const fitted = categoriesMultiHot().fit(train);
  assert.deepEqual(fitted.vocabulary, ["Escultura", "Historia", "Pintura"]);
  const m = transformFitted(fitted, [poi(3, { categories: ["Historia", "Pintura"] }), poi(4, { categories: [] })]);
  assert.deepEqual(m.columns, ["cat_Escultura", "cat_Historia", "cat_Pintura"]);
  assert.deepEqual(toRowArrays(m), [[0, 1, 1], [0, 0, 0]]);
  assert.throws(() => transformFitted(fitted, [poi(17, { categories: ["Cine"] })]), (e: unknown) => {
    assert.ok(e instanceof FeatureInputError);
    assert.match(e.message, /row 17: categories="Cine" is not in the training vocabulary/);
    return true;
  });
  const lenient = categoriesMultiHot({ unknown: "zeros" }).fit(train);
  assert.deepEqual(toRowArrays(transformFitted(lenient, [poi(5, { categories: ["Cine", "Historia"] })])), [[0, 1, 0]]);
});

test("tier: one-hot over training tiers; unseen tier errors or gives zeros", () => {
  const train = [poi(1, { tier: 2 }), poi(2, { tier: 1 }), poi(3, { tier: 2 })];
  const fitted = tierOneHot().fit(train);
  assert.deepEqual(fitted.values, [1, 2]);
  const m = transformFitted(fitted, [poi(4, { tier: 2 }), poi(5, { tier: 1 })]);
  assert.deepEqual(m.columns, ["tier_1", "tier_2"]);
  assert.deepEqual(toRowArrays(m), [[0, 1], [1, 0]]);
  assert.throws(() => transformFitted(fitted, [poi(6, { tier: 4 })]), /row 6: tier=4 was not seen in training/);
  const lenient = tierOneHot({ unknown: "zeros" }).fit(train);
  assert.deepEqual(toRowArrays(transformFitted(lenient, [poi(6, { tier: 4 })])), [[0, 0]]);
});

test("xps: log1p then standard-scaled", () => {
  const train = [poi(1, { xps: 0 }), poi(2, { xps: Math.E - 1 })];
  const fitted = xpsLogScaled().fit(train);
  // log1p values 0 and 1: mean 0.5, std 0.5
  close(fitted.scale.mean, 0.5);
  close(fitted.scale.std, 0.5);
  const m = transformFitted(fitted, [poi(3, { xps: Math.exp(2) - 1 })]);
  assert.deepEqual(m.columns, ["xps_log1p"]);
  close(m.data[0], 3);
  assert.throws(() => transformFitted(fitted, [poi(8, { xps: -1 })]), /row 8: xps=-1 is negative/);
  assert.throws(() => transformFitted(fitted, [poi(9, { xps: NaN })]), /row 9: xps=null is not a finite number/);
});

test("coordinates: lat / lon standard-scaled", () => {
  const fitted = coordinatesScaled().fit([poi(1, { locationLat: 40, locationLon: -4 }), poi(2, { locationLat: 42, locationLon: -2 })]);
  const m = transformFitted(fitted, [poi(3, { locationLat: 43, locationLon: -3 })]);
  assert.deepEqual(m.columns, ["lat", "lon"]);
  assert.deepEqual(Array.from(m.data), [2, 0]);
});

test("KMeans on locations: seeded, sorted centroids, nearest-centroid one-hot", () => {
  const blobs: [number, number][] = [];
  for (let i = 0; i < 10; i++) blobs.push([40 + i * 0.01, -3.7], [41.4 + i * 0.01, 2.1], [37.4 + i * 0.01, -6]);
  const train = blobs.map(([lat, lon], i) => poi(i + 1, { locationLat: lat, locationLon: lon }));
  const pre = locationClusters({ k: 3, seed: 7 });
  const fitted = pre.fit(train);
  // sorted south → north: Sevilla, Madrid, Barcelona
  close(fitted.centroids[0][0], 37.445);
  close(fitted.centroids[1][0], 40.045);
  close(fitted.centroids[2][0], 41.445);
  assert.deepEqual(JSON.parse(JSON.stringify(fitted)), fitted);
  assert.deepEqual(pre.fit(train), fitted, "same seed, same clusters");
  const m = pre.transform(fitted, [poi(99, { locationLat: 41.3, locationLon: 2.0 }), poi(98, { locationLat: 37, locationLon: -5.9 })]);
  assert.deepEqual(m.columns, ["loc_cluster_0", "loc_cluster_1", "loc_cluster_2"]);
  assert.deepEqual(toRowArrays(m), [[0, 0, 1], [1, 0, 0]]);
});

test("kmeans inertia and silhouette against hand-computed values", () => {
  const points = [[0, 0], [0, 2], [10, 0], [10, 2]];
  const fit = fitKMeans(points, 2, { seed: 1 });
  assert.deepEqual(fit.centroids, [[0, 1], [10, 1]]);
  assert.equal(fit.inertia, 4);
  // each point: a = 2, b = (10 + sqrt(104)) / 2
  const b = (10 + Math.sqrt(104)) / 2;
  close(silhouetteScore(points, fit.labels), (b - 2) / b, 1e-12);
});

test("the pipeline names every column, groups them, and fits on the training rows only", () => {
  const train = [
    poi(1, { categories: ["Historia"], tier: 1, tags: ["a"], xps: 100, locationLat: 40, locationLon: -3.7 }),
    poi(2, { categories: ["Cultura", "Historia"], tier: 2, tags: [], xps: 500, locationLat: 40.1, locationLon: -3.6 }),
    poi(3, { categories: ["Cultura"], tier: 2, tags: ["a", "b"], xps: 1000, locationLat: 41.4, locationLon: 2.1 }),
  ];
  const pipeline = featurePipeline({ features: ["tags", "categories", "tier", "xps", "location", "coordinates"], location: { k: 2, seed: 3 } });
  const fitted = pipeline.fit(train);
  assert.deepEqual(fitted.columns, [
    "total_tags", "cat_Cultura", "cat_Historia", "tier_1", "tier_2", "xps_log1p", "loc_cluster_0", "loc_cluster_1", "lat", "lon",
  ]);
  assert.deepEqual(fitted.groups.tier, ["tier_1", "tier_2"]);
  assert.equal(fitted.fittedOn, 3);
  const trainM = pipeline.transform(fitted, train);
  // Scaled train columns have mean 0 exactly because they were fitted on these rows
  const xps = column(trainM, "xps_log1p");
  close(xps.reduce((a, b) => a + b, 0), 0);
  // A later, extreme row changes nothing in the fitted state
  const other = [poi(4, { categories: ["Historia"], tier: 1, tags: [], xps: 0, locationLat: 43, locationLon: -8 })];
  const m = transformFeatures(fitted, other);
  assert.equal(m.rows, 1);
  assert.deepEqual(groupIndices(m, "location"), [6, 7]);
  assert.deepEqual(fitFeaturePipeline(train, pipeline.spec), fitted);
});

test("fitted pipelines round-trip through JSON and transform identically", () => {
  const train = Array.from({ length: 20 }, (_, i) =>
    poi(i + 1, { tags: Array.from({ length: i % 4 }, (_, t) => `t${t}`), tier: 1 + (i % 3), xps: i * 50, locationLat: 40 + (i % 5), locationLon: -3 + (i % 2) }),
  );
  const fitted = fitFeaturePipeline(train, { features: ["tags", "categories", "tier", "xps", "location", "coordinates"], numeric: ["locationLat"] });
  const restored = featurePipelineFromJson(featurePipelineToJson(fitted));
  assert.deepEqual(restored, fitted);
  assert.deepEqual(transformFeatures(restored, train), transformFeatures(fitted, train));
  assert.throws(() => featurePipelineFromJson('{"format":"other"}'), /not a version-1 poi-feature-pipeline/);
});

test("target columns can never become features", () => {
  for (const target of ["Visits", "Likes", "Dislikes", "Bookmarks", "likes", "BOOKMARKS"]) {
    assert.throws(() => featurePipeline({ features: ["tags", target] }), TargetLeakError, `features: ${target}`);
    assert.throws(() => featurePipeline({ numeric: [target] }), TargetLeakError, `numeric: ${target}`);
    assert.throws(() => numericScaled(target), TargetLeakError);
  }
  assert.throws(() => fitFeaturePipeline([poi(1)], { numeric: ["Visits"] }), /defines the engagement target/);
  // Hand-edited JSON that sneaks a target in is refused on load
  const fitted = fitFeaturePipeline([poi(1), poi(2, { xps: 10 })], { features: ["xps"], numeric: ["xps"] });
  const tampered = JSON.parse(featurePipelineToJson(fitted));
  tampered.steps[1].field = "Likes";
  tampered.columns[1] = "Likes";
  assert.throws(() => featurePipelineFromJson(JSON.stringify(tampered)), TargetLeakError);
  // A harmless numeric field is accepted
  assert.deepEqual(fitFeaturePipeline([poi(1), poi(2)], { features: ["tier"], numeric: ["locationLat"] }).columns, ["tier_1", "locationLat"]);
});

test("unknown feature names and bad values fail early with a clear message", () => {
  assert.throws(() => featurePipeline({ features: ["colour"] }), /unknown feature block "colour"/);
  assert.throws(() => fitFeaturePipeline([poi(1, { tags: "a,b" as never })], { features: ["tags"] }), /row 1: tags="a,b" is not a list/);
});

test("every fitted preprocessor is plain JSON: a JSON copy transforms identically", () => {
  const train = Array.from({ length: 12 }, (_, i) =>
    poi(i + 1, { categories: i % 2 ? ["Cine"] : ["Ocio", "Cine"], tier: 1 + (i % 2), tags: i % 3 ? ["a"] : [], xps: i * 10, locationLat: 40 + (i % 3), locationLon: -3 - (i % 3) }),
  );
  const preprocessors = [tagsCount(), categoriesMultiHot(), tierOneHot(), xpsLogScaled(), locationClusters({ k: 2, seed: 1 }), coordinatesScaled(), numericScaled("xps", { log1p: true })];
  for (const p of preprocessors) {
    const fitted = (p as { fit(rows: typeof train): FittedPreprocessor }).fit(train);
    const copy = JSON.parse(JSON.stringify(fitted));
    assert.deepEqual(copy, fitted, `${p.kind} fitted state is not plain JSON`);
    assert.deepEqual(transformFitted(copy, train), transformFitted(fitted, train), `${p.kind} transforms differently after JSON`);
  }
});

test("the pipeline's unknown-value policy: error names the row, zeros encodes it as zeros", () => {
  const train = [poi(1, { categories: ["Historia"], tier: 1 }), poi(2, { categories: ["Cultura"], tier: 2 })];
  const newRow = [poi(40, { categories: ["Cine", "Historia"], tier: 3 })];
  const strict = fitFeaturePipeline(train, { features: ["categories", "tier"] });
  assert.throws(() => transformFeatures(strict, newRow), /row 40: categories="Cine" is not in the training vocabulary/);
  const lenient = fitFeaturePipeline(train, { features: ["categories", "tier"], unknown: "zeros" });
  const m = transformFeatures(lenient, newRow);
  assert.deepEqual(m.columns, ["cat_Cultura", "cat_Historia", "tier_1", "tier_2"]);
  assert.deepEqual(Array.from(m.data), [0, 1, 0, 0]);
});
