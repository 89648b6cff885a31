import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { outputsDir } from "../data/paths";
import { decodeImage, imageFile, ImageLoadError, imageRef, type ImageInput, type RgbImage } from "../data/images";
import { ImageArena } from "../images/arena";
import { decodedImageBank } from "../images/decoded-bank";
import { createProgress, createRng, type Rng } from "../util";
import type { Backbone } from "./backbones";
import { frozenForward } from "./inference";

/**
 * Frozen-backbone embeddings of image files, cached on disk.
 *
 * Every embedding row is stored under a key made of: backbone name + weights hash + input size (the "bank",
 * plus the augmentation spec and seed for augmented variants) and the image's content hash (+ variant index).
 * A re-run with unchanged inputs reads everything from disk; a new augmentation, seed or variant count
 * computes only the rows it lacks. Banks live in outputs/cache/embeddings/ as <id>.f32 (rows) + <id>.json (keys).
 * An augmented call also keeps the photos it decodes in decoded-images/ there (lib/images/decoded-bank.ts).
 */

/** What lib/engine needs from an augmentation (lib/images' ImageAugmentation satisfies it). */
export interface ImageAugmentation {
  /** Stable string of the spec: equal keys ⇒ identical behaviour. Part of the cache key. */
  readonly key: string;
  /** Pure: never mutates `image`, draws only from `rng`. */
  apply(image: RgbImage, rng: Rng): RgbImage;
}

/** Row-major matrix of embeddings: `rows` images × `dim` values. */
export interface EmbeddingMatrix {
  rows: number;
  dim: number;
  data: Float32Array;
  /** A view (no copy) of row i. */
  row(i: number): Float32Array;
}

export function embeddingMatrix(rows: number, dim: number, data = new Float32Array(rows * dim)): EmbeddingMatrix {
  if (data.length !== rows * dim) throw new Error(`embeddingMatrix: ${data.length} values is not ${rows}×${dim}`);
  return { rows, dim, data, row: (i) => data.subarray(i * dim, (i + 1) * dim) };
}

export interface EmbedOptions {
  backbone: Backbone;
  /** Image paths, or paths with their dataset row (lib/poi's recordImage) so that errors name the row. */
  files: readonly ImageInput[];
  /** Decoded square side; default the backbone's input size. */
  size?: number;
  /** Augmentation for the variants (required when variants > 0). */
  augmentation?: ImageAugmentation;
  /** Augmented variants per image (K); default 0. Variant k of an image is seeded by (seed, content hash, k). */
  variants?: number;
  /** Augmentation seed; default 0. */
  seed?: number;
  /** Images per forward pass; default 32. */
  batchSize?: number;
  /** Cache folder; default outputs/cache/embeddings. `null` disables the cache. */
  cacheDir?: string | null;
  /** Called after each batch (and once at the end) with rows done / rows to compute. */
  onProgress?: (done: number, total: number) => void;
  /** Print progress lines (default true). */
  log?: boolean;
}

export interface EmbedResult {
  /** One row per file (no augmentation). */
  embeddings: EmbeddingMatrix;
  /** variants[k] has one row per file: augmented variant k. */
  variants: EmbeddingMatrix[];
  /** Rows run through the network now (once per distinct image content) / read from the cache. */
  computed: number;
  cached: number;
  seconds: number;
}

/** sha256 of a file's bytes (hex, first 32 characters): identifies the image whatever its name. */
export function fileContentHash(input: ImageInput): string {
  const { file, ...origin } = imageRef(input);
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ImageLoadError(file, code === "ENOENT" ? "file does not exist" : `cannot read (${code ?? (err as Error).message})`, origin);
  }
  return createHash("sha256").update(bytes).digest("hex").slice(0, 32);
}

interface BankSpec {
  backbone: string;
  weightsHash: string;
  size: number;
  augmentation: string | null;
  seed: number | null;
}

interface BankIndex extends BankSpec {
  version: 1;
  dim: number;
  keys: string[];
}

/** One cache file pair: rows appended in key order. Not safe for two processes writing the same bank at once. */
class EmbeddingBank {
  private readonly rows = new Map<string, Float32Array>();
  private keys: string[] = [];
  private readonly binPath: string | null;
  private readonly indexPath: string | null;

  constructor(
    private readonly spec: BankSpec,
    private readonly dim: number,
    dir: string | null,
  ) {
    const id = createHash("sha256").update(JSON.stringify(spec)).digest("hex").slice(0, 24);
    this.binPath = dir ? path.join(dir, `${spec.backbone}-${id}.f32`) : null;
    this.indexPath = dir ? path.join(dir, `${spec.backbone}-${id}.json`) : null;
    this.load();
  }

