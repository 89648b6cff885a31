import type { PoiRecord } from "./record";

/** Rows that share a key (an id or an image path). */
export interface DuplicateGroup {
  key: "id" | "mainImagePath";
  value: string;
  rows: number[];
  /** Whether the rows are identical apart from their row number. */
  identical: boolean;
  /** Fields whose values differ between the rows of the group. */
  differingFields: string[];
}

export interface DuplicateReport {
  byId: DuplicateGroup[];
  byImage: DuplicateGroup[];
  /** Number of rows involved in at least one duplicate group. */
  rowsInvolved: number;
}

/**
 * Report rows that share an id or an image. Nothing is dropped: the caller decides, and splits keep
 * such rows together so they cannot leak across train/test.
 */
export function findDuplicates(records: readonly PoiRecord[]): DuplicateReport {
  const group = (key: "id" | "mainImagePath"): DuplicateGroup[] => {
    const byValue = new Map<string, PoiRecord[]>();
    for (const r of records) {
      const list = byValue.get(r[key]) ?? [];
      list.push(r);
      byValue.set(r[key], list);
    }
    return [...byValue.entries()]
      .filter(([, rs]) => rs.length > 1)
      .map(([value, rs]) => {
        const fields = (Object.keys(rs[0]) as (keyof PoiRecord)[]).filter((f) => f !== "row");
        const differingFields = fields.filter((f) => new Set(rs.map((r) => JSON.stringify(r[f]))).size > 1);
        return { key, value, rows: rs.map((r) => r.row), identical: differingFields.length === 0, differingFields };
      })
      .sort((a, b) => b.rows.length - a.rows.length || a.value.localeCompare(b.value));
  };
  const byId = group("id");
  const byImage = group("mainImagePath");
  const involved = new Set<number>();
  for (const g of [...byId, ...byImage]) g.rows.forEach((row) => involved.add(row));
  return { byId, byImage, rowsInvolved: involved.size };
}
