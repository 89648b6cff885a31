import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "fs";
import * as path from "path";
import { DataError } from "../../lib/data";
import { findDuplicates, hasDataset, loadPoiDataset, parsePoiCsv, resolveDataDir } from "../../lib/poi";
import { csvLine, HEADER, makeDataset } from "./csv-fixtures";

test("loads quoted commas, doubled quotes, accents and list columns", async () => {
  const dir = await makeDataset(
    [csvLine("a", { tags: `"['Madrid', ""Bernardo o'higgins""]"` }), csvLine("b", { categories: "[]", tier: "4" })],
    ["a", "b"],
  );
  const { records, skipped } = loadPoiDataset({ dataDir: dir });
  assert.equal(records.length, 2);
  assert.equal(skipped.length, 0);
  assert.equal(records[0].name, 'Museo, "Sala" a');
  assert.equal(records[0].shortDescription, 'Descripción con comas, acentos (á, ñ) y "comillas".');
  assert.deepEqual(records[0].tags, ["Madrid", "Bernardo o'higgins"]);
  assert.deepEqual(records[0].categories, ["Escultura", "Pintura"]);
  assert.deepEqual(records[1].categories, []);
  assert.equal(records[1].tier, 4);
  assert.equal(records[1].row, 2);
  assert.equal(records[0].locationLat, 40.42);
});

test("a missing column is named", () => {
  const header = HEADER.replace(",xps", "");
  assert.throws(() => parsePoiCsv(`${header}\n`, "poi.csv"), (err: unknown) => err instanceof DataError && err.field === "xps" && /missing column/.test(err.message));
});

