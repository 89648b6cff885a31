import { decodeImage, ImageLoadError, type ImageRef, type RgbImage } from "./images";

/** Quality statistics of one photo, on its native pixels in [0, 255]. */
export interface ImageQuality {
  width: number;
  height: number;
  mean: [number, number, number];
  /** Per-channel standard deviation: near 0 means a flat, nearly blank photo. */
  std: [number, number, number];
  /** Variance of the 4-neighbour Laplacian of the grey image: low means blurry. */
  laplacianVariance: number;
}

/** Mean and per-channel std, plus sharpness as the variance of the Laplacian (grey = ITU-R 601 luma). */
export function imageQuality(image: RgbImage): ImageQuality {
  const { width, height, data } = image;
  const n = width * height;
  const sum = [0, 0, 0];
  const sumSq = [0, 0, 0];
  const grey = new Float64Array(n);
  for (let p = 0; p < n; p++) {
    const r = data[3 * p];
    const g = data[3 * p + 1];
    const b = data[3 * p + 2];
    sum[0] += r;
    sum[1] += g;
    sum[2] += b;
    sumSq[0] += r * r;
    sumSq[1] += g * g;
    sumSq[2] += b * b;
    grey[p] = 0.299 * r + 0.587 * g + 0.114 * b;
  }
  const mean = sum.map((s) => s / n) as [number, number, number];
  const std = sumSq.map((s, c) => Math.sqrt(Math.max(0, s / n - mean[c] * mean[c]))) as [number, number, number];
  let lapSum = 0;
  let lapSumSq = 0;
  let count = 0;
  for (let y = 1; y < height - 1; y++) {
    for (let x = 1; x < width - 1; x++) {
      const p = y * width + x;
      const lap = grey[p - 1] + grey[p + 1] + grey[p - width] + grey[p + width] - 4 * grey[p];
      lapSum += lap;
      lapSumSq += lap * lap;
      count++;
    }
  }
  const lapMean = count > 0 ? lapSum / count : 0;
  const laplacianVariance = count > 0 ? lapSumSq / count - lapMean * lapMean : 0;
  return { width, height, mean, std, laplacianVariance };
}

/** A photo is "near blank" when every channel is almost flat. */
export const NEAR_BLANK_STD = 10;
export function isNearBlank(quality: ImageQuality, threshold = NEAR_BLANK_STD): boolean {
  return Math.max(...quality.std) < threshold;
}

export interface ImageAuditRow {
  /** The item's row (1-based CSV data row, or its position + 1). */
  row: number;
  id: string;
  file: string;
  quality?: ImageQuality;
  error?: string;
}

/** One image to audit: its file and, for messages and tables, its table, row and id. */
export type ImageAuditItem = ImageRef;

/**
 * Decode every item's image and compute its quality. A missing or corrupt image does not stop the audit:
 * it is listed with its error (and counted) so the notebook can show it; loaders that need pixels throw instead.
 * Items sharing a file are decoded once.
 */
export async function auditImages(
  items: readonly ImageAuditItem[],
  options: { concurrency?: number; onProgress?: (done: number, total: number) => void } = {},
): Promise<ImageAuditRow[]> {
  const results: ImageAuditRow[] = new Array(items.length);
  const byFile = new Map<string, Promise<{ quality?: ImageQuality; error?: string }>>();
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      const item = items[index];
      const row = item.row ?? index + 1;
      let pending = byFile.get(item.file);
      if (!pending) {
        pending = decodeImage({ ...item, row }).then(
          (image) => ({ quality: imageQuality(image) }),
          (err: unknown) => ({ error: err instanceof ImageLoadError ? err.message : String(err) }),
        );
        byFile.set(item.file, pending);
      }
      results[index] = { row, id: item.id ?? String(row), file: item.file, ...(await pending) };
      done++;
      options.onProgress?.(done, items.length);
    }
  };
  await Promise.all(Array.from({ length: options.concurrency ?? 4 }, worker));
  return results;
}
