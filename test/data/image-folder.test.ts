import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "fs";
import * as path from "path";
import sharp from "sharp";
import { countClasses, DataError, decodeItemPixels, describeDataset, imageFolder, sourceSplitIndices } from "../../lib/data";
import { tempDir, writeImage } from "./fixtures";

async function tree(files: Record<string, [number, number, number, number?] | { channels: 1 | 3 | 4; colour: [number, number, number, number?] } | string>): Promise<string> {
  const root = tempDir("imgfolder");
  for (const [rel, spec] of Object.entries(files)) {
    const file = path.join(root, rel);
    if (typeof spec === "string") {
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, spec);
    } else if (Array.isArray(spec)) await writeImage(file, spec);
    else await writeImage(file, spec.colour, { channels: spec.channels });
  }
  return root;
}

test("classes are the sorted subfolders; files are found recursively with every accepted extension", async () => {
  const root = await tree({
    "dog/a.jpg": [200, 10, 10],
    "dog/nested/deeper/b.PNG": [10, 200, 10],
    "dog/c.JPG": [10, 10, 200],
    "cat/x.webp": [1, 2, 3],
    "cat/y.gif": [50, 60, 70],
    "cat/z.bmp": [90, 80, 70],
    "cat/w.jpeg": [5, 5, 5],
    "bird/q.png": [0, 0, 0],
  });
  const ds = await imageFolder(root);
  assert.deepEqual(ds.classes, ["bird", "cat", "dog"]);
  assert.deepEqual(countClasses(ds).map((c) => c.count), [1, 4, 3]);
  assert.deepEqual(
    ds.items.map((i) => i.id),
    ["bird/q.png", "cat/w.jpeg", "cat/x.webp", "cat/y.gif", "cat/z.bmp", "dog/a.jpg", "dog/c.JPG", "dog/nested/deeper/b.PNG"],
  );
  assert.deepEqual(ds.items.map((i) => i.row), [1, 2, 3, 4, 5, 6, 7, 8]);
  assert.equal(ds.skipped.length, 0);
  assert.equal(ds.metadata.length, 0);
  const bmp = await decodeItemPixels(ds.items[4]);
  assert.deepEqual([bmp.width, bmp.height, bmp.channels], [12, 12, 3]);
  assert.deepEqual([...bmp.data.subarray(0, 3)], [90, 80, 70]);
  assert.match(describeDataset(ds), /8 items, 3 classes; image only; 0 skipped/);
});

test("grey and RGBA images decode to RGB (alpha dropped, grey replicated); size and 1-channel options", async () => {
  const root = await tree({ "a/grey.png": { channels: 1, colour: [77, 0, 0] }, "a/rgba.png": { channels: 4, colour: [10, 20, 30, 128] } });
  const ds = await imageFolder(root);
  const grey = await decodeItemPixels(ds.items[0]);
  assert.equal(grey.channels, 3);
  assert.deepEqual([...grey.data.subarray(0, 6)], [77, 77, 77, 77, 77, 77]);
  const rgba = await decodeItemPixels(ds.items[1]);
  assert.deepEqual([rgba.channels, rgba.data.length], [3, 432]);
  assert.deepEqual([...rgba.data.subarray(0, 3)], [10, 20, 30]);
  const small = await decodeItemPixels(ds.items[1], { size: 5 });
  assert.deepEqual([small.width, small.height, small.data.length], [5, 5, 75]);
  // sharp resizes RGBA premultiplied: ±1 from rounding.
  [10, 20, 30].forEach((v, c) => assert.ok(Math.abs(small.data[c] - v) <= 1, `${small.data[c]} vs ${v}`));
  const luma = await decodeItemPixels(ds.items[1], { channels: 1 });
  assert.equal(luma.data.length, 144);
  assert.ok(Math.abs(luma.data[0] - (0.299 * 10 + 0.587 * 20 + 0.114 * 30)) <= 1);
});

