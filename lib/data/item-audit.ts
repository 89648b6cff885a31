import type { Dataset, DatasetItem } from "./dataset";
import { imageQuality, type ImageQuality } from "./imageStats";
import { decodeItemImage } from "./item-images";

/** One dataset item's image as decoded: its size and quality, or why it could not be read. */
export interface ItemAuditRow {
  /** Index into dataset.items. */
  index: number;
  row: number;
  id: string;
  className: string;
  /** The file (for an IDX item: the IDX file and the image's index in it). */
  file: string;
  quality?: ImageQuality;
  error?: string;
}

/**
 * Decode the images of some items (every item by default) at their native size and measure them: size, per-channel
 * mean/std, sharpness. Works for every item kind (image files, IDX images). A corrupt or missing image does not
 * stop the audit: it is listed with its error, naming the file and row.
 */
export async function auditItemImages(
  dataset: Pick<Dataset, "items" | "classes">,
  indices: readonly number[] = [...dataset.items.keys()],
  options: { concurrency?: number; onProgress?: (done: number, total: number) => void } = {},
): Promise<ItemAuditRow[]> {
  const out: ItemAuditRow[] = new Array(indices.length);
  let next = 0;
  let done = 0;
  const describe = (item: DatasetItem) => (item.imageIndex !== undefined ? `${item.image}[${item.imageIndex}]` : item.image ?? "");
  const worker = async () => {
    while (next < indices.length) {
      const k = next++;
      const index = indices[k];
      const item = dataset.items[index];
      const base = { index, row: item.row, id: item.id, className: dataset.classes[item.label], file: describe(item) };
      try {
        out[k] = { ...base, quality: imageQuality(await decodeItemImage(item)) };
      } catch (err) {
        out[k] = { ...base, error: (err as Error).message };
      }
      options.onProgress?.(++done, indices.length);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(options.concurrency ?? 4, indices.length)) }, worker));
  return out;
}
