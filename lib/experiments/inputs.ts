/**
 * Everything an experiment reads, computed once per process (and cached on disk): the records, the image
 * statistics of every row's photo and, when asked, the frozen-backbone embedding of every photo.
 * Nothing here is fitted: scalers, encoders and class thresholds are fitted per fold in protocol.ts.
 */
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { decodeImage, ImageLoadError, imageRef, outputsDir, type ImageInput } from "../data";
import { loadPoiDataset, recordImage, type PoiRecord } from "../poi";
import type { RowMatrix } from "../features";
import { imageStatistics, IMAGE_STATISTICS_NAMES } from "../images";
import { embedImages, loadMobileNetV2, initEngine, type Backbone } from "../engine";

export interface ExperimentData {
  dataDir: string;
  records: PoiRecord[];
  /** Image statistics per record (lib/images' IMAGE_STATISTICS_NAMES). */
  stats: RowMatrix;
  /** Backbone embedding per record, when loaded. */
  embedding?: RowMatrix & { backbone: string };
}

export interface LoadExperimentOptions {
  dataDir?: string;
  /** Also load the frozen MobileNetV2 embeddings (computed once, then read from lib/engine's cache). */
  embeddings?: boolean;
  /** A backbone to use instead of the default MobileNetV2. */
  backbone?: Backbone;
  /** Cache folder for the statistics (default outputs/cache/image-statistics; null: no cache). */
  cacheDir?: string | null;
  log?: boolean;
}

const STATS_VERSION = "v1";

function statsCacheFile(dir: string): string {
  const key = createHash("sha256").update(STATS_VERSION + IMAGE_STATISTICS_NAMES.join(",")).digest("hex").slice(0, 16);
  return path.join(dir, `image-statistics-${key}.json`);
}

/**
 * Image statistics of each file (decoded at its own size), cached by the file's content hash. Pass files with their
 * rows (lib/poi's recordImage) so that a missing or broken photo is reported with its dataset row.
 */
export async function imageStatisticsOf(files: readonly ImageInput[], options: { cacheDir?: string | null } = {}): Promise<RowMatrix> {
  const cacheDir = options.cacheDir === undefined ? outputsDir("cache", "image-statistics") : options.cacheDir;
  const cacheFile = cacheDir ? statsCacheFile(cacheDir) : null;
  let cache: Record<string, number[]> = {};
  if (cacheFile && fs.existsSync(cacheFile)) {
    try {
      cache = JSON.parse(fs.readFileSync(cacheFile, "utf8")) as Record<string, number[]>;
    } catch {
      cache = {};
    }
  }
  const width = IMAGE_STATISTICS_NAMES.length;
  const data = new Float32Array(files.length * width);
  let computed = 0;
  for (let i = 0; i < files.length; i++) {
    const { file, ...origin } = imageRef(files[i]);
    if (!fs.existsSync(file)) throw new ImageLoadError(file, "file does not exist", origin);
    const bytes = fs.readFileSync(file);
    const hash = createHash("sha256").update(bytes).digest("hex").slice(0, 32);
    let values = cache[hash];
    if (!values || values.length !== width) {
      const image = await decodeImage(files[i]);
      values = Array.from(imageStatistics(image, { fileBytes: bytes }).values);
      cache[hash] = values;
      computed++;
    }
    data.set(values, i * width);
  }
  if (cacheFile && computed > 0) {
    fs.mkdirSync(path.dirname(cacheFile), { recursive: true });
    const tmp = `${cacheFile}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(cache));
    fs.renameSync(tmp, cacheFile);
  }
  return { columns: IMAGE_STATISTICS_NAMES, rows: files.length, data };
}

/** Load the records and the per-photo inputs of every experiment. */
export async function loadExperimentData(options: LoadExperimentOptions = {}): Promise<ExperimentData> {
  const { records, dataDir } = loadPoiDataset({ dataDir: options.dataDir });
  const files = records.map((r) => recordImage(dataDir, r));
  const stats = await imageStatisticsOf(files, { cacheDir: options.cacheDir });
  const out: ExperimentData = { dataDir, records, stats };
  if (options.embeddings) {
    await initEngine();
    const backbone = options.backbone ?? (await loadMobileNetV2());
    const { embeddings } = await embedImages({ backbone, files, log: options.log ?? false });
    out.embedding = {
      backbone: backbone.name,
      columns: Array.from({ length: embeddings.dim }, (_, j) => `emb_${j}`),
      rows: embeddings.rows,
      data: embeddings.data,
    };
  }
  return out;
}
