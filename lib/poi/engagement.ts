/**
 * The three engagement metrics of the seed report, computed from the target-defining counts
 * (Visits, Likes, Dislikes, Bookmarks). These counts define the label and never become model inputs.
 */

/** The four counts a metric reads; a PoiRecord satisfies it. `row` only serves error messages. */
export interface EngagementCounts {
  row?: number;
  id?: string;
  Visits: number;
  Likes: number;
  Dislikes: number;
  Bookmarks: number;
}

export type MetricName = "M1" | "M2" | "M3";

/** Weights of M3 = Wv·Visits + Wl·Likes + Wb·Bookmarks − Wd·Dislikes (dislikes count against engagement). */
export interface M3Weights {
  visits: number;
  likes: number;
  bookmarks: number;
  dislikes: number;
}

/** The report's M3 weights: Wv 0.0001, Wl 0.005, Wb 0.01, Wd 0.01. */
export const REPORT_M3_WEIGHTS: Readonly<M3Weights> = Object.freeze({
  visits: 0.0001,
  likes: 0.005,
  bookmarks: 0.01,
  dislikes: 0.01,
});

/** ε of M2, guarding the divisions. */
export const M2_EPSILON = 1e-8;

/** A metric choice as plain JSON (stored inside fitted targets and run params). */
export type MetricSpec =
  | { name: "M1" }
  | { name: "M2"; epsilon?: number }
  | { name: "M3"; weights?: M3Weights };

/** Raised for counts that make a metric meaningless; names the row and the field. */
export class EngagementInputError extends Error {
  constructor(
    readonly row: number | undefined,
    readonly field: string,
    readonly value: unknown,
    reason: string,
  ) {
    super(`${row !== undefined ? `row ${row}` : "record"}: ${field}=${String(value)} ${reason}`);
    this.name = "EngagementInputError";
  }
}

const COUNT_FIELDS = ["Visits", "Likes", "Dislikes", "Bookmarks"] as const;

/**
 * Policy for bad counts (one policy for all metrics, so switching metric never changes which rows survive):
 * missing / non-finite / negative counts and Visits = 0 are errors naming the row; nothing is silently dropped or imputed.
 */
export function validateCounts(record: EngagementCounts, index?: number): void {
  const row = record.row ?? (index !== undefined ? index + 1 : undefined);
  for (const field of COUNT_FIELDS) {
    const value = (record as unknown as Record<string, unknown>)[field];
    if (value === undefined || value === null) throw new EngagementInputError(row, field, value, "is missing");
    if (typeof value !== "number" || !Number.isFinite(value)) {
      throw new EngagementInputError(row, field, value, "is not a finite number");
    }
    if (value < 0) throw new EngagementInputError(row, field, value, "is negative");
  }
  if (record.Visits === 0) {
    throw new EngagementInputError(row, "Visits", 0, "is zero: engagement per visit is undefined");
  }
}

/** M1 = (Likes + Dislikes + Bookmarks) / Visits × 100: interactions per 100 visits. */
export function metricM1(r: EngagementCounts): number {
  validateCounts(r);
  return ((r.Likes + r.Dislikes + r.Bookmarks) / r.Visits) * 100;
}

/** M2 = Likes/(Visits+ε) + Bookmarks/(Visits+ε) − Dislikes/(Likes+Bookmarks+ε). */
export function metricM2(r: EngagementCounts, epsilon = M2_EPSILON): number {
  validateCounts(r);
  return r.Likes / (r.Visits + epsilon) + r.Bookmarks / (r.Visits + epsilon) - r.Dislikes / (r.Likes + r.Bookmarks + epsilon);
}

/** M3 = Wv·Visits + Wl·Likes + Wb·Bookmarks − Wd·Dislikes. */
export function metricM3(r: EngagementCounts, weights: M3Weights = REPORT_M3_WEIGHTS): number {
  validateCounts(r);
  return (
    weights.visits * r.Visits + weights.likes * r.Likes + weights.bookmarks * r.Bookmarks - weights.dislikes * r.Dislikes
  );
}

function toSpec(metric: MetricName | MetricSpec): MetricSpec {
  return typeof metric === "string" ? { name: metric } : metric;
}

/** One metric value per record, in order. Throws EngagementInputError naming the first bad row. */
export function engagementScores(records: readonly EngagementCounts[], metric: MetricName | MetricSpec = "M2"): number[] {
  const spec = toSpec(metric);
  return records.map((r, i) => {
    validateCounts(r, i);
    switch (spec.name) {
      case "M1":
        return metricM1(r);
      case "M2":
        return metricM2(r, spec.epsilon ?? M2_EPSILON);
      case "M3":
        return metricM3(r, spec.weights ?? REPORT_M3_WEIGHTS);
      default:
        throw new Error(`engagementScores: unknown metric ${JSON.stringify(spec)}`);
    }
  });
}

/** All three metrics per record, e.g. for side-by-side tables. */
export function allMetrics(records: readonly EngagementCounts[]): { M1: number[]; M2: number[]; M3: number[] } {
  return { M1: engagementScores(records, "M1"), M2: engagementScores(records, "M2"), M3: engagementScores(records, "M3") };
}
