import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import sharp from "sharp";
import * as tf from "@tensorflow/tfjs";
import { createBackbone, embedImages, initEngine, type ImageAugmentation } from "../../lib/engine";
import { decodeImage, type RgbImage } from "../../lib/data/images";
import { createRng } from "../../lib/util";

/** Small generated JPEGs; two of them identical in content (the cache is keyed by content, not name). */
async function fixtureImages(count: number): Promise<{ dir: string; files: string[] }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "engine-embed-"));
  const files: string[] = [];
  for (let i = 0; i < count; i++) {
    const rng = createRng(100 + (i === count - 1 ? 0 : i));
    const raw = Buffer.alloc(24 * 24 * 3);
    for (let p = 0; p < raw.length; p++) raw[p] = rng.int(256);
    const file = path.join(dir, `img${i}.jpg`);
    await sharp(raw, { raw: { width: 24, height: 24, channels: 3 } }).jpeg().toFile(file);
    files.push(file);
  }
  return { dir, files };
}

function flip(tag: string): ImageAugmentation {
  return {
    key: `test-flip:${tag}`,
    apply(image: RgbImage, rng) {
      const data = new Float32Array(image.data.length);
      const shift = rng.uniform(-20, 20); // exercises the seeded rng
      for (let y = 0; y < image.height; y++) {
        for (let x = 0; x < image.width; x++) {
          for (let c = 0; c < 3; c++) {
            data[(y * image.width + x) * 3 + c] = image.data[(y * image.width + (image.width - 1 - x)) * 3 + c] + shift;
          }
        }
      }
      return { width: image.width, height: image.height, data };
    },
  };
}

test("embedImages: rows equal the backbone's own forward pass, cache re-run computes nothing", async () => {
  await initEngine({ log: false });
  const { dir, files } = await fixtureImages(5);
  const cacheDir = path.join(dir, "cache");
  const backbone = createBackbone("small-cnn", { inputSize: 16, seed: 3 });
  const first = await embedImages({ backbone, files, batchSize: 2, cacheDir, log: false });
  assert.equal(first.computed, 4, "files 0 and 4 have the same content: run through the network once");
  assert.equal(fs.existsSync(path.join(cacheDir, "decoded-images")), false, "plain embeddings keep no decoded pixels");
  assert.equal(first.embeddings.rows, 5);
  assert.equal(first.embeddings.dim, backbone.embeddingSize);

  const image = await decodeImage(files[2], { size: 16 });
  const direct = tf.tidy(() => backbone.embed(tf.tensor4d(image.data, [1, 16, 16, 3])));
  const expected = direct.dataSync();
  direct.dispose();
  const row = first.embeddings.row(2);
  for (let i = 0; i < expected.length; i++) assert.ok(Math.abs(row[i] - expected[i]) < 1e-4, `value ${i}`);
  // Same content ⇒ same row (files 0 and 4 are identical images), also within one call.
  assert.deepEqual(Array.from(first.embeddings.row(4)), Array.from(first.embeddings.row(0)));

  const again = await embedImages({ backbone, files, batchSize: 2, cacheDir, log: false });
  assert.equal(again.computed, 0);
  assert.equal(again.cached, 5);
  assert.deepEqual(Array.from(again.embeddings.data), Array.from(first.embeddings.data));

  // Other weights ⇒ other cache rows.
  const other = createBackbone("small-cnn", { inputSize: 16, seed: 4 });
  assert.equal((await embedImages({ backbone: other, files, cacheDir, log: false })).computed, 4);
  fs.rmSync(dir, { recursive: true, force: true });
});

test("embedImages: augmented variants are seeded, cached, and only what changed is recomputed", async () => {
  await initEngine({ log: false });
  const { dir, files } = await fixtureImages(4);
  const cacheDir = path.join(dir, "cache");
  const backbone = createBackbone("small-cnn", { inputSize: 16, seed: 3 });
  const first = await embedImages({ backbone, files, augmentation: flip("a"), variants: 2, seed: 9, cacheDir, log: false });
  assert.equal(first.computed, 3 + 2 * 3, "files 0 and 3 have the same content");
  assert.deepEqual(Array.from(first.variants[1].row(3)), Array.from(first.variants[1].row(0)));
  assert.equal(first.variants.length, 2);
  assert.notDeepEqual(Array.from(first.variants[0].row(1)), Array.from(first.embeddings.row(1)));
  assert.notDeepEqual(Array.from(first.variants[0].row(1)), Array.from(first.variants[1].row(1)));

  // One more variant: only variant 2 is computed; the others come back identical.
  const more = await embedImages({ backbone, files, augmentation: flip("a"), variants: 3, seed: 9, cacheDir, log: false });
  assert.equal(more.computed, 3);
  assert.deepEqual(Array.from(more.variants[1].data), Array.from(first.variants[1].data));

  // The photos' decoded pixels were kept: a changed augmentation starts from them (same rows as decoding again).
  assert.equal(fs.readdirSync(path.join(cacheDir, "decoded-images")).filter((f) => f.endsWith(".u8")).length, 1);
  // A changed augmentation recomputes its variants but not the plain embeddings.
  const changed = await embedImages({ backbone, files, augmentation: flip("b"), variants: 2, seed: 9, cacheDir, log: false });
  assert.equal(changed.computed, 2 * 3);
  // Without a cache the same seed gives the same variants.
  const fresh = await embedImages({ backbone, files, augmentation: flip("a"), variants: 2, seed: 9, cacheDir: null, log: false });
  for (let i = 0; i < fresh.variants[1].data.length; i++) {
    assert.ok(Math.abs(fresh.variants[1].data[i] - first.variants[1].data[i]) < 1e-5);
  }
  fs.rmSync(dir, { recursive: true, force: true });
});

test("embedImages: tf.memory().numTensors is the same after every batch", async () => {
  await initEngine({ log: false });
  const { dir, files } = await fixtureImages(7);
  const backbone = createBackbone("small-cnn", { inputSize: 16, seed: 3 });
  const before = tf.memory().numTensors;
  const counts: number[] = [];
  await embedImages({ backbone, files, batchSize: 2, cacheDir: null, log: false, onProgress: () => counts.push(tf.memory().numTensors) });
  assert.equal(counts.length, 3, "6 distinct images in batches of 2");
  for (const count of counts) assert.equal(count, before);
  fs.rmSync(dir, { recursive: true, force: true });
});

test("embedImages: a missing file is named in the error", async () => {
  await initEngine({ log: false });
  const backbone = createBackbone("small-cnn", { inputSize: 16, seed: 3 });
  await assert.rejects(embedImages({ backbone, files: ["/nonexistent/x.jpg"], cacheDir: null, log: false }), /\/nonexistent\/x\.jpg/);
});
