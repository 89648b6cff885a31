import * as fs from "fs";
import * as path from "path";
import { parse } from "csv-parse/sync";
import { DataError } from "../data";
import { resolveDataDir } from "./data-dir";
import { parsePythonStringList } from "./python-list";
import { CSV_COLUMNS, type PoiRecord } from "./record";

export const CSV_FILE_NAME = "poi_dataset.csv";

export interface LoadOptions {
  /** Dataset folder (holds poi_dataset.csv and data_main/); default: resolveDataDir(). */
  dataDir?: string;
  /** Also check that every row's image file exists (default true). Decoding is checked by `auditImages`. */
  checkImages?: boolean;
  /**
   * What to do with an invalid row: "error" (default) throws a DataError naming file, row and field;
   * "skip" leaves the row out and records why in `skipped`, so the count is visible.
   */
  onInvalidRow?: "error" | "skip";
}

export interface SkippedRow {
  row: number;
  line: number;
  field: string;
  reason: string;
}

export interface PoiDataset {
  dataDir: string;
  csvFile: string;
  records: PoiRecord[];
  skipped: SkippedRow[];
}

type RawRow = Record<string, string>;
const NUMERIC_FIELDS = ["tier", "locationLon", "locationLat", "xps", "Visits", "Likes", "Dislikes", "Bookmarks"] as const;
const COUNT_FIELDS = new Set<string>(["tier", "xps", "Visits", "Likes", "Dislikes", "Bookmarks"]);

/** Load and validate poi_dataset.csv. Duplicated ids/images are kept (see `findDuplicates`). */
export function loadPoiDataset(options: LoadOptions = {}): PoiDataset {
  const dataDir = options.dataDir ?? resolveDataDir();
  const csvFile = path.join(dataDir, CSV_FILE_NAME);
  if (!fs.existsSync(csvFile)) throw new DataError(csvFile, "file does not exist");
  const { records, skipped } = parsePoiCsv(fs.readFileSync(csvFile, "utf8"), csvFile, {
    ...options,
    imageRoot: options.checkImages === false ? undefined : dataDir,
  });
  return { dataDir, csvFile, records, skipped };
}

export interface ParseOptions {
  onInvalidRow?: "error" | "skip";
  /** When set, each row's main_image_path must exist under this folder. */
  imageRoot?: string;
}

/** Parse the CSV text (file name only used in messages). */
export function parsePoiCsv(
  text: string,
  file: string,
  options: ParseOptions = {},
): { records: PoiRecord[]; skipped: SkippedRow[] } {
  let parsed: { record: string[]; info: { lines: number } }[];
  try {
    parsed = parse(text.replace(/^\uFEFF/, ""), { info: true, relax_column_count: true, skip_empty_lines: true });
  } catch (err) {
    const e = err as Error & { lines?: number };
    throw new DataError(file, `malformed CSV: ${e.message}`, undefined, undefined, e.lines);
  }
  if (parsed.length === 0) throw new DataError(file, "empty file: no header row");
  const header = parsed[0].record.map((name) => name.trim());
  const missing = CSV_COLUMNS.filter((column) => !header.includes(column));
  if (missing.length > 0) {
    throw new DataError(file, `missing column(s) ${missing.map((m) => `"${m}"`).join(", ")} in header`, undefined, missing[0], 1);
  }

  const records: PoiRecord[] = [];
  const skipped: SkippedRow[] = [];
  for (let index = 1; index < parsed.length; index++) {
    const { record: cells, info } = parsed[index];
    const row = index;
    try {
      if (cells.length !== header.length) {
        throw new DataError(file, `expected ${header.length} fields, found ${cells.length}`, row, undefined, info.lines);
      }
      const raw: RawRow = {};
      header.forEach((name, i) => (raw[name] = cells[i]));
      records.push(toRecord(raw, file, row, info.lines, options.imageRoot));
    } catch (err) {
      if (!(err instanceof DataError) || options.onInvalidRow !== "skip") throw err;
      skipped.push({ row, line: info.lines, field: err.field ?? "", reason: err.reason });
    }
  }
  return { records, skipped };
}

function toRecord(raw: RawRow, file: string, row: number, line: number, imageRoot?: string): PoiRecord {
  const numbers = {} as Record<(typeof NUMERIC_FIELDS)[number], number>;
  for (const field of NUMERIC_FIELDS) {
    const text = raw[field].trim();
    const value = text === "" ? NaN : Number(text);
    if (!Number.isFinite(value)) {
      throw new DataError(file, `not a finite number: ${JSON.stringify(raw[field])}`, row, field, line);
    }
    if (COUNT_FIELDS.has(field) && (value < 0 || !Number.isInteger(value))) {
      throw new DataError(file, `expected a non-negative integer, got ${JSON.stringify(raw[field])}`, row, field, line);
    }
    numbers[field] = value;
  }
  const list = (field: "categories" | "tags"): string[] => {
    try {
      return parsePythonStringList(raw[field]);
    } catch (err) {
      throw new DataError(file, (err as Error).message, row, field, line);
    }
  };
  const required = (field: "id" | "main_image_path"): string => {
    const value = raw[field].trim();
    if (value === "") throw new DataError(file, "empty value", row, field, line);
    return value;
  };
  const mainImagePath = required("main_image_path");
  if (imageRoot !== undefined && !fs.existsSync(path.join(imageRoot, mainImagePath))) {
    throw new DataError(file, `image file not found: ${path.join(imageRoot, mainImagePath)}`, row, "main_image_path", line);
  }
  return {
    row,
    id: required("id"),
    name: raw.name,
    shortDescription: raw.shortDescription,
    categories: list("categories"),
    tier: numbers.tier,
    locationLon: numbers.locationLon,
    locationLat: numbers.locationLat,
    tags: list("tags"),
    xps: numbers.xps,
    Visits: numbers.Visits,
    Likes: numbers.Likes,
    Dislikes: numbers.Dislikes,
    Bookmarks: numbers.Bookmarks,
    mainImagePath,
  };
}

/** Absolute path of a record's main image. */
export function imagePath(dataDir: string, record: PoiRecord): string {
  return path.join(dataDir, record.mainImagePath);
}