test("bad values name file, row and field", () => {
  const cases: [Record<string, string>, string, RegExp][] = [
    [{ xps: "abc" }, "xps", /not a number: "abc" \(expected experience points: a whole number ≥ 0\)/],
    [{ Visits: "" }, "Visits", /empty value \(expected a count/],
    [{ locationLat: "NaN" }, "locationLat", /not a number: "NaN"/],
    [{ Likes: "-3" }, "Likes", /"-3" is out of range: expected a count: a whole number ≥ 0/],
    [{ tier: "1.5" }, "tier", /"1.5" is out of range: expected a tier: a whole number from 1 to 4/],
    [{ categories: `"['Escultura', Pintura]"` }, "categories", /not a Python list/],
    [{ tags: "['unterminated" }, "tags", /not a Python list/],
    [{ id: '""' }, "id", /empty value/],
  ];
  for (const [override, field, reason] of cases) {
    const text = [HEADER, csvLine("ok"), csvLine("bad", override)].join("\n");
    assert.throws(
      () => parsePoiCsv(text, "/data/poi_dataset.csv"),
      (err: unknown) =>
        err instanceof DataError &&
        err.row === 2 &&
        err.field === field &&
        reason.test(err.message) &&
        err.message.startsWith("/data/poi_dataset.csv, row 2 (line 3), field"),
      JSON.stringify(override),
    );
  }
});

test("every column's domain is checked: coordinates, tier, counts, names and image paths", () => {
  const cases: [Record<string, string>, string, string][] = [
    [{ locationLat: "999" }, "locationLat", `"999" is out of range: expected a latitude in degrees, from -90 to 90`],
    [{ locationLat: "-90.5" }, "locationLat", `"-90.5" is out of range: expected a latitude in degrees, from -90 to 90`],
    [{ locationLon: "180.01" }, "locationLon", `"180.01" is out of range: expected a longitude in degrees, from -180 to 180`],
    [{ tier: "0" }, "tier", `"0" is out of range: expected a tier: a whole number from 1 to 4`],
    [{ tier: "5" }, "tier", `"5" is out of range: expected a tier: a whole number from 1 to 4`],
    [{ xps: "-1" }, "xps", `"-1" is out of range: expected experience points: a whole number ≥ 0`],
    [{ xps: "12.5" }, "xps", `"12.5" is out of range: expected experience points: a whole number ≥ 0`],
    [{ Bookmarks: "3.2" }, "Bookmarks", `"3.2" is out of range: expected a count: a whole number ≥ 0`],
    [{ Dislikes: "-1" }, "Dislikes", `"-1" is out of range: expected a count: a whole number ≥ 0`],
    [{ Likes: "1e400" }, "Likes", `not a number: "1e400" (expected a count: a whole number ≥ 0)`],
    [{ name: '"  "' }, "name", "empty value"],
    [{ main_image_path: "" }, "main_image_path", "empty value"],
    [{ main_image_path: "/etc/passwd" }, "main_image_path", `"/etc/passwd" must be a path inside the dataset folder (relative, no "..")`],
    [{ main_image_path: "data_main/../../x.jpg" }, "main_image_path", `"data_main/../../x.jpg" must be a path inside the dataset folder (relative, no "..")`],
  ];
  for (const [override, field, reason] of cases) {
    const text = [HEADER, csvLine("ok"), csvLine("ok2"), csvLine("bad", override), csvLine("ok3")].join("\n");
    assert.throws(
      () => parsePoiCsv(text, "poi_dataset.csv"),
      (err: unknown) => err instanceof DataError && err.message === `poi_dataset.csv, row 3 (line 4), field "${field}": ${reason}`,
      JSON.stringify(override),
    );
    const { records, skipped } = parsePoiCsv(text, "poi_dataset.csv", { onInvalidRow: "skip" });
    assert.deepEqual(records.map((r) => r.id), ["ok", "ok2", "ok3"]);
    assert.deepEqual(skipped, [{ row: 3, line: 4, field, reason }]);
  }
  // The edges of each domain are valid.
  const edges = [csvLine("a", { locationLat: "-90", locationLon: "180", tier: "4", xps: "0", Visits: "0" }), csvLine("b", { locationLat: "90", locationLon: "-180", tier: "1" })];
  assert.equal(parsePoiCsv([HEADER, ...edges].join("\n"), "f.csv").records.length, 2);
});

test("a row with the wrong number of fields is an error naming the row", () => {
  const text = [HEADER, csvLine("ok"), "x,y,z"].join("\n");
  assert.throws(() => parsePoiCsv(text, "f.csv"), /f\.csv, row 2 \(line 3\): expected 14 fields, found 3/);
});

test("a broken CSV row is explained in plain words, naming row, line and field", () => {
  // A quote inside a quoted value that is not doubled (the example: `"El "Gran" Canal"`).
  const stray = [HEADER, csvLine("a"), csvLine("b", { name: `"El "Gran" Canal"` }), csvLine("c")].join("\n");
  assert.throws(
    () => parsePoiCsv(stray, "poi_dataset.csv"),
    (err: unknown) =>
      err instanceof DataError &&
      err.message ===
        `poi_dataset.csv, row 2 (line 3), field "name": broken quoting: a quote inside a quoted value is followed by "G" instead of a comma ` +
          `or the end of the line (a quote inside a quoted value must be written twice: "")`,
  );
  // An unclosed quote swallows the next line: the row is named where it starts, and where reading failed.
  const unclosed = [HEADER, csvLine("a"), csvLine("b", { name: `"Museo sin cierre`, shortDescription: "sin comillas", categories: "[]" }), csvLine("c"), csvLine("d")].join("\n");
  assert.throws(
    () => parsePoiCsv(unclosed, "poi_dataset.csv"),
    /^DataError: poi_dataset\.csv, row 2 \(line 3\), field "name": broken quoting: a quoted value opened on line 3 is not closed on that line, and reading on, line 4 has a quote followed by "M" \(is a closing quote missing\?\)$/,
  );
  // A quote in the middle of an unquoted value.
  const inner = [HEADER, csvLine("a"), csvLine("b", { name: `Museo "Sala"` })].join("\n");
  assert.throws(() => parsePoiCsv(inner, "poi_dataset.csv"), /row 2 \(line 3\), field "name": broken quoting: a quote in the middle of a value that does not start with one \("Museo "…\)/);
  // The last row opens a quote that the file never closes.
  const atEnd = [HEADER, csvLine("a"), `b,"never closed`].join("\n");
  assert.throws(() => parsePoiCsv(atEnd, "poi_dataset.csv"), /row 2 \(line 3\), field "name": broken quoting: the quoted value opened on line 3 is never closed \(the file ends inside it\)/);
  // A broken header.
  assert.throws(() => parsePoiCsv(`id,"na"me\n`, "poi_dataset.csv"), /^DataError: poi_dataset\.csv, line 1: the header row cannot be read: broken quoting/);
});

test("skip mode skips broken CSV rows, counts them and numbers the following rows as in the file", () => {
  const lines = [
    HEADER,
    csvLine("a"),
    csvLine("b", { name: `"El "Gran" Canal"` }),
    csvLine("c", { shortDescription: `"una descripción
en dos líneas"` }),
    csvLine("d", { name: `"Museo sin cierre` }),
    csvLine("e"),
    "",
    csvLine("f", { locationLat: "999" }),
    csvLine("g"),
  ];
  const { records, skipped } = parsePoiCsv(lines.join("\n"), "poi_dataset.csv", { onInvalidRow: "skip" });
  assert.deepEqual(records.map((r) => [r.id, r.row]), [["a", 1], ["c", 3], ["e", 5], ["g", 7]]);
  assert.equal(records[1].shortDescription, "una descripción\nen dos líneas");
  assert.deepEqual(
    skipped.map((s) => [s.row, s.line, s.field, s.reason.split(":")[0]]),
    [
      [2, 3, "name", "broken quoting"],
      [4, 6, "name", "broken quoting"],
      [6, 9, "locationLat", `"999" is out of range`],
    ],
  );
});

test("a broken quote in the real CSV: the row is skipped, every other row loads with its own row number", { skip: !hasDataset() && "real dataset not found" }, () => {
  const csv = fs.readFileSync(path.join(resolveDataDir(), "poi_dataset.csv"), "utf8");
  const clean = parsePoiCsv(csv, "poi_dataset.csv");
  // Row 42's name starts with a quoted title ("""El Gran Canal…"", …); drop one of its opening quotes.
  const broken = csv.replace('"""El Gran Canal desde San Vio', '""El Gran Canal desde San Vio');
  assert.notEqual(broken, csv);
  assert.throws(() => parsePoiCsv(broken, "poi_dataset.csv"), /^DataError: poi_dataset\.csv, row 42 \(line 43\), field "name": broken quoting: a quote inside a quoted value is followed by "E"/);
  const { records, skipped } = parsePoiCsv(broken, "poi_dataset.csv", { onInvalidRow: "skip" });
  assert.deepEqual(skipped.map((s) => s.row), [42]);
  assert.equal(records.length, clean.records.length - 1);
  assert.deepEqual(records.map((r) => r.row), clean.records.filter((r) => r.row !== 42).map((r) => r.row));
  assert.deepEqual(records.map((r) => r.id), clean.records.filter((r) => r.row !== 42).map((r) => r.id));
});

test("a missing image file is an error naming row and field", async () => {
  const dir = await makeDataset([csvLine("a"), csvLine("b")], ["a"]);
  assert.throws(() => loadPoiDataset({ dataDir: dir }), (err: unknown) => err instanceof DataError && err.row === 2 && err.field === "main_image_path" && /image file not found/.test(err.message));
  assert.equal(loadPoiDataset({ dataDir: dir, checkImages: false }).records.length, 2);
});

test("duplicates by id and by image are reported, not dropped", async () => {
  const dir = await makeDataset([csvLine("a"), csvLine("a", { Visits: "5" }), csvLine("b"), csvLine("c", { main_image_path: "data_main/b/main.jpg" })], ["a", "b"]);
  const { records } = loadPoiDataset({ dataDir: dir });
  assert.equal(records.length, 4);
  const report = findDuplicates(records);
  assert.deepEqual(report.byId.map((g) => [g.value, g.rows, g.identical]), [["a", [1, 2], false]]);
  assert.deepEqual(report.byImage.map((g) => [g.value, g.rows]), [["data_main/a/main.jpg", [1, 2]], ["data_main/b/main.jpg", [3, 4]]]);
  assert.equal(report.rowsInvolved, 4);
});

test("POI_DATA_DIR selects the dataset and must point at one", async () => {
  const dir = await makeDataset([csvLine("a")], ["a"]);
  assert.equal(resolveDataDir({ POI_DATA_DIR: dir }), path.resolve(dir));
  const empty = fs.mkdtempSync(path.join(path.dirname(dir), "empty-"));
  assert.throws(() => resolveDataDir({ POI_DATA_DIR: empty }), /POI_DATA_DIR=.*no poi_dataset\.csv/);
});
