import { CsvError, parse } from "csv-parse/sync";
import { DataError } from "./errors";

/**
 * CSV text → header + records, with every row located by data row and physical line, and broken rows explained in
 * plain words instead of csv-parse's messages ("Invalid Closing Quote: got "E" at line 6 instead of delimiter…").
 *
 * A row the parser cannot read (broken quoting) is a DataError naming the file, data row, line and field. With
 * `skipBroken`, it is listed in `broken` instead and parsing starts again on the next line: the row is taken to be
 * one line, which is how a broken row usually looks. If it was in fact several lines (a multi-line value with a
 * stray quote), its other lines are read as rows of their own and fail the caller's checks (wrong field count), so
 * they too are reported, never silently accepted. csv-parse's `relax_quotes` would instead guess what a stray quote
 * meant and return a value that may be wrong without saying so; `skip_records_with_error` drops rows but numbers the
 * following ones as if the dropped row did not exist. Hence this loop.
 */

export interface CsvRecord {
  /** 1-based data row (header excluded), counting broken rows, as a spreadsheet would show it (minus the header). */
  row: number;
  /** 1-based physical line where the row starts (a quoted value may span several lines). */
  line: number;
  cells: string[];
}

export interface BrokenCsvRow {
  row: number;
  line: number;
  /** The header name of the field where reading failed, when known. */
  field?: string;
  reason: string;
}

export interface CsvRecords {
  header: string[];
  records: CsvRecord[];
  /** Rows left out under `skipBroken` (empty otherwise: the first one throws). */
  broken: BrokenCsvRow[];
}

const PARSE_OPTIONS = { info: true, relax_column_count: true, skip_empty_lines: true } as const;
type Parsed = { record: string[]; info: { lines: number } };
type ParseError = CsvError & { records: number; lines: number; column?: number };

/** Offsets where each physical line starts (\n, \r\n or \r endings, as csv-parse counts them). */
function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = 0; i < text.length; i++) {
    if (text[i] === "\n" || (text[i] === "\r" && text[i + 1] !== "\n")) starts.push(i + 1);
  }
  return starts;
}

export function parseCsvRecords(input: string, file: string, options: { skipBroken?: boolean } = {}): CsvRecords {
  const text = input.replace(/^\uFEFF/, "");
  const starts = lineStarts(text);
  const isBlank = (line: number): boolean => text.slice(starts[line - 1], starts[line] ?? text.length).trim() === "";
  const firstLineAfter = (line: number, limit = starts.length): number => {
    let next = line + 1;
    while (next < limit && isBlank(next)) next++;
    return next;
  };
  let header: string[] | undefined;
  const records: CsvRecord[] = [];
  const broken: BrokenCsvRow[] = [];
  let lastLine = 0;
  const take = (parsed: Parsed[], offset: number): void => {
    for (const { record, info } of parsed) {
      const line = firstLineAfter(lastLine);
      if (header === undefined) header = record.map((name) => name.trim());
      else records.push({ row: records.length + broken.length + 1, line, cells: record });
      lastLine = info.lines + offset;
    }
  };

  for (let fromLine = 1; fromLine <= starts.length; ) {
    // csv-parse's from_line still parses (and fails on) the lines before it, so the text itself is cut.
    const offset = fromLine - 1;
    const chunk = text.slice(starts[offset]);
    try {
      take(parse(chunk, PARSE_OPTIONS) as Parsed[], offset);
      break;
    } catch (err) {
      if (!(err instanceof CsvError)) throw err;
      const e = err as ParseError;
      if (e.records > 0) take(parse(chunk, { ...PARSE_OPTIONS, to: e.records }) as Parsed[], offset);
      const failedAt = e.lines + offset;
      const start = firstLineAfter(lastLine, failedAt);
      const reason = brokenRowReason(e, start, failedAt);
      if (header === undefined) throw new DataError(file, `the header row cannot be read: ${reason}`, undefined, undefined, start);
      const row = records.length + broken.length + 1;
      const field = typeof e.column === "number" ? header[e.column] : undefined;
      if (!options.skipBroken) throw new DataError(file, reason, row, field, start);
      broken.push({ row, line: start, field, reason });
      lastLine = start;
      fromLine = start + 1;
    }
  }
  return { header: header ?? [], records, broken };
}

function brokenRowReason(e: ParseError, start: number, failedAt: number): string {
  const next = /got "([\s\S])"/.exec(e.message)?.[1];
  const shown = next === undefined ? "another character" : JSON.stringify(next);
  switch (e.code) {
    case "CSV_INVALID_CLOSING_QUOTE":
      return failedAt > start
        ? `broken quoting: a quoted value opened on line ${start} is not closed on that line, and reading on, line ${failedAt} ` +
            `has a quote followed by ${shown} (is a closing quote missing?)`
        : `broken quoting: a quote inside a quoted value is followed by ${shown} instead of a comma or the end of the line ` +
            `(a quote inside a quoted value must be written twice: "")`;
    case "INVALID_OPENING_QUOTE": {
      const value = /value is (".*")/.exec(e.message)?.[1];
      return `broken quoting: a quote in the middle of a value that does not start with one${value ? ` (${value}…)` : ""}; ` +
        `put the whole value in quotes and write each quote inside it twice`;
    }
    case "CSV_QUOTE_NOT_CLOSED":
      return `broken quoting: the quoted value opened on line ${start} is never closed (the file ends inside it)`;
    default:
      return `unreadable CSV (${e.message})`;
  }
}
