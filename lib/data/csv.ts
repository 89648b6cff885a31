import * as fs from "fs";
import { parseCsvRecords } from "./csv-records";
import { DataError } from "./errors";

export interface CsvRow {
  /** 1-based data row (header excluded). */
  row: number;
  /** Line of the file where the row starts (multi-line fields span several). */
  line: number;
  values: Record<string, string>;
}

export interface CsvTable {
  file: string;
  header: string[];
  rows: CsvRow[];
  /** Rows left out under `skipBroken`: unreadable quoting or a wrong number of fields (empty otherwise). */
  broken: DataError[];
}

export interface ReadCsvOptions {
  requiredColumns?: readonly string[];
  /** List unreadable rows in `broken` and go on (see lib/data/csv-records.ts) instead of throwing at the first. */
  skipBroken?: boolean;
}

/**
 * Read a CSV file with a header row (RFC 4180: quoted commas, doubled quotes, multi-line fields; a UTF-8 BOM is
 * dropped). A row with broken quoting, a duplicated column name or a row with the wrong number of fields is a
 * DataError naming the file, row, line and (where known) field, in plain words.
 */
export function readCsv(file: string, options: ReadCsvOptions = {}): CsvTable {
  if (!fs.existsSync(file)) throw new DataError(file, "file does not exist");
  const parsed = parseCsvRecords(fs.readFileSync(file, "utf8"), file, { skipBroken: options.skipBroken });
  if (parsed.header.length === 0) throw new DataError(file, "empty file: no header row");
  const header = parsed.header;
  const duplicate = header.find((name, i) => header.indexOf(name) !== i);
  if (duplicate !== undefined) throw new DataError(file, `column "${duplicate}" appears twice in the header`, undefined, duplicate, 1);
  const missing = (options.requiredColumns ?? []).filter((c) => !header.includes(c));
  if (missing.length > 0) {
    throw new DataError(file, `no column ${missing.map((m) => `"${m}"`).join(", ")} in the header (columns: ${header.join(", ")})`, undefined, missing[0], 1);
  }
  const broken = parsed.broken.map((b) => new DataError(file, b.reason, b.row, b.field, b.line));
  const rows: CsvRow[] = [];
  for (const { row, line, cells } of parsed.records) {
    if (cells.length !== header.length) {
      const error = new DataError(file, `expected ${header.length} fields, found ${cells.length}`, row, undefined, line);
      if (!options.skipBroken) throw error;
      broken.push(error);
      continue;
    }
    const values: Record<string, string> = {};
    header.forEach((name, i) => (values[name] = cells[i]));
    rows.push({ row, line, values });
  }
  broken.sort((a, b) => (a.row ?? 0) - (b.row ?? 0));
  return { file, header, rows, broken };
}
