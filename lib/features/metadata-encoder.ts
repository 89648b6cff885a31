/**
 * Train-fitted encoding of any dataset's metadata columns (scikit-learn's ColumnTransformer with StandardScaler and
 * OneHotEncoder): numeric → (x − mean) / std of the training rows; categorical → one-hot over the training rows'
 * vocabulary (sorted), with a policy for values never seen in training. The fitted encoder is plain JSON.
 *
 *   const enc = fitMetadataEncoder(ds.metadata, parts.train.map((i) => ds.items[i]), { unknown: "zeros" });
 *   const X = transformMetadata(enc, parts.test.map((i) => ds.items[i]));   // FeatureMatrix, one group per column
 */
import type { MetadataColumn, MetadataValue } from "../data";
import { applyScale, FeatureInputError, fitScale, type ScaleStats, type UnknownPolicy } from "./encoders";
import { blockFromRows, hstack, type FeatureMatrix } from "./matrix";

export type FittedMetadataColumn =
  | { name: string; kind: "numeric"; scale: ScaleStats }
  | { name: string; kind: "categorical"; vocabulary: string[]; unknown: UnknownPolicy };

export interface FittedMetadataEncoder {
  format: "metadata-encoder";
  version: 1;
  columns: FittedMetadataColumn[];
  /** Output column names, in order ("age", "sex=Female", "sex=Male", …). */
  outputColumns: string[];
  /** Training rows it was fitted on. */
  fittedOn: number;
}

/** What the encoder reads from a row: its metadata values (and its row, for messages). */
export interface MetadataRow {
  row?: number;
  metadata: Readonly<Record<string, MetadataValue>>;
}

function valueOf(r: MetadataRow, index: number, column: MetadataColumn): MetadataValue {
  const v = r.metadata[column.name];
  if (column.kind === "numeric" && (typeof v !== "number" || !Number.isFinite(v))) {
    throw new FeatureInputError(r.row ?? index + 1, column.name, v, "is not a finite number");
  }
  if (column.kind === "categorical" && typeof v !== "string") throw new FeatureInputError(r.row ?? index + 1, column.name, v, "is not a category (string)");
  return v;
}

/** Fit on the training rows only. `unknown` (default "error"): what transform does with a category not seen in training. */
export function fitMetadataEncoder(columns: readonly MetadataColumn[], trainRows: readonly MetadataRow[], options: { unknown?: UnknownPolicy } = {}): FittedMetadataEncoder {
  if (trainRows.length === 0) throw new Error("fitMetadataEncoder: no training rows");
  const fitted: FittedMetadataColumn[] = columns.map((column) => {
    const values = trainRows.map((r, i) => valueOf(r, i, column));
    if (column.kind === "numeric") return { name: column.name, kind: "numeric", scale: fitScale(values as number[]) };
    const vocabulary = [...new Set(values as string[])].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    return { name: column.name, kind: "categorical", vocabulary, unknown: options.unknown ?? "error" };
  });
  return {
    format: "metadata-encoder",
    version: 1,
    columns: fitted,
    outputColumns: fitted.flatMap((c) => (c.kind === "numeric" ? [c.name] : c.vocabulary.map((v) => `${c.name}=${v}`))),
    fittedOn: trainRows.length,
  };
}

/** Pure transform of any rows with a fitted encoder. */
export function transformMetadata(fitted: FittedMetadataEncoder, rows: readonly MetadataRow[]): FeatureMatrix {
  if (fitted.columns.length === 0) return { columns: [], rows: rows.length, data: new Float32Array(0), groups: {} };
  const blocks = fitted.columns.map((c) => {
    if (c.kind === "numeric") {
      return blockFromRows(c.name, [c.name], rows.map((r, i) => [applyScale(c.scale, valueOf(r, i, { name: c.name, kind: "numeric" }) as number)]));
    }
    const index = new Map(c.vocabulary.map((v, j) => [v, j]));
    return blockFromRows(
      c.name,
      c.vocabulary.map((v) => `${c.name}=${v}`),
      rows.map((r, i) => {
        const v = valueOf(r, i, { name: c.name, kind: "categorical" }) as string;
        const out = new Array<number>(c.vocabulary.length).fill(0);
        const j = index.get(v);
        if (j !== undefined) out[j] = 1;
        else if (c.unknown === "error") {
          throw new FeatureInputError(r.row ?? i + 1, c.name, v, `was not seen in the training rows (${c.vocabulary.join(", ")}); use unknown: "zeros" for an all-zero row`);
        }
        return out;
      }),
    );
  });
  return hstack(blocks);
}
