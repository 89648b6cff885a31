/** A problem in the dataset, located by file, data row (1-based, header excluded) and field. */
export class DataError extends Error {
  constructor(
    readonly file: string,
    readonly reason: string,
    readonly row?: number,
    readonly field?: string,
    readonly line?: number,
  ) {
    const where = [
      file,
      row !== undefined ? `row ${row}${line !== undefined ? ` (line ${line})` : ""}` : line !== undefined ? `line ${line}` : undefined,
      field !== undefined ? `field "${field}"` : undefined,
    ]
      .filter(Boolean)
      .join(", ");
    super(`${where}: ${reason}`);
    this.name = "DataError";
  }
}
