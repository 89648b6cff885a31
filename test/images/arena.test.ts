import { test } from "node:test";
import assert from "node:assert/strict";
import { augmentationPreset, blankImage, ImageArena, imageData } from "../../lib/images";
import type { RgbImage } from "../../lib/data";
import { createRng } from "../../lib/util";

function photo(size: number, seed: number): RgbImage {
  const rng = createRng(seed);
  return { width: size, height: size, data: Float32Array.from({ length: size * size * 3 }, () => rng.uniform(0, 255)) };
}

test("augmenting inside an image arena gives the same pixels as outside it, for every preset", () => {
  const image = photo(40, 1);
  const arena = new ImageArena(1 << 20);
  for (const name of ["A1", "A2", "A3", "A4"]) {
    const aug = augmentationPreset(name);
    const outside = aug.apply(image, createRng(7).fork(name)).data;
    const inside = arena.run(() => Float32Array.from(aug.apply(image, createRng(7).fork(name)).data));
    assert.deepEqual(inside, outside, name);
  }
});

test("an arena's images share reused memory, zero-filled each time; outside a run arrays are plain", () => {
  const arena = new ImageArena(4096);
  const first = arena.run(() => {
    const a = blankImage(8, 8).data;
    a.fill(5);
    const b = imageData(10);
    assert.equal(a.buffer, b.buffer, "one backing buffer");
    assert.ok(imageData(2000).buffer !== a.buffer, "a request beyond the chunk gets another buffer");
    return a;
  });
  const again = arena.run(() => blankImage(8, 8).data);
  assert.equal(again.buffer, first.buffer, "the next run reuses the memory");
  assert.equal(again.byteOffset, first.byteOffset);
  assert.ok(again.every((v) => v === 0), "zero-filled");
  const plain = imageData(10);
  assert.equal(plain.buffer.byteLength, 40);
});
