/**
 * A CSV table with an image path per row, a class column and optional metadata, group and split columns:
 *
 *   imageTable("odir/labels.csv", { imageColumn: "file", target: "diagnosis", metadata: ["age", "sex"], group: "patient" })
 *
 * Image paths are relative to the CSV's folder (absolute paths are kept). A metadata column is numeric when every
 * value parses as a finite number, else categorical; declare `{ name, kind }` to force a kind (a non-numeric value in
 * a declared-numeric column is then an error naming its row). `classes` keeps a subset, in that order: rows of other
 * classes are dropped and counted (`droppedByClassFilter`); a listed class the table does not have is an error.
 */
import * as fs from "fs";
import * as path from "path";
import { readCsv } from "./csv";
import { compareStrings, InvalidInputs, selectClasses, type Dataset, type DatasetItem, type InvalidPolicy, type MetadataColumn, type MetadataKind, type MetadataValue, type SourceSplit } from "./dataset";
import { DataError } from "./errors";
import { ImageLoadError } from "./images";
import { imageFileSize, verifyImageFile } from "./item-images";
import type { ImageCheck } from "./image-folder";

export interface ImageTableOptions {
  imageColumn: string;
  /** The class column. */
  target: string;
  /** Metadata columns: a name (kind detected) or { name, kind }. */
  metadata?: readonly (string | MetadataColumn)[];
  /** Rows sharing this column's value stay together in splits (e.g. a patient id). */
  group?: string;
  /** A column whose values train / val (validation) / test fix the split. */
  split?: string;
  /** Keep these classes only, in this order. */
  classes?: readonly string[];
  /** Default "header": each image's header is read; "decode": full decode; "none": existence only. */
  check?: ImageCheck;
  /** Bad row (missing or unreadable image, empty class, non-numeric value in a numeric column): "error" (default) or "skip". */
  onInvalid?: InvalidPolicy;
}

const SPLIT_VALUES: Record<string, SourceSplit> = { train: "train", val: "val", valid: "val", validation: "val", test: "test" };

function parseNumber(text: string): number {
  const t = text.trim();
  return t === "" ? NaN : Number(t);
}

/** Read an image table into a Dataset (see the file comment). */
export async function imageTable(csvPath: string, options: ImageTableOptions): Promise<Dataset> {
  const file = path.resolve(csvPath);
  const declared = (options.metadata ?? []).map((m) => (typeof m === "string" ? { name: m, kind: undefined as MetadataKind | undefined } : { ...m }));
  for (const m of declared) {
    if (m.kind !== undefined && m.kind !== "numeric" && m.kind !== "categorical") throw new Error(`metadata column "${m.name}": kind must be "numeric" or "categorical", got ${JSON.stringify(m.kind)}`);
    if ([options.imageColumn, options.target].includes(m.name)) throw new Error(`"${m.name}" is the image or target column and cannot also be metadata`);
  }
  const required = [options.imageColumn, options.target, ...declared.map((m) => m.name), ...[options.group, options.split].filter((c): c is string => !!c)];
  const invalid = new InvalidInputs(options.onInvalid);
  const table = readCsv(file, { requiredColumns: required, skipBroken: invalid.policy === "skip" });
  for (const error of table.broken) invalid.report(error);
  const baseDir = path.dirname(file);

  // Kinds: declared, else numeric when every non-empty value is a finite number.
  const columns: MetadataColumn[] = declared.map((m) => ({
    name: m.name,
    kind: m.kind ?? (table.rows.every((r) => r.values[m.name].trim() === "" || Number.isFinite(parseNumber(r.values[m.name]))) ? "numeric" : "categorical"),
  }));

  interface Row { row: number; image: string; className: string; group?: string; split?: SourceSplit; metadata: Record<string, MetadataValue> }
  const rows: Row[] = [];
  for (const r of table.rows) {
    const fail = (field: string, reason: string) => invalid.report(new DataError(file, reason, r.row, field, r.line));
    const className = r.values[options.target].trim();
    if (className === "") {
      fail(options.target, "empty class");
      continue;
    }
    const imageText = r.values[options.imageColumn].trim();
    if (imageText === "") {
      fail(options.imageColumn, "empty image path");
      continue;
    }
    const image = path.resolve(baseDir, imageText);
    if (!fs.existsSync(image)) {
      fail(options.imageColumn, `image file not found: ${image}`);
      continue;
    }
    const metadata: Record<string, MetadataValue> = {};
    let bad = false;
    for (const c of columns) {
      const text = r.values[c.name].trim();
      if (text === "") {
        fail(c.name, "empty value");
        bad = true;
        break;
      }
      if (c.kind === "numeric") {
        const value = parseNumber(text);
        if (!Number.isFinite(value)) {
          fail(c.name, `not a finite number: ${JSON.stringify(r.values[c.name])}`);
          bad = true;
          break;
        }
        metadata[c.name] = value;
      } else metadata[c.name] = text;
    }
    if (bad) continue;
    let split: SourceSplit | undefined;
    if (options.split) {
      split = SPLIT_VALUES[r.values[options.split].trim().toLowerCase()];
      if (!split) {
        fail(options.split, `split ${JSON.stringify(r.values[options.split])} is not one of train, val, validation, test`);
        continue;
      }
    }
    const group = options.group ? r.values[options.group].trim() : undefined;
    if (options.group && group === "") {
      fail(options.group, "empty group");
      continue;
    }
    rows.push({ row: r.row, image, className, group, split, metadata });
  }

  const check = options.check ?? "header";
  const checked: Row[] = [];
  for (const row of rows) {
    try {
      if (check === "decode") await verifyImageFile(row.image, row.row);
      else if (check === "header") await imageFileSize(row.image, row.row);
      checked.push(row);
    } catch (err) {
      if (!(err instanceof ImageLoadError)) throw err;
      invalid.report(new DataError(file, `image ${row.image}: ${err.reason}`, row.row, options.imageColumn));
    }
  }
  if (checked.length === 0) throw new DataError(file, "no usable rows");

  const classes = [...new Set(checked.map((r) => r.className))].sort(compareStrings);
  const items: DatasetItem[] = checked.map((r) => ({
    row: r.row,
    id: `row ${r.row}`,
    image: r.image,
    label: classes.indexOf(r.className),
    group: r.group,
    metadata: r.metadata,
    split: r.split,
  }));
  const dataset: Dataset = {
    name: path.basename(file, path.extname(file)),
    source: file,
    classes,
    items,
    metadata: columns,
    skipped: invalid.skipped,
    droppedByClassFilter: 0,
  };
  return options.classes ? selectClasses(dataset, options.classes) : dataset;
}
