import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import sharp from "sharp";
import { decodeImage } from "../../lib/data/images";
import { imageStatistics, jpegLumaQuantization, IMAGE_STATISTICS_NAMES } from "../../lib/images";
import { imageStatisticsOf } from "../../lib/experiments";
import { createRng } from "../../lib/util/random";

/** A 128×128 test card: a checkerboard of 8-px squares plus seeded noise. */
function card(seed: number): Buffer {
  const rng = createRng(seed);
  const px = Buffer.alloc(128 * 128 * 3);
  for (let y = 0; y < 128; y++) {
    for (let x = 0; x < 128; x++) {
      const on = ((x >> 3) + (y >> 3)) % 2 === 0;
      for (let c = 0; c < 3; c++) px[(y * 128 + x) * 3 + c] = Math.max(0, Math.min(255, (on ? 200 : 50) + c * 10 + rng.int(20)));
    }
  }
  return px;
}

async function jpeg(raw: Buffer, quality: number, blur = 0): Promise<Buffer> {
  let p = sharp(raw, { raw: { width: 128, height: 128, channels: 3 } });
  if (blur > 0) p = p.blur(blur);
  return p.jpeg({ quality }).toBuffer();
}

test("JPEG quantisation reads the encoder's quality; non-JPEG bytes give 0", async () => {
  const raw = card(1);
  const q95 = jpegLumaQuantization(await jpeg(raw, 95));
  const q50 = jpegLumaQuantization(await jpeg(raw, 50));
  assert.ok(q95 > 0 && q50 > 4 * q95, `q95 ${q95}, q50 ${q50}`);
  assert.equal(jpegLumaQuantization(Buffer.from("not a jpeg")), 0);
});

test("blur lowers the sharpness statistics; names and values line up", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "imgstats-"));
  const sharpFile = path.join(dir, "sharp.jpg");
  const blurFile = path.join(dir, "blur.jpg");
  fs.writeFileSync(sharpFile, await jpeg(card(2), 90));
  fs.writeFileSync(blurFile, await jpeg(card(2), 90, 2));
  const a = imageStatistics(await decodeImage(sharpFile), { fileBytes: fs.readFileSync(sharpFile) });
  const b = imageStatistics(await decodeImage(blurFile), { fileBytes: fs.readFileSync(blurFile) });
  assert.equal(a.values.length, IMAGE_STATISTICS_NAMES.length);
  const v = (s: typeof a, name: string) => s.values[IMAGE_STATISTICS_NAMES.indexOf(name as (typeof IMAGE_STATISTICS_NAMES)[number])];
  for (const name of ["img_laplacian_logvar", "img_grad_mean", "img_edges_40", "img_laplacian_p99"]) {
    assert.ok(v(a, name) > v(b, name), `${name}: sharp ${v(a, name)} > blurred ${v(b, name)}`);
  }
  assert.ok(Array.from(a.values).every(Number.isFinite));
  // Cached by content: a second call reads the same numbers from the cache file.
  const cacheDir = path.join(dir, "cache");
  const first = await imageStatisticsOf([sharpFile, blurFile], { cacheDir });
  assert.equal(fs.readdirSync(cacheDir).length, 1);
  const second = await imageStatisticsOf([sharpFile, blurFile], { cacheDir });
  assert.deepEqual(second.data, first.data);
  assert.deepEqual(Array.from(first.data.subarray(0, a.values.length)), Array.from(Float32Array.from(a.values)));
  assert.throws(() => imageStatistics({ width: 8, height: 8, data: new Float32Array(192) }), /8×8/);
});
