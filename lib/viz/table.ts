import type { ColumnTable } from "arquero";
import { escapeHtml, } from "./html";
import { formatNumber } from "./figure";

/**
 * DataFrames for notebooks are arquero tables (dplyr-like verbs: filter, groupby, rollup, orderby, derive).
 * arquero 7 is an ES module; Node 20.19+ `require`s it, which also works inside tslab's CommonJS cells.
 */
// eslint-disable-next-line @typescript-eslint/no-var-requires
export const aq: typeof import("arquero") = require("arquero");

/** A table row: any plain object (interfaces included). */
export type Row = object;

/** A DataFrame from plain records. */
export function toFrame(rows: readonly Row[]): ColumnTable {
  return aq.from(rows as Row[]);
}

export interface TableOptions {
  caption?: string;
  /** Rows shown; the caption says how many were left out. Default 20. */
  maxRows?: number;
  /** Significant decimals for non-integer numbers. Default 3. */
  digits?: number;
}

function isColumnTable(value: unknown): value is ColumnTable {
  return typeof value === "object" && value !== null && typeof (value as ColumnTable).objects === "function" && typeof (value as ColumnTable).numRows === "function";
}

/** An HTML table of records (or an arquero table), numbers right-aligned and rounded. */
export function tableHtml(source: readonly Row[] | ColumnTable, options: TableOptions = {}): string {
  const rows = (isColumnTable(source) ? source.objects() : [...source]) as Record<string, unknown>[];
  const maxRows = options.maxRows ?? 20;
  const shown = rows.slice(0, maxRows);
  const columns: string[] = [];
  for (const row of rows) for (const key of Object.keys(row)) if (!columns.includes(key)) columns.push(key);
  const cell = (value: unknown): string => {
    if (typeof value === "number") return `<td style="text-align:right">${escapeHtml(formatNumber(value, options.digits ?? 3))}</td>`;
    if (value === null || value === undefined) return `<td></td>`;
    const text = readableValue(value, options.digits ?? 3);
    // Numbers written as text (fixed decimals, percentages) align right like numbers; other text reads left-aligned
    // (the notebook stylesheet right-aligns every cell otherwise).
    const align = /^[-+−]?[\d.,]+\s?%?$/.test(text.trim()) ? "right" : "left";
    return `<td style="text-align:${align}">${escapeHtml(text)}</td>`;
  };
  const more = rows.length > shown.length ? ` (first ${shown.length} of ${rows.length} rows)` : "";
  return captioned(
    `${escapeHtml(options.caption ?? "")}${escapeHtml(more)}`,
    `<table class="poi-table" style="border-collapse:collapse;font-size:12px">` +
      `<thead><tr>${columns.map((c) => `<th style="text-align:left;border-bottom:1px solid #999;padding:2px 8px">${escapeHtml(c)}</th>`).join("")}</tr></thead>` +
      `<tbody>${shown.map((row) => `<tr>${columns.map((c) => cell(row[c])).join("")}</tr>`).join("")}</tbody></table>`,
  );
}

/**
 * A table (or any block) with its caption above it. The caption is a block of its own, as wide as the text allows,
 * not an HTML <caption>, which is only as wide as the table and squeezes a long caption into a narrow column.
 */
export function captioned(captionHtml: string, tableHtmlText: string): string {
  if (!captionHtml) return tableHtmlText;
  return (
    `<figure class="poi-captioned" style="margin:0.6em 0">` +
    `<figcaption class="poi-caption" style="font-weight:bold;font-size:13px;margin:0 0 4px 0;max-width:60em;text-align:left">${captionHtml}</figcaption>` +
    `${tableHtmlText}</figure>`
  );
}

/** A value in a table cell as a reader would write it: lists joined with commas, records as `key: value` pairs. */
export function readableValue(value: unknown, digits = 3): string {
  if (value === null || value === undefined) return "";
  if (typeof value === "number") return formatNumber(value, digits);
  if (Array.isArray(value)) return value.map((v) => (typeof v === "object" && v !== null && !Array.isArray(v) ? `(${readableValue(v, digits)})` : readableValue(v, digits))).join(", ");
  if (value instanceof Date) return value.toISOString();
  if (typeof value === "object") {
    return Object.entries(value as Record<string, unknown>)
      .map(([k, v]) => `${k}: ${Array.isArray(v) ? `[${readableValue(v, digits)}]` : typeof v === "object" && v !== null ? `{${readableValue(v, digits)}}` : readableValue(v, digits)}`)
      .join("; ");
  }
  return String(value);
}

/** Plain-text version of the same table, for the command line. */
export function tableText(source: readonly Row[] | ColumnTable, options: TableOptions = {}): string {
  const rows = (isColumnTable(source) ? source.objects() : [...source]) as Record<string, unknown>[];
  const shown = rows.slice(0, options.maxRows ?? 20);
  const columns: string[] = [];
  for (const row of rows) for (const key of Object.keys(row)) if (!columns.includes(key)) columns.push(key);
  const text = (value: unknown) => readableValue(value, options.digits ?? 3);
  const widths = columns.map((c) => Math.max(c.length, ...shown.map((row) => text(row[c]).length)));
  const line = (cells: string[]) => cells.map((cellText, i) => cellText.padEnd(widths[i])).join("  ");
  return [options.caption ?? "", line(columns), ...shown.map((row) => line(columns.map((c) => text(row[c]))))].filter((l) => l !== "").join("\n");
}

function significant(value: number, digits: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (Number.isInteger(value)) return value.toLocaleString("en-US");
  const rounded = Number(value.toPrecision(digits));
  // JavaScript's own shortest form: 0.0001, 1.5e-7; exponents only for the very large.
  return Math.abs(rounded) >= 1e7 ? rounded.toExponential() : String(rounded);
}

/**
 * A fitted object (a preprocessor's state, a fitted target, a transform spec, best hyper-parameters) as a line a
 * reader takes in, instead of its raw JSON: `key: value` pairs, long lists cut with their length, numbers to
 * `digits` significant digits, `{ op: "rotate", degrees: 10 }` written `rotate(degrees 10)`.
 */
export function describeFitted(value: unknown, options: { omit?: readonly string[]; digits?: number; maxItems?: number } = {}): string {
  const digits = options.digits ?? 4;
  const maxItems = options.maxItems ?? 8;
  const omit = new Set(options.omit ?? []);
  const inner = (v: unknown, top: boolean): string => {
    if (v === null || v === undefined) return "none";
    if (typeof v === "number") return significant(v, digits);
    if (typeof v !== "object") return String(v);
    if (Array.isArray(v)) {
      if (v.length === 0) return "none";
      const nested = v.some((x) => Array.isArray(x));
      const shown = v.slice(0, maxItems).map((x) => (Array.isArray(x) ? `(${inner(x, false)})` : inner(x, false)));
      const more = v.length > maxItems ? `, … (${v.length} in all)` : "";
      return `${nested ? `${v.length} × ${(v[0] as unknown[]).length}: ` : ""}${shown.join(", ")}${more}`;
    }
    const entries = Object.entries(v as Record<string, unknown>).filter(([k]) => !(top && omit.has(k)));
    const head = entries.find(([k, x]) => (k === "op" || k === "kind") && typeof x === "string");
    const rest = entries.filter((e) => e !== head).map(([k, x]) => (top && !head ? `${k}: ${inner(x, false)}` : `${k} ${inner(x, false)}`));
    if (head) return `${head[1] as string}${rest.length ? `(${rest.join(", ")})` : ""}`;
    return rest.join(top ? "; " : ", ");
  };
  return inner(value, true);
}
