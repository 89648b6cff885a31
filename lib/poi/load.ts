import * as fs from "fs";
import * as path from "path";
import { DataError, parseCsvRecords, type ImageRef } from "../data";
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
   * What to do with an invalid row (a value outside its column's domain, a row the CSV parser cannot read, a wrong
   * field count): "error" (default) throws a DataError naming file, row, line and field; "skip" leaves the row out and
   * records why in `skipped`, so the count is visible.
   */
  onInvalidRow?: "error" | "skip";
}

export interface SkippedRow {
  row: number;
  /** Physical line where the row starts. */
  line: number;
  /** The offending column ("" when the row as a whole is unreadable). */
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

/** A numeric column's domain; every value outside it is an invalid row. */
interface NumericDomain {
  field: "tier" | "locationLon" | "locationLat" | "xps" | "Visits" | "Likes" | "Dislikes" | "Bookmarks";
  integer: boolean;
  min: number;
  max?: number;
  /** What a valid value is, in words, for the error message. */
  expected: string;
}

/** The domain of every numeric column of poi_dataset.csv (data/README.md lists them). */
export const POI_NUMERIC_DOMAINS: readonly NumericDomain[] = [
  { field: "tier", integer: true, min: 1, max: 4, expected: "a tier: a whole number from 1 to 4" },
  { field: "locationLon", integer: false, min: -180, max: 180, expected: "a longitude in degrees, from -180 to 180" },
  { field: "locationLat", integer: false, min: -90, max: 90, expected: "a latitude in degrees, from -90 to 90" },
  { field: "xps", integer: true, min: 0, expected: "experience points: a whole number ≥ 0" },
  { field: "Visits", integer: true, min: 0, expected: "a count: a whole number ≥ 0" },
  { field: "Likes", integer: true, min: 0, expected: "a count: a whole number ≥ 0" },
  { field: "Dislikes", integer: true, min: 0, expected: "a count: a whole number ≥ 0" },
  { field: "Bookmarks", integer: true, min: 0, expected: "a count: a whole number ≥ 0" },
];

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
  const skip = options.onInvalidRow === "skip";
  const { header, records: rows, broken } = parseCsvRecords(text, file, { skipBroken: skip });
  if (header.length === 0) throw new DataError(file, "empty file: no header row");
  const missing = CSV_COLUMNS.filter((column) => !header.includes(column));
  if (missing.length > 0) {
    throw new DataError(file, `missing column(s) ${missing.map((m) => `"${m}"`).join(", ")} in header`, undefined, missing[0], 1);
  }

  const records: PoiRecord[] = [];
  const skipped: SkippedRow[] = broken.map((b) => ({ row: b.row, line: b.line, field: b.field ?? "", reason: b.reason }));
  for (const { row, line, cells } of rows) {
    try {
      if (cells.length !== header.length) {
        throw new DataError(file, `expected ${header.length} fields, found ${cells.length}`, row, undefined, line);
      }
      const raw: RawRow = {};
      header.forEach((name, i) => (raw[name] = cells[i]));
      records.push(toRecord(raw, file, row, line, options.imageRoot));
    } catch (err) {
      if (!(err instanceof DataError) || !skip) throw err;
      skipped.push({ row, line, field: err.field ?? "", reason: err.reason });
    }
  }
  skipped.sort((a, b) => a.row - b.row);
  return { records, skipped };
}

function toRecord(raw: RawRow, file: string, row: number, line: number, imageRoot?: string): PoiRecord {
  const fail = (field: string, reason: string): never => {
    throw new DataError(file, reason, row, field, line);
  };
  const numbers = {} as Record<NumericDomain["field"], number>;
  for (const { field, integer, min, max, expected } of POI_NUMERIC_DOMAINS) {
    const text = raw[field].trim();
    const value = text === "" ? NaN : Number(text);
    if (text === "") fail(field, `empty value (expected ${expected})`);
    if (!Number.isFinite(value)) fail(field, `not a number: ${JSON.stringify(raw[field])} (expected ${expected})`);
    if ((integer && !Number.isInteger(value)) || value < min || (max !== undefined && value > max)) {
      fail(field, `${JSON.stringify(raw[field])} is out of range: expected ${expected}`);
    }
    numbers[field] = value;
  }
  const list = (field: "categories" | "tags"): string[] => {
    try {
      return parsePythonStringList(raw[field]);
    } catch (err) {
      return fail(field, (err as Error).message);
    }
  };
  const required = (field: "id" | "name" | "main_image_path"): string => {
    const value = raw[field].trim();
    if (value === "") fail(field, "empty value");
    return value;
  };
  const id = required("id");
  required("name");
  const mainImagePath = required("main_image_path");
  if (path.isAbsolute(mainImagePath) || path.normalize(mainImagePath).split(/[\\/]/).includes("..")) {
    fail("main_image_path", `${JSON.stringify(mainImagePath)} must be a path inside the dataset folder (relative, no "..")`);
  }
  if (imageRoot !== undefined && !fs.existsSync(path.join(imageRoot, mainImagePath))) {
    fail("main_image_path", `image file not found: ${path.join(imageRoot, mainImagePath)}`);
  }
  return {
    row,
    id,
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

/**
 * A record's main image with its row, for the image readers (decodeImage, embedImages, auditImages…): their errors
 * then say "poi_dataset.csv row 17 (id 3f2a…): data_main/3f2a…/main.jpg: truncated JPEG …".
 */
export function recordImage(dataDir: string, record: PoiRecord): ImageRef {
  return { file: imagePath(dataDir, record), source: path.join(dataDir, CSV_FILE_NAME), row: record.row, id: record.id };
}
