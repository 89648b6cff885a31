/**
 * Generic preprocessor parts in scikit-learn style: `fit(trainRows)` returns a plain, JSON-serialisable fitted object;
 * `transform(fitted, rows)` is pure and never refits. Only training rows are ever passed to `fit`.
 */

/** What a transform does with a category value never seen in the training rows. */
export type UnknownPolicy = "error" | "zeros";

/** Bad or unexpected input at fit/transform time; names the CSV row, the field and the value. */
export class FeatureInputError extends Error {
  constructor(
    readonly row: number | undefined,
    readonly field: string,
    readonly value: unknown,
    reason: string,
  ) {
    super(`${row !== undefined ? `row ${row}` : "record"}: ${field}=${JSON.stringify(value)} ${reason}`);
    this.name = "FeatureInputError";
  }
}

/** The record's 1-based CSV row, else its position + 1 (for messages). */
export function rowOf(r: { row?: number }, index: number): number {
  return r.row ?? index + 1;
}

/** A numeric field that must be finite; FeatureInputError names row, field and value otherwise. */
export function finiteField(r: Record<string, unknown>, field: string, index: number): number {
  const v = r[field];
  if (typeof v !== "number" || !Number.isFinite(v)) {
    throw new FeatureInputError(rowOf(r as { row?: number }, index), field, v, "is not a finite number");
  }
  return v;
}

/** A list-valued field; FeatureInputError otherwise. */
export function listField(r: Record<string, unknown>, field: string, index: number): string[] {
  const v = r[field];
  if (!Array.isArray(v)) throw new FeatureInputError(rowOf(r as { row?: number }, index), field, v, "is not a list");
  return v as string[];
}

// ---------------------------------------------------------------- standard scaling

/** Mean and population std (ddof = 0, like StandardScaler); std 0 becomes 1 so constant columns map to 0. */
export interface ScaleStats {
  mean: number;
  std: number;
}

export function fitScale(values: readonly number[]): ScaleStats {
  if (values.length === 0) throw new Error("fitScale: no training values");
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const variance = values.reduce((a, v) => a + (v - mean) * (v - mean), 0) / values.length;
  const std = Math.sqrt(variance);
  return { mean, std: std > 0 ? std : 1 };
}

export function applyScale(stats: ScaleStats, v: number): number {
  return (v - stats.mean) / stats.std;
}
