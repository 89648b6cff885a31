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
    if (Array.isArray(value)) return `<td>${escapeHtml(JSON.stringify(value))}</td>`;
    if (typeof value === "object") return `<td>${escapeHtml(JSON.stringify(value))}</td>`;
    return `<td>${escapeHtml(String(value))}</td>`;
  };
  const more = rows.length > shown.length ? ` (first ${shown.length} of ${rows.length} rows)` : "";
  const caption = options.caption || more ? `<caption style="caption-side:top;text-align:left;font-weight:bold">${escapeHtml(options.caption ?? "")}${escapeHtml(more)}</caption>` : "";
  return (
    `<table class="poi-table" style="border-collapse:collapse;font-size:12px">${caption}` +
    `<thead><tr>${columns.map((c) => `<th style="text-align:left;border-bottom:1px solid #999;padding:2px 8px">${escapeHtml(c)}</th>`).join("")}</tr></thead>` +
    `<tbody>${shown.map((row) => `<tr>${columns.map((c) => cell(row[c])).join("")}</tr>`).join("")}</tbody></table>`
  );
}

/** Plain-text version of the same table, for the command line. */
export function tableText(source: readonly Row[] | ColumnTable, options: TableOptions = {}): string {
  const rows = (isColumnTable(source) ? source.objects() : [...source]) as Record<string, unknown>[];
  const shown = rows.slice(0, options.maxRows ?? 20);
  const columns: string[] = [];
  for (const row of rows) for (const key of Object.keys(row)) if (!columns.includes(key)) columns.push(key);
  const text = (value: unknown) => (typeof value === "number" ? formatNumber(value, options.digits ?? 3) : value === undefined || value === null ? "" : typeof value === "object" ? JSON.stringify(value) : String(value));
  const widths = columns.map((c) => Math.max(c.length, ...shown.map((row) => text(row[c]).length)));
  const line = (cells: string[]) => cells.map((cellText, i) => cellText.padEnd(widths[i])).join("  ");
  return [options.caption ?? "", line(columns), ...shown.map((row) => line(columns.map((c) => text(row[c]))))].filter((l) => l !== "").join("\n");
}
