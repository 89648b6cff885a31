import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import sharp from "sharp";
import { decodeImage, type ImageInput, type RgbImage } from "../data/images";

/**
 * Decoded, resized images kept on disk by content, so that an augmentation preset a cache does not hold starts from
 * pixels instead of files. Decoding is most of an augmented embedding's cost besides the network: libvips' bicubic
 * upscale of a 128 px photo to 224 px takes about 3.5 ms of CPU, the JPEG decode 1.2 ms more.
 *
 * One bank per size and decoder (sharp and libvips versions: another build may round differently), stored as
 * outputs/cache/decoded/<size>px-<id>.u8 (rows of size × size × 3 bytes, the decoder's exact output) + <id>.json
 * (keys in row order). Rows are appended as they are decoded and the index replaced atomically, like the embedding
 * banks: not safe for two processes writing the same bank at once. A bank stops growing at `maxBytes` (default
 * 1 GiB: 7 000 photos at 224 px); photos beyond it are decoded every time.
 */
export interface DecodedImageBank {
  /** The image at the bank's size: from the bank, or decoded (lib/data's decodeImage) and held for `flush`. */
  decode(key: string, input: ImageInput): Promise<RgbImage>;
  /** Write the rows decoded since the last flush. */
  flush(): void;
}

interface BankIndex {
  version: 1;
  decoder: string;
  size: number;
  keys: string[];
}

const DECODER = `sharp ${sharp.versions.sharp} libvips ${sharp.versions.vips} cubic fill`;

export const DECODED_BANK_MAX_BYTES = 2 ** 30;

/** A bank of `size` px images in `dir`; `null`: no disk, every call decodes. */
export function decodedImageBank(dir: string | null, size: number, maxBytes = DECODED_BANK_MAX_BYTES): DecodedImageBank {
  if (dir === null) return { decode: (_key, input) => decodeImage(input, { size }), flush: () => undefined };
  const rowBytes = size * size * 3;
  const id = createHash("sha256").update(`${DECODER} ${size}`).digest("hex").slice(0, 16);
  const binPath = path.join(dir, `${size}px-${id}.u8`);
  const indexPath = path.join(dir, `${size}px-${id}.json`);
  const rowOf = new Map<string, number>();
  let keys: string[] = [];
  const fresh = new Map<string, Uint8Array>();

  if (fs.existsSync(indexPath) && fs.existsSync(binPath)) {
    try {
      const index = JSON.parse(fs.readFileSync(indexPath, "utf8")) as BankIndex;
      if (index.version === 1 && index.decoder === DECODER && index.size === size) {
        keys = index.keys.slice(0, Math.floor(fs.statSync(binPath).size / rowBytes));
        keys.forEach((key, row) => rowOf.set(key, row));
      }
    } catch {
      // unreadable index: start the bank again
    }
  }

  let bytes: Buffer | null = null; // one read buffer: each row is widened to floats before the next read
  const read = (row: number): RgbImage => {
    bytes ??= Buffer.allocUnsafe(rowBytes);
    const fd = fs.openSync(binPath, "r");
    try {
      fs.readSync(fd, bytes, 0, rowBytes, row * rowBytes);
    } finally {
      fs.closeSync(fd);
    }
    const data = new Float32Array(rowBytes);
    data.set(bytes);
    return { width: size, height: size, data };
  };

  return {
    async decode(key, input) {
      const row = rowOf.get(key);
      if (row !== undefined) return read(row);
      const image = await decodeImage(input, { size });
      if (!fresh.has(key) && (keys.length + fresh.size + 1) * rowBytes <= maxBytes) fresh.set(key, Uint8Array.from(image.data));
      return image;
    },
    flush() {
      if (fresh.size === 0) return;
      fs.mkdirSync(dir, { recursive: true });
      // Drop bytes a crashed run appended without indexing, so row i of the file is keys[i].
      if (fs.existsSync(binPath)) fs.truncateSync(binPath, keys.length * rowBytes);
      fs.appendFileSync(binPath, Buffer.concat([...fresh.values()]));
      for (const key of fresh.keys()) {
        rowOf.set(key, keys.length);
        keys.push(key);
      }
      fresh.clear();
      const index: BankIndex = { version: 1, decoder: DECODER, size, keys };
      const tmp = `${indexPath}.${process.pid}.tmp`;
      fs.writeFileSync(tmp, JSON.stringify(index));
      fs.renameSync(tmp, indexPath);
    },
  };
}
