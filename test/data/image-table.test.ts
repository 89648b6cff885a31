import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "fs";
import * as path from "path";
import { DataError, imageTable, readCsv, selectClasses } from "../../lib/data";
import { tempDir, writeImage } from "./fixtures";

/** A table in <dir>/tables/labels.csv whose image paths are relative to that folder (../images/<n>.png). */
async function table(rows: string[], header = "file,diagnosis,age,sex,patient,part"): Promise<string> {
  const dir = tempDir("imgtable");
  for (let i = 0; i < 6; i++) await writeImage(path.join(dir, "images", `${i}.png`), [i * 20, 0, 0]);
  fs.mkdirSync(path.join(dir, "tables"));
  const csv = path.join(dir, "tables", "labels.csv");
  fs.writeFileSync(csv, [header, ...rows].join("\n") + "\n");
  return csv;
}

const ROWS = [
  "../images/0.png,N,61,Female,p1,train",
  "../images/1.png,D,45,Male,p1,train",
  "../images/2.png,G,70,Female,p2,train",
  '"../images/3.png",N,"38",Male,p3,test',
  "../images/4.png,D,52,Female,p3,val",
  "../images/5.png,N,66,Male,p4,test",
];

test("image paths relative to the CSV, detected metadata kinds, groups and the split column", async () => {
  const csv = await table(ROWS);
  const ds = await imageTable(csv, { imageColumn: "file", target: "diagnosis", metadata: ["age", "sex"], group: "patient", split: "part" });
  assert.deepEqual(ds.classes, ["D", "G", "N"]);
  assert.deepEqual(ds.metadata, [{ name: "age", kind: "numeric" }, { name: "sex", kind: "categorical" }]);
  assert.equal(ds.items.length, 6);
  assert.equal(ds.items[3].image, path.join(path.dirname(csv), "..", "images", "3.png"));
  assert.deepEqual(ds.items[3].metadata, { age: 38, sex: "Male" });
  assert.deepEqual(ds.items.map((i) => i.group), ["p1", "p1", "p2", "p3", "p3", "p4"]);
  assert.deepEqual(ds.items.map((i) => i.split), ["train", "train", "train", "test", "val", "test"]);
  assert.deepEqual(ds.items.map((i) => i.row), [1, 2, 3, 4, 5, 6]);
  const declared = await imageTable(csv, { imageColumn: "file", target: "diagnosis", metadata: [{ name: "age", kind: "categorical" }] });
  assert.deepEqual(declared.items[0].metadata, { age: "61" });
});

test("a missing image names file, row and field; onInvalid: skip counts it", async () => {
  const csv = await table([...ROWS.slice(0, 2), "../images/nope.png,G,70,Female,p2,train"]);
  await assert.rejects(
    imageTable(csv, { imageColumn: "file", target: "diagnosis" }),
    (err: unknown) => err instanceof DataError && err.row === 3 && err.field === "file" && /labels\.csv, row 3 \(line 4\), field "file": image file not found: .*nope\.png/.test(err.message),
  );
  const ds = await imageTable(csv, { imageColumn: "file", target: "diagnosis", onInvalid: "skip" });
  assert.equal(ds.items.length, 2);
  assert.deepEqual(ds.skipped.map((s) => [s.row, s.field]), [[3, "file"]]);
});

test("a non-numeric value in a declared-numeric column names row and field; a corrupt image names its row", async () => {
  const csv = await table([...ROWS.slice(0, 2), "../images/2.png,G,seventy,Female,p2,train"]);
  await assert.rejects(
    imageTable(csv, { imageColumn: "file", target: "diagnosis", metadata: [{ name: "age", kind: "numeric" }] }),
    /row 3 \(line 4\), field "age": not a finite number: "seventy"/,
  );
  // Detected: the column is categorical, so the same table loads.
  assert.equal((await imageTable(csv, { imageColumn: "file", target: "diagnosis", metadata: ["age"] })).metadata[0].kind, "categorical");
  fs.writeFileSync(path.join(path.dirname(csv), "..", "images", "1.png"), "garbage");
  await assert.rejects(imageTable(csv, { imageColumn: "file", target: "diagnosis" }), /row 2, field "file": image .*1\.png: not a readable image/);
});

test("unknown columns, a wrong field count and an empty class are clear errors", async () => {
  const csv = await table(ROWS);
  await assert.rejects(imageTable(csv, { imageColumn: "path", target: "diagnosis" }), /no column "path" in the header/);
  const ragged = await table([...ROWS.slice(0, 2), "../images/2.png,G"]);
  assert.throws(() => readCsv(ragged), /row 3 \(line 4\): expected 6 fields, found 2/);
  const empty = await table([...ROWS.slice(0, 2), "../images/2.png,,70,Female,p2,train"]);
  await assert.rejects(imageTable(empty, { imageColumn: "file", target: "diagnosis" }), /row 3 \(line 4\), field "diagnosis": empty class/);
});

test("a class subset [D, N] drops and counts the other rows; an unknown class is an error", async () => {
  const csv = await table(ROWS);
  const ds = await imageTable(csv, { imageColumn: "file", target: "diagnosis", classes: ["N", "D"] });
  assert.deepEqual(ds.classes, ["N", "D"]);
  assert.equal(ds.items.length, 5);
  assert.equal(ds.droppedByClassFilter, 1);
  assert.deepEqual(ds.items.map((i) => ds.classes[i.label]), ["N", "D", "N", "D", "N"]);
  await assert.rejects(imageTable(csv, { imageColumn: "file", target: "diagnosis", classes: ["N", "X"] }), /unknown class\(es\) "X"/);
  assert.throws(() => selectClasses(ds, ["N", "N"]), /listed twice/);
});

test("a row with broken quoting is a plain-words error, or a counted skip under onInvalid: skip", async () => {
  const broken = [...ROWS.slice(0, 2), '"../images/2.png"x,G,70,Female,p2,train', ...ROWS.slice(3), "../images/5.png,N"];
  const csv = await table(broken);
  assert.throws(
    () => readCsv(csv),
    (err: unknown) =>
      err instanceof DataError &&
      err.message === `${csv}, row 3 (line 4), field "file": broken quoting: a quote inside a quoted value is followed by "x" instead of a comma or the end of the line (a quote inside a quoted value must be written twice: "")`,
  );
  const ds = await imageTable(csv, { imageColumn: "file", target: "diagnosis", onInvalid: "skip" });
  assert.deepEqual(ds.items.map((i) => i.row), [1, 2, 4, 5, 6]);
  assert.deepEqual(ds.skipped.map((s) => [s.row, s.field, s.reason.split(":")[0]]), [[3, "file", "broken quoting"], [7, undefined, "expected 6 fields, found 2"]]);
});
