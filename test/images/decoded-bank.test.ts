import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import sharp from "sharp";
import { decodeImage } from "../../lib/data/images";
import { decodedImageBank } from "../../lib/images/decoded-bank";
import { createRng } from "../../lib/util";

async function fixturePhotos(count: number): Promise<{ dir: string; files: string[] }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "decoded-bank-"));
  const files: string[] = [];
  for (let i = 0; i < count; i++) {
    const rng = createRng(40 + i);
    const raw = Buffer.alloc(20 * 14 * 3);
    for (let p = 0; p < raw.length; p++) raw[p] = rng.int(256);
    const file = path.join(dir, `photo${i}.jpg`);
    await sharp(raw, { raw: { width: 20, height: 14, channels: 3 } }).jpeg().toFile(file);
    files.push(file);
  }
  return { dir, files };
}

test("decoded-image bank: pixels read back from disk equal decodeImage's, at the bank's size only", async () => {
  const { dir, files } = await fixturePhotos(3);
  const bankDir = path.join(dir, "bank");
  const expected = await Promise.all(files.map((file) => decodeImage(file, { size: 9 })));
  const first = decodedImageBank(bankDir, 9);
  const decoded = await Promise.all(files.map((file, i) => first.decode(`k${i}`, file)));
  decoded.forEach((image, i) => assert.deepEqual(image, expected[i]));
  assert.equal(fs.existsSync(bankDir), false, "nothing is written before flush");
  first.flush();
  assert.equal(fs.readdirSync(bankDir).filter((f) => f.endsWith(".u8")).length, 1);

  // A new bank (another process) reads them back, even for a file that no longer exists.
  fs.rmSync(files[1]);
  const second = decodedImageBank(bankDir, 9);
  assert.deepEqual(await second.decode("k1", files[1]), expected[1]);
  // Another size is another bank: the missing file is named.
  await assert.rejects(decodedImageBank(bankDir, 10).decode("k1", files[1]), /photo1\.jpg/);
  fs.rmSync(dir, { recursive: true, force: true });
});

test("decoded-image bank: rows a crashed run appended without indexing, or a broken index, are decoded again", async () => {
  const { dir, files } = await fixturePhotos(2);
  const bankDir = path.join(dir, "bank");
  const bank = decodedImageBank(bankDir, 8);
  await bank.decode("a", files[0]);
  bank.flush();
  const [binFile] = fs.readdirSync(bankDir).filter((f) => f.endsWith(".u8"));
  const binPath = path.join(bankDir, binFile);
  // A torn append: half a row more on disk than the index lists.
  fs.appendFileSync(binPath, Buffer.alloc((8 * 8 * 3) / 2, 255));
  const reopened = decodedImageBank(bankDir, 8);
  await reopened.decode("b", files[1]);
  reopened.flush();
  assert.equal(fs.statSync(binPath).size, 2 * 8 * 8 * 3, "the torn bytes were dropped before appending");
  const third = decodedImageBank(bankDir, 8);
  assert.deepEqual(await third.decode("b", "/nonexistent.jpg"), await decodeImage(files[1], { size: 8 }));

  fs.writeFileSync(binPath.replace(/\.u8$/, ".json"), "{ not json");
  await assert.rejects(decodedImageBank(bankDir, 8).decode("a", "/nonexistent.jpg"), /nonexistent\.jpg/);
  fs.rmSync(dir, { recursive: true, force: true });
});

test("decoded-image bank: stops growing at its byte limit, and still decodes what it does not keep", async () => {
  const { dir, files } = await fixturePhotos(3);
  const bankDir = path.join(dir, "bank");
  const rowBytes = 6 * 6 * 3;
  const bank = decodedImageBank(bankDir, 6, 2 * rowBytes);
  for (const [i, file] of files.entries()) assert.deepEqual(await bank.decode(`k${i}`, file), await decodeImage(file, { size: 6 }));
  bank.flush();
  const [binFile] = fs.readdirSync(bankDir).filter((f) => f.endsWith(".u8"));
  assert.equal(fs.statSync(path.join(bankDir, binFile)).size, 2 * rowBytes);
  fs.rmSync(dir, { recursive: true, force: true });
});
