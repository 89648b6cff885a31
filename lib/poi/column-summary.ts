import { CSV_COLUMNS, type PoiRecord } from "./record";

type Column = (typeof CSV_COLUMNS)[number];

/** Raw value of a CSV column for a record (lists as their items). */
function columnValue(record: PoiRecord, column: Column): string | number | string[] {
  return column === "main_image_path" ? record.mainImagePath : record[column];
}

export interface ColumnSummary {
  column: string;
  /** The dtype pandas gives the column when it reads the CSV. */
  pandasDtype: "object" | "int64" | "float64";
  /** Type after parsing in this project. */
  parsedAs: string;
  nulls: number;
  unique: number;
  /** For list columns: rows whose list is empty. */
  emptyLists?: number;
  example: string;
}

/** The exploration table: dtype, nulls and distinct values per column, as pandas' info()/nunique() would show. */
export function summarizeColumns(records: readonly PoiRecord[]): ColumnSummary[] {
  return CSV_COLUMNS.map((column) => {
    const values = records.map((r) => columnValue(r, column));
    const first = values[0];
    const isList = Array.isArray(first);
    const isNumber = typeof first === "number";
    const allIntegers = isNumber && values.every((v) => Number.isInteger(v));
    const keys = values.map((v) => (Array.isArray(v) ? JSON.stringify(v) : String(v)));
    const nulls = values.filter((v) => v === "" || (typeof v === "number" && Number.isNaN(v))).length;
    return {
      column,
      pandasDtype: isNumber ? (allIntegers ? "int64" : "float64") : "object",
      parsedAs: isList ? "string[]" : typeof first,
      nulls,
      unique: new Set(keys).size,
      emptyLists: isList ? values.filter((v) => (v as string[]).length === 0).length : undefined,
      example: isList ? JSON.stringify(first) : String(first).slice(0, 60),
    };
  });
}
