import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import sharp from "sharp";
import { auditImages, decodeImage, ImageLoadError, imageQuality, isNearBlank } from "../../lib/data";
import { writeJpeg } from "../poi/csv-fixtures";

test("decodes to RGB floats in [0, 255] at the requested size", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "img-"));
  const file = path.join(dir, "red.png");
  await sharp({ create: { width: 8, height: 4, channels: 3, background: { r: 255, g: 0, b: 10 } } }).png().toFile(file);
  const native = await decodeImage(file);
  assert.equal(native.width, 8);
  assert.equal(native.height, 4);
  assert.equal(native.data.length, 8 * 4 * 3);
  assert.deepEqual(Array.from(native.data.slice(0, 3)), [255, 0, 10]);
  const resized = await decodeImage(file, { size: 6 });
  assert.equal(resized.width, 6);
  assert.equal(resized.height, 6);
  assert.ok(Math.abs(resized.data[0] - 255) < 2 && Math.abs(resized.data[2] - 10) < 2);
});

test("grey and RGBA images become 3-channel RGB", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "img-"));
  const grey = path.join(dir, "grey.png");
  await sharp(Buffer.alloc(4 * 4, 77), { raw: { width: 4, height: 4, channels: 1 } }).png().toFile(grey);
  const rgba = path.join(dir, "rgba.png");
  await sharp({ create: { width: 4, height: 4, channels: 4, background: { r: 1, g: 2, b: 3, alpha: 0.5 } } }).png().toFile(rgba);
  assert.deepEqual(Array.from((await decodeImage(grey)).data.slice(0, 3)), [77, 77, 77]);
  const decoded = await decodeImage(rgba);
  assert.equal(decoded.data.length, 4 * 4 * 3);
});

test("missing and corrupt images raise ImageLoadError naming the file and row", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "img-"));
  await assert.rejects(decodeImage(path.join(dir, "nope.jpg"), { row: 7 }), (err: unknown) => err instanceof ImageLoadError && /^row 7: .*nope\.jpg: file does not exist$/.test(err.message));
  const corrupt = path.join(dir, "corrupt.jpg");
  await writeJpeg(corrupt, { r: 1, g: 2, b: 3 }, 64);
  const bytes = fs.readFileSync(corrupt);
  fs.writeFileSync(corrupt, bytes.subarray(0, Math.floor(bytes.length / 2)));
  await assert.rejects(decodeImage(corrupt, { row: 3 }), (err: unknown) => err instanceof ImageLoadError && err.row === 3 && /corrupt\.jpg: truncated JPEG: the file ends before the image does \(libvips: /.test(err.message));
  const garbage = path.join(dir, "garbage.jpg");
  fs.writeFileSync(garbage, "this is not a jpeg");
  await assert.rejects(decodeImage(garbage), /garbage\.jpg: not an image file \(no known image format\)/);
});

test("quality statistics: per-channel std and Laplacian variance", () => {
  const flat = { width: 4, height: 4, data: new Float32Array(48).fill(128) };
  const q = imageQuality(flat);
  assert.deepEqual(q.std, [0, 0, 0]);
  assert.equal(q.laplacianVariance, 0);
  assert.ok(isNearBlank(q));
  // Checkerboard: each pixel 0 or 255 in every channel.
  const data = new Float32Array(48);
  for (let y = 0; y < 4; y++) for (let x = 0; x < 4; x++) data.fill((x + y) % 2 ? 255 : 0, (y * 4 + x) * 3, (y * 4 + x) * 3 + 3);
  const board = imageQuality({ width: 4, height: 4, data });
  assert.deepEqual(board.std, [127.5, 127.5, 127.5]);
  // Interior Laplacian is ±4·255 alternating: mean 0 over the 2×2 interior, variance (4·255)².
  assert.equal(board.laplacianVariance, (4 * 255) ** 2);
  assert.ok(!isNearBlank(board));
});

test("the image audit lists corrupt files instead of stopping", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "audit-"));
  await writeJpeg(path.join(dir, "a.jpg"), { r: 200, g: 10, b: 10 });
  fs.writeFileSync(path.join(dir, "b.jpg"), "broken");
  const audit = await auditImages([{ file: path.join(dir, "a.jpg"), id: "a" }, { file: path.join(dir, "b.jpg"), row: 7 }]);
  assert.ok(audit[0].quality && !audit[0].error);
  assert.equal(audit[0].row, 1);
  assert.equal(audit[1].id, "7");
  assert.match(audit[1].error ?? "", /^row 7: .*b\.jpg: not an image file/);
});
