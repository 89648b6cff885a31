import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "fs";
import * as path from "path";
import { DataError } from "../../lib/data";
import { findDuplicates, loadPoiDataset, parsePoiCsv, resolveDataDir } from "../../lib/poi";
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
    [{ xps: "abc" }, "xps", /not a finite number/],
    [{ Visits: "" }, "Visits", /not a finite number/],
    [{ locationLat: "NaN" }, "locationLat", /not a finite number/],
    [{ Likes: "-3" }, "Likes", /non-negative integer/],
    [{ tier: "1.5" }, "tier", /non-negative integer/],
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

test("a row with the wrong number of fields is an error naming the row", () => {
  const text = [HEADER, csvLine("ok"), "x,y,z"].join("\n");
  assert.throws(() => parsePoiCsv(text, "f.csv"), /f\.csv, row 2 \(line 3\): expected 14 fields, found 3/);
});

test("malformed CSV (unclosed quote) is an error naming the file", () => {
  const text = [HEADER, csvLine("ok"), `id2,"unclosed name,desc`].join("\n");
  assert.throws(() => parsePoiCsv(text, "f.csv"), /f\.csv.*malformed CSV/);
});

test("skip mode leaves invalid rows out and counts them", () => {
  const text = [HEADER, csvLine("a"), csvLine("b", { xps: "?" }), csvLine("c")].join("\n");
  const { records, skipped } = parsePoiCsv(text, "f.csv", { onInvalidRow: "skip" });
  assert.deepEqual(records.map((r) => r.id), ["a", "c"]);
  assert.deepEqual(skipped.map((s) => [s.row, s.field]), [[2, "xps"]]);
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
