/** A named, row-major feature table: the output of every preprocessor and of the feature pipeline. */

/** The groups permutation importance works on: every output column belongs to exactly one. */
export type FeatureGroup = "tags" | "categories" | "tier" | "xps" | "location" | "coordinates" | (string & {});

/** Row-major numbers with named columns (a FeatureMatrix without groups): statistics, embeddings, PCA output. */
export interface RowMatrix {
  columns: readonly string[];
  rows: number;
  data: Float32Array;
}

export interface FeatureMatrix {
  /** One name per column, unique. */
  columns: string[];
  rows: number;
  /** rows × columns.length values, row-major. */
  data: Float32Array;
  /** Column names per group, in column order (e.g. { tier: ["tier_1", …], … }). */
  groups: Record<string, string[]>;
}

export function emptyMatrix(rows: number): FeatureMatrix {
  return { columns: [], rows, data: new Float32Array(0), groups: {} };
}

/** Build a one-group matrix from per-row value arrays. */
export function blockFromRows(group: FeatureGroup, columns: string[], values: readonly (readonly number[])[]): FeatureMatrix {
  const width = columns.length;
  const data = new Float32Array(values.length * width);
  values.forEach((row, r) => {
    if (row.length !== width) throw new Error(`blockFromRows(${group}): row ${r} has ${row.length} values, expected ${width}`);
    data.set(row, r * width);
  });
  return { columns: columns.slice(), rows: values.length, data, groups: { [group]: columns.slice() } };
}

/** Concatenate matrices side by side (same rows); column names must stay unique. */
export function hstack(blocks: readonly FeatureMatrix[]): FeatureMatrix {
  if (blocks.length === 0) throw new Error("hstack: nothing to stack");
  const rows = blocks[0].rows;
  const columns: string[] = [];
  const groups: Record<string, string[]> = {};
  for (const b of blocks) {
    if (b.rows !== rows) throw new Error(`hstack: blocks have ${rows} and ${b.rows} rows`);
    for (const c of b.columns) {
      if (columns.includes(c)) throw new Error(`hstack: duplicate column name "${c}"`);
      columns.push(c);
    }
    for (const [g, cols] of Object.entries(b.groups)) groups[g] = (groups[g] ?? []).concat(cols);
  }
  const width = columns.length;
  const data = new Float32Array(rows * width);
  let offset = 0;
  for (const b of blocks) {
    const w = b.columns.length;
    for (let r = 0; r < rows; r++) {
      data.set(b.data.subarray(r * w, (r + 1) * w), r * width + offset);
    }
    offset += w;
  }
  return { columns, rows, data, groups };
}

/** Index of a named column; throws listing the available names. */
export function columnIndex(m: FeatureMatrix, name: string): number {
  const i = m.columns.indexOf(name);
  if (i < 0) throw new Error(`no column "${name}"; columns: ${m.columns.join(", ")}`);
  return i;
}

/** The values of one named column. */
export function column(m: FeatureMatrix, name: string): Float32Array {
  const j = columnIndex(m, name);
  const width = m.columns.length;
  const out = new Float32Array(m.rows);
  for (let r = 0; r < m.rows; r++) out[r] = m.data[r * width + j];
  return out;
}

/** Column indices of a group (for permutation importance per feature group). */
export function groupIndices(m: FeatureMatrix, group: FeatureGroup): number[] {
  const cols = m.groups[group];
  if (!cols) throw new Error(`no feature group "${group}"; groups: ${Object.keys(m.groups).join(", ")}`);
  return cols.map((c) => columnIndex(m, c));
}

/** Rows as plain arrays (e.g. for tables or tf.tensor2d). */
export function toRowArrays(m: FeatureMatrix): number[][] {
  const width = m.columns.length;
  return Array.from({ length: m.rows }, (_, r) => Array.from(m.data.subarray(r * width, (r + 1) * width)));
}

/** A new matrix with the given rows, in the given order. */
export function selectRows(m: FeatureMatrix, indices: readonly number[]): FeatureMatrix {
  const width = m.columns.length;
  const data = new Float32Array(indices.length * width);
  indices.forEach((src, r) => {
    if (src < 0 || src >= m.rows) throw new Error(`selectRows: row ${src} out of range 0..${m.rows - 1}`);
    data.set(m.data.subarray(src * width, (src + 1) * width), r * width);
  });
  return { columns: m.columns.slice(), rows: indices.length, data, groups: structuredClone(m.groups) };
}

/** min / max / mean / std (population) per column, e.g. to show scaled ranges per split. */
export function columnSummary(m: FeatureMatrix): { column: string; min: number; max: number; mean: number; std: number }[] {
  const width = m.columns.length;
  return m.columns.map((name, j) => {
    let min = Infinity;
    let max = -Infinity;
    let sum = 0;
    let sumSq = 0;
    for (let r = 0; r < m.rows; r++) {
      const v = m.data[r * width + j];
      if (v < min) min = v;
      if (v > max) max = v;
      sum += v;
      sumSq += v * v;
    }
    const mean = m.rows ? sum / m.rows : NaN;
    const variance = m.rows ? Math.max(0, sumSq / m.rows - mean * mean) : NaN;
    return { column: name, min, max, mean, std: Math.sqrt(variance) };
  });
}
