import * as fs from "fs";
import { parse } from "csv-parse/sync";
import { DataError } from "./errors";

export interface CsvRow {
  /** 1-based data row (header excluded). */
  row: number;
  /** Line of the file where the row ends (multi-line fields span several). */
  line: number;
  values: Record<string, string>;
}

export interface CsvTable {
  file: string;
  header: string[];
  rows: CsvRow[];
}

/**
 * Read a CSV file with a header row (RFC 4180: quoted commas, doubled quotes, multi-line fields; a UTF-8 BOM is
 * dropped). A malformed file, a duplicated column name or a row with the wrong number of fields is a DataError naming
 * the file, row and line.
 */
export function readCsv(file: string, options: { requiredColumns?: readonly string[] } = {}): CsvTable {
  if (!fs.existsSync(file)) throw new DataError(file, "file does not exist");
  let parsed: { record: string[]; info: { lines: number } }[];
  try {
    parsed = parse(fs.readFileSync(file, "utf8").replace(/^\uFEFF/, ""), { info: true, relax_column_count: true, skip_empty_lines: true });
  } catch (err) {
    const e = err as Error & { lines?: number };
    throw new DataError(file, `malformed CSV: ${e.message}`, undefined, undefined, e.lines);
  }
  if (parsed.length === 0) throw new DataError(file, "empty file: no header row");
  const header = parsed[0].record.map((name) => name.trim());
  const duplicate = header.find((name, i) => header.indexOf(name) !== i);
  if (duplicate !== undefined) throw new DataError(file, `column "${duplicate}" appears twice in the header`, undefined, duplicate, 1);
  const missing = (options.requiredColumns ?? []).filter((c) => !header.includes(c));
  if (missing.length > 0) {
    throw new DataError(file, `no column ${missing.map((m) => `"${m}"`).join(", ")} in the header (columns: ${header.join(", ")})`, undefined, missing[0], 1);
  }
  const rows = parsed.slice(1).map(({ record, info }, index) => {
    if (record.length !== header.length) {
      throw new DataError(file, `expected ${header.length} fields, found ${record.length}`, index + 1, undefined, info.lines);
    }
    const values: Record<string, string> = {};
    header.forEach((name, i) => (values[name] = record[i]));
    return { row: index + 1, line: info.lines, values };
  });
  return { file, header, rows };
}
