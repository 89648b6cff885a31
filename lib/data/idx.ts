/**
 * IDX files (the MNIST / Fashion-MNIST format, optionally gzipped), read in place, and the Fashion-MNIST dataset from
 * the Debian package `dataset-fashion-mnist` (/usr/share/datasets/fashion-mnist) or `$FASHION_MNIST_DIR`.
 * Format: magic 0x00 0x00 <type 0x08 = ubyte> <number of dimensions>, then one big-endian uint32 per dimension,
 * then the values row-major.
 */
import * as fs from "fs";
import * as path from "path";
import { gunzipSync } from "zlib";
import { DataError } from "./errors";
import type { Dataset, DatasetItem } from "./dataset";

export interface IdxArray {
  file: string;
  /** e.g. [60000, 28, 28] for images, [60000] for labels. */
  shape: number[];
  data: Uint8Array;
}

const cache = new Map<string, IdxArray>();

/** Read an unsigned-byte IDX file (gzipped when it ends in .gz); cached per file for the process. */
export function readIdx(file: string): IdxArray {
  const cached = cache.get(file);
  if (cached) return cached;
  if (!fs.existsSync(file)) throw new DataError(file, "file does not exist");
  let bytes: Buffer = fs.readFileSync(file);
  if (file.endsWith(".gz")) {
    try {
      bytes = gunzipSync(bytes);
    } catch (err) {
      throw new DataError(file, `not a gzip file (${(err as Error).message})`);
    }
  }
  if (bytes.length < 4 || bytes[0] !== 0 || bytes[1] !== 0) throw new DataError(file, "not an IDX file (bad magic number)");
  if (bytes[2] !== 0x08) throw new DataError(file, `IDX value type 0x${bytes[2].toString(16)} is not unsigned byte (0x08)`);
  const dims = bytes[3];
  if (bytes.length < 4 + 4 * dims) throw new DataError(file, "truncated IDX header");
  const shape = Array.from({ length: dims }, (_, d) => bytes.readUInt32BE(4 + 4 * d));
  const count = shape.reduce((a, b) => a * b, 1);
  const offset = 4 + 4 * dims;
  if (bytes.length !== offset + count) {
    throw new DataError(file, `IDX shape ${shape.join("×")} needs ${offset + count} bytes, the file has ${bytes.length}`);
  }
  const out = { file, shape, data: new Uint8Array(bytes.buffer, bytes.byteOffset + offset, count) };
  cache.set(file, out);
  return out;
}

/** One image of an IDX image file ([n, h, w] or [n, h, w, c]) as 8-bit pixels. */
export function idxImage(file: string, index: number): { width: number; height: number; channels: number; data: Uint8Array } {
  const idx = readIdx(file);
  if (idx.shape.length !== 3 && idx.shape.length !== 4) throw new DataError(file, `IDX shape ${idx.shape.join("×")} is not a stack of images`);
  const [n, height, width, channels = 1] = idx.shape;
  if (!(Number.isInteger(index) && index >= 0 && index < n)) throw new DataError(file, `image index ${index} out of range 0..${n - 1}`);
  const size = height * width * channels;
  return { width, height, channels, data: idx.data.subarray(index * size, (index + 1) * size) };
}

export const FASHION_MNIST_DIR_SETTING = "FASHION_MNIST_DIR";
/** Where Debian's `dataset-fashion-mnist` installs the four IDX files. */
export const DEBIAN_FASHION_MNIST_DIR = "/usr/share/datasets/fashion-mnist";

/** Zalando's class names, label 0–9. */
export const FASHION_MNIST_CLASSES: readonly string[] = Object.freeze([
  "T-shirt/top",
  "Trouser",
  "Pullover",
  "Dress",
  "Coat",
  "Sandal",
  "Shirt",
  "Sneaker",
  "Bag",
  "Ankle boot",
]);

const FASHION_FILES = {
  trainImages: "train-images-idx3-ubyte",
  trainLabels: "train-labels-idx1-ubyte",
  testImages: "t10k-images-idx3-ubyte",
  testLabels: "t10k-labels-idx1-ubyte",
} as const;

function findIdx(dir: string, base: string): string | undefined {
  return [path.join(dir, `${base}.gz`), path.join(dir, base)].find((f) => fs.existsSync(f));
}

/** The folder holding Fashion-MNIST's IDX files: `$FASHION_MNIST_DIR`, else Debian's package folder. */
export function resolveFashionMnistDir(env: NodeJS.ProcessEnv = process.env): string {
  const candidates = env[FASHION_MNIST_DIR_SETTING] ? [path.resolve(env[FASHION_MNIST_DIR_SETTING]!)] : [DEBIAN_FASHION_MNIST_DIR];
  for (const dir of candidates) if (findIdx(dir, FASHION_FILES.trainImages)) return dir;
  throw new Error(
    `Fashion-MNIST not found in ${candidates.join(", ")}: install the Debian package (sudo apt-get install dataset-fashion-mnist, ` +
      `which scripts/install.sh does) or set ${FASHION_MNIST_DIR_SETTING} to a folder with the four IDX files`,
  );
}

export function hasFashionMnist(env: NodeJS.ProcessEnv = process.env): boolean {
  try {
    resolveFashionMnistDir(env);
    return true;
  } catch {
    return false;
  }
}

/** True when `dir` holds an MNIST-style set of four IDX files (train/t10k images and labels). */
export function isIdxFolder(dir: string): boolean {
  return Object.values(FASHION_FILES).every((base) => findIdx(dir, base) !== undefined);
}

/**
 * Fashion-MNIST (or any MNIST-layout folder: train-/t10k- images and labels) as a Dataset: 60 000 train + 10 000 test
 * items with the official split, images read in place from the IDX files (28×28 grey, RGB at decode).
 */
export function fashionMnist(dir: string = resolveFashionMnistDir()): Dataset {
  const files = Object.fromEntries(
    Object.entries(FASHION_FILES).map(([key, base]) => {
      const file = findIdx(dir, base);
      if (!file) throw new DataError(path.join(dir, base), "file does not exist (nor its .gz)");
      return [key, file];
    }),
  ) as Record<keyof typeof FASHION_FILES, string>;
  const classes = FASHION_MNIST_CLASSES.slice();
  const items: DatasetItem[] = [];
  for (const part of ["train", "test"] as const) {
    const images = readIdx(part === "train" ? files.trainImages : files.testImages);
    const labels = readIdx(part === "train" ? files.trainLabels : files.testLabels);
    if (labels.shape.length !== 1 || labels.shape[0] !== images.shape[0]) {
      throw new DataError(labels.file, `${labels.shape[0]} labels for ${images.shape[0]} images in ${images.file}`);
    }
    for (let i = 0; i < labels.shape[0]; i++) {
      const label = labels.data[i];
      if (label >= classes.length) throw new DataError(labels.file, `label ${label} is not a class index in [0, ${classes.length})`, i + 1);
      items.push({ row: i + 1, id: `${part}/${i}`, image: images.file, imageIndex: i, label, metadata: {}, split: part });
    }
  }
  const [, height, width, channels = 1] = readIdx(files.trainImages).shape;
  return {
    name: "fashion-mnist",
    source: dir,
    classes,
    items,
    metadata: [],
    skipped: [],
    droppedByClassFilter: 0,
    imageShape: { width, height, channels: channels === 1 ? 1 : 3 },
  };
}
