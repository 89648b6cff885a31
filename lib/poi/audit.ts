import { auditImages, type ImageAuditRow } from "../data";
import { recordImage } from "./load";
import type { PoiRecord } from "./record";

/** lib/data's auditImages over every record's main image (row and id from the record). */
export function auditPoiImages(
  dataDir: string,
  records: readonly PoiRecord[],
  options: { concurrency?: number; onProgress?: (done: number, total: number) => void } = {},
): Promise<ImageAuditRow[]> {
  return auditImages(records.map((r) => recordImage(dataDir, r)), options);
}