  private load(): void {
    if (!this.binPath || !this.indexPath || !fs.existsSync(this.indexPath) || !fs.existsSync(this.binPath)) return;
    let index: BankIndex;
    try {
      index = JSON.parse(fs.readFileSync(this.indexPath, "utf8")) as BankIndex;
    } catch {
      return; // unreadable index: start the bank again
    }
    if (index.version !== 1 || index.dim !== this.dim || JSON.stringify(pickSpec(index)) !== JSON.stringify(this.spec)) return;
    const bytes = fs.readFileSync(this.binPath);
    const complete = Math.min(index.keys.length, Math.floor(bytes.byteLength / (4 * this.dim)));
    const all = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + complete * 4 * this.dim));
    this.keys = index.keys.slice(0, complete);
    this.keys.forEach((key, i) => this.rows.set(key, all.subarray(i * this.dim, (i + 1) * this.dim)));
  }

  get(key: string): Float32Array | undefined {
    return this.rows.get(key);
  }

  /** Store rows; on disk the data is appended first, then the index is replaced atomically. */
  add(entries: Array<[string, Float32Array]>): void {
    const fresh = entries.filter(([key]) => !this.rows.has(key));
    for (const [key, row] of fresh) this.rows.set(key, row);
    if (!this.binPath || !this.indexPath || fresh.length === 0) return;
    fs.mkdirSync(path.dirname(this.binPath), { recursive: true });
    // Drop rows a crashed run appended without indexing, so row i of the file is keys[i].
    if (fs.existsSync(this.binPath)) fs.truncateSync(this.binPath, this.keys.length * 4 * this.dim);
    const block = new Float32Array(fresh.length * this.dim);
    fresh.forEach(([, row], i) => block.set(row, i * this.dim));
    fs.appendFileSync(this.binPath, Buffer.from(block.buffer, block.byteOffset, block.byteLength));
    this.keys.push(...fresh.map(([key]) => key));
    const index: BankIndex = { version: 1, ...this.spec, dim: this.dim, keys: this.keys };
    const tmp = `${this.indexPath}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(index));
    fs.renameSync(tmp, this.indexPath);
  }
}

function pickSpec(index: BankIndex): BankSpec {
  return {
    backbone: index.backbone,
    weightsHash: index.weightsHash,
    size: index.size,
    augmentation: index.augmentation,
    seed: index.seed,
  };
}

interface Job {
  fileIndex: number;
  /** -1: the image itself; k ≥ 0: augmented variant k. */
  variant: number;
  key: string;
  bank: EmbeddingBank;
}

/** A batch takes well under a second; after this long, say what it waits for (a hang then names its stage). */
const STALL_SECONDS = 120;

async function reportStall<T>(work: Promise<T>, what: () => string): Promise<T> {
  const timer = setTimeout(() => console.warn(`embedImages: still waiting after ${STALL_SECONDS} s for ${what()}`), STALL_SECONDS * 1000);
  try {
    return await work;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Embed every file (and K augmented variants of each) with a frozen backbone; cached under outputs/cache/.
 * Images are decoded (sharp, bicubic) to size×size RGB, augmented if asked, and run through the backbone: on ONNX
 * Runtime when the engine chose it and the backbone is frozen, else `backbone.embed` (lib/engine/inference.ts).
 */
export async function embedImages(options: EmbedOptions): Promise<EmbedResult> {
  const started = Date.now();
  const { backbone, files } = options;
  const size = options.size ?? backbone.inputSize;
  const variants = options.variants ?? 0;
  const seed = options.seed ?? 0;
  const batchSize = options.batchSize ?? 32;
  if (!Number.isInteger(variants) || variants < 0) throw new Error(`embedImages: variants must be a whole number ≥ 0, got ${variants}`);
  if (variants > 0 && !options.augmentation) throw new Error("embedImages: variants > 0 needs an augmentation");
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`embedImages: batchSize must be ≥ 1, got ${batchSize}`);
  const cacheDir = options.cacheDir === undefined ? outputsDir("cache", "embeddings") : options.cacheDir;
  const dim = backbone.embeddingSize;
  const base = { backbone: backbone.name, weightsHash: backbone.weightsHash, size };
  const plainBank = new EmbeddingBank({ ...base, augmentation: null, seed: null }, dim, cacheDir);
  const augmentedBank =
    variants > 0 ? new EmbeddingBank({ ...base, augmentation: options.augmentation!.key, seed }, dim, cacheDir) : null;

  const hashes = files.map((file) => fileContentHash(file));
  const embeddings = embeddingMatrix(files.length, dim);
  const variantMatrices = Array.from({ length: variants }, () => embeddingMatrix(files.length, dim));
  const place = (job: Job, row: Float32Array): void => {
    const target = job.variant < 0 ? embeddings : variantMatrices[job.variant];
    target.data.set(row, job.fileIndex * dim);
  };

  const todo: Job[] = [];
  // Files with the same content (the POI table lists some photos under several rows) share their rows: each key is
  // computed once and copied to the other places.
  const copies = new Map<string, Job[]>();
  let cached = 0;
  files.forEach((_, fileIndex) => {
    const jobs: Job[] = [{ fileIndex, variant: -1, key: hashes[fileIndex], bank: plainBank }];
    for (let k = 0; k < variants; k++) jobs.push({ fileIndex, variant: k, key: `${hashes[fileIndex]}:${k}`, bank: augmentedBank! });
    for (const job of jobs) {
      const row = job.bank.get(job.key);
      if (row) {
        place(job, row);
        cached++;
      } else if (copies.has(job.key)) copies.get(job.key)!.push(job);
      else {
        todo.push(job);
        copies.set(job.key, []);
      }
    }
  });

  // Augmented rows start from decoded pixels kept on disk: the next preset over the same photos skips decoding.
  const sources = variants > 0 ? decodedImageBank(cacheDir === null ? null : path.join(cacheDir, "decoded-images"), size) : null;
  const forward = todo.length > 0 ? await frozenForward(backbone, size) : null;
  const show = options.log !== false && todo.length > 0;
  const progress = show ? createProgress(`embedding (${backbone.name}, ${size}px, ${forward!.runtime})`, todo.length, { unit: "images" }) : null;
  // Batch buffers go back and forth to the forward pass instead of being allocated per batch (19 MB at 224 px).
  const spare: Float32Array[] = [];
  const arena = new ImageArena();
  const giveBack = (buffer: Float32Array): void => {
    if (buffer.length === batchSize * size * size * 3 && spare.length < 3) spare.push(buffer);
  };
  const prepare = async (batch: Job[]): Promise<Float32Array> => {
    const length = batch.length * size * size * 3;
    const pixels = (length === batchSize * size * size * 3 ? spare.pop() : undefined) ?? new Float32Array(length);
    // An image and its variants are neighbours in `todo`: decode each file once per batch.
    const decoded = new Map<number, Promise<RgbImage>>();
    for (const job of batch) {
      const file = files[job.fileIndex];
      if (!decoded.has(job.fileIndex)) decoded.set(job.fileIndex, sources ? sources.decode(hashes[job.fileIndex], file) : decodeImage(file, { size }));
    }
    const images = await Promise.all(batch.map((job) => decoded.get(job.fileIndex)!));
    sources?.flush();
    // The augmented images are copied into `pixels` at once: their memory comes from the arena, reused each batch.
    arena.run(() =>
      images.forEach((image, i) => {
        const job = batch[i];
        let out = image;
        if (job.variant >= 0) out = options.augmentation!.apply(image, createRng(seed).fork(`${hashes[job.fileIndex]}:${job.variant}`));
        if (out.width !== size || out.height !== size) {
          throw new Error(`embedImages: augmentation changed ${imageFile(files[job.fileIndex])} to ${out.width}×${out.height}, expected ${size}×${size}`);
        }
        pixels.set(out.data, i * size * size * 3);
      }),
    );
    return pixels;
  };

  const batches: Job[][] = [];
  for (let i = 0; i < todo.length; i += batchSize) batches.push(todo.slice(i, i + batchSize));
  let done = 0;
  // Decoding batch i+1 (sharp, on libuv threads) overlaps the forward pass of batch i.
  let next = batches.length > 0 ? prepare(batches[0]) : null;
  for (let b = 0; b < batches.length; b++) {
    const batch = batches[b];
    const pixels = await reportStall(next!, () => `decoding and augmenting batch ${b + 1} of ${batches.length} (from ${imageFile(files[batch[0].fileIndex])})`);
    next = b + 1 < batches.length ? prepare(batches[b + 1]) : null;
    const values = await reportStall(forward!.run(pixels, batch.length, { handOver: true, giveBack }), () => `the forward pass of batch ${b + 1} of ${batches.length} (${forward!.runtime})`);
    const rows = batch.map((_, i) => values.slice(i * dim, (i + 1) * dim));
    batch.forEach((job, i) => {
      place(job, rows[i]);
      for (const copy of copies.get(job.key)!) place(copy, rows[i]);
    });
    plainBank.add(batch.flatMap((job, i) => (job.variant < 0 ? [[job.key, rows[i]] as [string, Float32Array]] : [])));
    augmentedBank?.add(batch.flatMap((job, i) => (job.variant >= 0 ? [[job.key, rows[i]] as [string, Float32Array]] : [])));
    done += batch.length;
    progress?.tick(batch.length);
    options.onProgress?.(done, todo.length);
  }
  progress?.done(`${cached} more from the cache`);
  if (options.log !== false && todo.length === 0 && files.length > 0) {
    console.log(`embedding (${backbone.name}, ${size}px): all ${cached} rows from the cache`);
  }
  if (todo.length === 0) options.onProgress?.(0, 0);
  return { embeddings, variants: variantMatrices, computed: todo.length, cached, seconds: (Date.now() - started) / 1000 };
}
