import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import * as tf from "@tensorflow/tfjs";
import { PROJECT_ROOT } from "../../lib/data";
import { crossValidateClassifier, fitClassifier, loadDataset, prepareInputs, summaryRow } from "../../lib/experiments";
import { splitDataset } from "../../lib/features";
import { tempDir, writeImage } from "../data/fixtures";

tf.setBackend("cpu");

/** Two colour classes (+ a third, rarer one), 8×8 images, and a table over the same files with metadata and groups. */
async function colours(): Promise<{ root: string; csv: string }> {
  const root = tempDir("classify");
  const rows = ["file,colour,size,shape,owner"];
  const classes: [string, [number, number, number], number][] = [["red", [220, 30, 30], 16], ["blue", [30, 30, 220], 16], ["green", [30, 200, 30], 8]];
  for (const [name, rgb, n] of classes) {
    for (let i = 0; i < n; i++) {
      const file = path.join(root, "images", name, `${i}.png`);
      await writeImage(file, [rgb[0] - i, rgb[1] + i, rgb[2]], { size: 8 });
      rows.push(`images/${name}/${i}.png,${name},${i},${i % 2 ? "round" : "square"},o${Math.floor(i / 2)}${name}`);
    }
  }
  const csv = path.join(root, "table.csv");
  fs.writeFileSync(csv, rows.join("\n") + "\n");
  return { root, csv };
}

test("the recipe on an image folder: split, small CNN, N-class metrics and the summary row", async () => {
  const { root } = await colours();
  const ds = await loadDataset(path.join(root, "images"));
  assert.deepEqual(ds.classes, ["blue", "green", "red"]);
  const parts = splitDataset(ds, { seed: 0 });
  const inputs = await prepareInputs(ds, { backbone: "small-cnn", imageSize: 8 });
  const result = await fitClassifier(inputs, parts, { epochs: 15, batchSize: 8, lr: 3e-3, filters: [4], imageUnits: [8], seed: 0 });
  assert.equal(result.nTrain + result.nTest, 40);
  assert.ok(result.accuracy >= 0.85, `accuracy ${result.accuracy}`);
  assert.deepEqual(Object.keys(result.perClassF1), ["blue", "green", "red"]);
  assert.equal(result.confusion.length, 3);
  const row = summaryRow("colours", result);
  assert.equal(row.test_accuracy, result.accuracy);
  assert.equal(row.classes, 3);
});

test("the recipe on an image table: metadata fused with the image, grouped 5-fold CV, metadata only", async () => {
  const { csv } = await colours();
  const ds = await loadDataset(csv, { imageColumn: "file", target: "colour", metadata: ["size", "shape"], group: "owner" });
  assert.deepEqual(ds.metadata.map((c) => c.kind), ["numeric", "categorical"]);
  const inputs = await prepareInputs(ds, { backbone: "small-cnn", imageSize: 8 });
  const cv = await crossValidateClassifier(inputs, { folds: 4, epochs: 20, batchSize: 8, lr: 1e-2, filters: [4], imageUnits: [8], metaUnits: [4], seed: 1 });
  assert.equal(cv.folds.length, 4);
  assert.equal(cv.folds.reduce((a, f) => a + f.nTest, 0), 40);
  assert.ok(cv.accuracy.mean > 0.5, `cv accuracy (majority class: 0.4) ${cv.accuracy.mean}`);
  const metaOnly = await prepareInputs(ds, { backbone: null });
  const result = await fitClassifier(metaOnly, splitDataset(ds, { seed: 0 }), { epochs: 2, metaUnits: [], seed: 0 });
  assert.equal(result.model.inputs.length, 1);
});

test("npm run train on a folder it has never seen: the JSON object last, each skipped file named", async () => {
  const { root } = await colours();
  const folder = path.join(root, "images");
  fs.writeFileSync(path.join(folder, "red", "broken.jpg"), "not an image");
  const tsx = path.join(PROJECT_ROOT, "node_modules", ".bin", "tsx");
  const out = execFileSync(tsx, ["scripts/train.ts", "--data", folder, "--epochs", "2", "--image-size", "8", "--seed", "3", "--on-invalid", "skip"], {
    cwd: PROJECT_ROOT,
    encoding: "utf8",
    env: { ...process.env, TFJS_BACKEND: "cpu" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const last = JSON.parse(out.trim().split("\n").pop()!);
  assert.equal(last.data, folder);
  assert.deepEqual(last.classes, ["blue", "green", "red"]);
  assert.equal(last.n_train + last.n_test, 40);
  assert.deepEqual(last.skipped.map((s: { file: string }) => path.basename(s.file)), ["broken.jpg"]);
  for (const key of ["accuracy", "macro_f1", "seconds"]) assert.equal(typeof last[key], "number");
  assert.deepEqual(Object.keys(last.per_class_f1), ["blue", "green", "red"]);
  assert.throws(
    () => execFileSync(tsx, ["scripts/train.ts", "--data", folder, "--epochs", "1"], { cwd: PROJECT_ROOT, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, TFJS_BACKEND: "cpu" } }),
    (err: { stderr?: string }) => /broken\.jpg: not a readable image/.test(err.stderr ?? ""),
  );
});
