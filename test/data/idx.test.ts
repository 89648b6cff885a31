import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "fs";
import * as path from "path";
import { gzipSync } from "zlib";
import sharp from "sharp";
import { countClasses, decodeItemPixels, fashionMnist, FASHION_MNIST_CLASSES, hasFashionMnist, isIdxFolder, readIdx, sourceSplitIndices } from "../../lib/data";
import { idxBytes, tempDir } from "./fixtures";

/** A 3-train / 2-test MNIST-layout folder of 4×3 images (train gzipped, test plain). */
function miniMnist(): string {
  const dir = tempDir("idx");
  const images = (n: number, base: number) => Uint8Array.from({ length: n * 12 }, (_, i) => (base + i) % 256);
  fs.writeFileSync(path.join(dir, "train-images-idx3-ubyte.gz"), gzipSync(idxBytes([3, 4, 3], images(3, 0))));
  fs.writeFileSync(path.join(dir, "train-labels-idx1-ubyte.gz"), gzipSync(idxBytes([3], Uint8Array.from([9, 0, 3]))));
  fs.writeFileSync(path.join(dir, "t10k-images-idx3-ubyte"), idxBytes([2, 4, 3], images(2, 100)));
  fs.writeFileSync(path.join(dir, "t10k-labels-idx1-ubyte"), idxBytes([2], Uint8Array.from([1, 1])));
  return dir;
}

test("IDX files are read in place (gzipped or not) with the official train / test split", async () => {
  const dir = miniMnist();
  assert.ok(isIdxFolder(dir));
  const ds = fashionMnist(dir);
  assert.deepEqual(ds.classes, FASHION_MNIST_CLASSES);
  assert.deepEqual(ds.items.map((i) => [i.id, i.label, i.split]), [["train/0", 9, "train"], ["train/1", 0, "train"], ["train/2", 3, "train"], ["test/0", 1, "test"], ["test/1", 1, "test"]]);
  const grey = await decodeItemPixels(ds.items[1], { channels: 1 });
  assert.deepEqual([grey.width, grey.height], [3, 4]);
  assert.deepEqual([...grey.data], Array.from({ length: 12 }, (_, i) => 12 + i));
  const rgb = await decodeItemPixels(ds.items[3]);
  assert.deepEqual([...rgb.data.subarray(0, 6)], [100, 100, 100, 101, 101, 101]);
  // The direct gray → RGB copy gives what sharp's sRGB conversion of the same raw image gives.
  const source = await decodeItemPixels(ds.items[3], { channels: 1 });
  const viaSharp = await sharp(Buffer.from(source.data), { raw: { width: source.width, height: source.height, channels: 1 } }).toColourspace("srgb").raw().toBuffer();
  assert.deepEqual([...rgb.data], [...viaSharp]);
  const resized = await decodeItemPixels(ds.items[0], { size: 8 });
  assert.deepEqual([resized.width, resized.height, resized.channels], [8, 8, 3]);
});

test("a truncated IDX file or a label count that does not match is an error naming the file", () => {
  const dir = miniMnist();
  const file = path.join(dir, "t10k-images-idx3-ubyte");
  fs.writeFileSync(file, fs.readFileSync(file).subarray(0, 20));
  assert.throws(() => readIdx(file), /t10k-images-idx3-ubyte: IDX shape 2×4×3 needs 40 bytes, the file has 20/);
  const other = miniMnist();
  fs.writeFileSync(path.join(other, "t10k-labels-idx1-ubyte"), idxBytes([1], Uint8Array.from([1])));
  assert.throws(() => fashionMnist(other), /1 labels for 2 images/);
});

test("Fashion-MNIST from the Debian package: 60 000 + 10 000 images, 6 000 / 1 000 per class", { skip: !hasFashionMnist() }, async () => {
  const ds = fashionMnist();
  assert.equal(sourceSplitIndices(ds, "train").length, 60000);
  assert.equal(sourceSplitIndices(ds, "test").length, 10000);
  assert.deepEqual(countClasses(ds, sourceSplitIndices(ds, "train")).map((c) => c.count), new Array(10).fill(6000));
  assert.deepEqual(countClasses(ds, sourceSplitIndices(ds, "test")).map((c) => c.count), new Array(10).fill(1000));
  const px = await decodeItemPixels(ds.items[0], { channels: 1 });
  assert.deepEqual([px.width, px.height, px.data.length], [28, 28, 784]);
});