test("corrupt, empty and non-image files: an error naming the file, or skipped and counted", async () => {
  const broken = await tree({ "a/ok.png": [1, 2, 3], "a/broken.jpg": "not a jpeg" });
  await assert.rejects(imageFolder(broken), (err: unknown) => err instanceof DataError && /broken\.jpg: not a readable image/.test(err.message));
  const empty = await tree({ "a/ok.png": [1, 2, 3], "a/empty.png": "" });
  await assert.rejects(imageFolder(empty), /empty\.png: empty file \(0 bytes\)/);
  const root = await tree({ "a/ok.png": [1, 2, 3], "a/broken.jpg": "not a jpeg", "a/empty.png": "", "b/ok.png": [4, 5, 6], "b/notes.txt": "hello" });
  await assert.rejects(imageFolder(root), /notes\.txt: not an image file/);
  const ds = await imageFolder(root, { onInvalid: "skip" });
  assert.equal(ds.items.length, 2);
  const reasons = Object.fromEntries(ds.skipped.map((s) => [path.basename(s.file), s.reason]));
  assert.deepEqual(Object.keys(reasons).sort(), ["broken.jpg", "empty.png", "notes.txt"]);
  assert.match(reasons["empty.png"], /empty file/);
  assert.match(reasons["notes.txt"], /not an image file \(extension ".txt"/);
});

test("a truncated image passes the header check and fails the full decode", async () => {
  const root = await tree({ "a/ok.png": [1, 2, 3] });
  const noise = Buffer.alloc(64 * 64 * 3);
  for (let i = 0; i < noise.length; i++) noise[i] = (i * 37) % 256;
  const jpeg = await sharp(noise, { raw: { width: 64, height: 64, channels: 3 } }).jpeg().toBuffer();
  fs.writeFileSync(path.join(root, "a/big.jpg"), jpeg.subarray(0, Math.floor(jpeg.length * 0.8)));
  assert.equal((await imageFolder(root)).items.length, 2);
  const decoded = await imageFolder(root, { check: "decode", onInvalid: "skip" });
  assert.deepEqual(decoded.skipped.map((s) => path.basename(s.file)), ["big.jpg"]);
});

test("an empty class folder is an error naming it, or skipped (the class is left out)", async () => {
  const root = await tree({ "a/ok.png": [1, 2, 3], "c/ok.png": [1, 2, 3] });
  fs.mkdirSync(path.join(root, "b"));
  await assert.rejects(imageFolder(root), /class folder "b" has no images/);
  const ds = await imageFolder(root, { onInvalid: "skip" });
  assert.deepEqual(ds.classes, ["a", "c"]);
  assert.deepEqual(ds.items.map((i) => i.label), [0, 1]);
  assert.equal(ds.skipped.length, 1);
});

test("train/ and test/ (or val/) folders fix the split; the class list is their union", async () => {
  const root = await tree({ "train/a/1.png": [1, 1, 1], "train/a/2.png": [2, 2, 2], "train/b/1.png": [3, 3, 3], "test/a/1.png": [4, 4, 4], "test/c/1.png": [5, 5, 5] });
  const ds = await imageFolder(root);
  assert.deepEqual(ds.classes, ["a", "b", "c"]);
  assert.deepEqual(sourceSplitIndices(ds, "train").length, 3);
  assert.deepEqual(ds.items.filter((i) => i.split === "test").map((i) => i.id), ["test/a/1.png", "test/c/1.png"]);
  const withVal = await tree({ "train/a/1.png": [1, 1, 1], "val/a/1.png": [2, 2, 2] });
  assert.deepEqual((await imageFolder(withVal)).items.map((i) => i.split), ["train", "test"]);
});

test("validationSplit + seed: Keras' rule (shuffle with the seed, the last ⌊f·n⌋ are validation), same seed same split", async () => {
  const files: Record<string, [number, number, number]> = {};
  for (let i = 0; i < 10; i++) files[`${i % 2 ? "a" : "b"}/${i}.png`] = [i, i, i];
  const root = await tree(files);
  const one = await imageFolder(root, { validationSplit: 0.3, seed: 7 });
  const two = await imageFolder(root, { validationSplit: 0.3, seed: 7 });
  const other = await imageFolder(root, { validationSplit: 0.3, seed: 8 });
  const val = (d: typeof one) => d.items.filter((i) => i.split === "val").map((i) => i.id);
  assert.equal(val(one).length, 3);
  assert.equal(one.items.filter((i) => i.split === "train").length, 7);
  assert.deepEqual(val(one), val(two));
  assert.notDeepEqual(val(one), val(other));
  await assert.rejects(imageFolder(root, { validationSplit: 0.3 }), /needs a seed/);
});

test("a class subset keeps that order, renumbers labels and counts the dropped rows; an unknown class is an error", async () => {
  const root = await tree({ "a/1.png": [1, 1, 1], "b/1.png": [2, 2, 2], "b/2.png": [2, 2, 2], "c/1.png": [3, 3, 3] });
  const ds = await imageFolder(root, { classes: ["c", "a"] });
  assert.deepEqual(ds.classes, ["c", "a"]);
  assert.deepEqual(ds.items.map((i) => [i.id, i.label]), [["a/1.png", 1], ["c/1.png", 0]]);
  assert.equal(ds.droppedByClassFilter, 2);
  await assert.rejects(imageFolder(root, { classes: ["a", "zebra"] }), /unknown class\(es\) "zebra"/);
});
