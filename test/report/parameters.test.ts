import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import {
  cellText, declaredParameters, executeNotebook, injectParameters, Notebook, parseParameterArgs, parseParameterValue, readNotebook, readPlan,
  writeIndexPage, writeNotebook,
} from "../../lib/report";

function notebook(cells: { source: string; tags?: string[] }[]): Notebook {
  return {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: { kernelspec: { name: "tslab", display_name: "TypeScript", language: "typescript" } },
    cells: [
      { cell_type: "markdown", source: "# Parameters check", metadata: {} },
      ...cells.map((c, i) => ({ cell_type: "code" as const, id: `c${i}`, source: c.source, metadata: c.tags ? { tags: c.tags } : {}, outputs: [], execution_count: null })),
    ],
  };
}

test("-p values parse like papermill's: numbers, booleans, null, JSON lists and objects, else strings", () => {
  assert.equal(parseParameterValue("5"), 5);
  assert.equal(parseParameterValue("-0.25"), -0.25);
  assert.equal(parseParameterValue("1e-3"), 0.001);
  assert.equal(parseParameterValue("true"), true);
  assert.equal(parseParameterValue("False"), false);
  assert.equal(parseParameterValue("None"), null);
  assert.equal(parseParameterValue("null"), null);
  assert.deepEqual(parseParameterValue('["a", "b"]'), ["a", "b"]);
  assert.deepEqual(parseParameterValue('{"lr": 0.01, "tags": [1]}'), { lr: 0.01, tags: [1] });
  assert.equal(parseParameterValue("../shared/data/poi/poi.csv"), "../shared/data/poi/poi.csv");
  assert.equal(parseParameterValue("12abc"), "12abc");
  assert.equal(parseParameterValue("Infinity"), "Infinity");
  assert.equal(parseParameterValue("[1, 2"), "[1, 2");
  assert.throws(() => parseParameterValue("[1, 2,]"), /looks like a JSON list/);
});

test("-p name=value, -p name value and -r name value; other arguments are kept in order", () => {
  const { parameters, rest } = parseParameterArgs(["--only", "a.ipynb", "-p", "epochs=5", "-p", "data", "x/y", "-r", "seed", "7", "--label", "l"]);
  assert.deepEqual(parameters, { epochs: 5, data: "x/y", seed: "7" });
  assert.deepEqual(rest, ["--only", "a.ipynb", "--label", "l"]);
  assert.deepEqual(parseParameterArgs(["-p", "eq=a=b"]).parameters, { eq: "a=b" });
  assert.throws(() => parseParameterArgs(["-p", "1x=3"]), /not a TypeScript variable name/);
  assert.throws(() => parseParameterArgs(["-p", "epochs"]), /no value/);
});

test("the parameters cell's declarations are read with their keyword, annotation and default", () => {
  const declared = declaredParameters(`// defaults\nconst data = "data/x";\nlet epochs = 3, lr: number = 0.1;\nconst classes: string[] | null = null;\nconst { a } = { a: 1 };\nconsole.log(data);`);
  assert.deepEqual(declared.map((d) => [d.name, d.keyword, d.type ?? "", d.initializer]), [
    ["data", "const", "", '"data/x"'],
    ["epochs", "let", "", "3"],
    ["lr", "let", "number", "0.1"],
    ["classes", "const", "string[] | null", "null"],
  ]);
});

test("injection adds a cell tagged injected-parameters right after the parameters cell, replacing an earlier one", () => {
  const nb = notebook([
    { source: 'import * as fs from "fs";' },
    { source: 'const data = "a";\nconst epochs = 2;\nconst backbone: "mobilenet-v2" | "small-cnn" = "mobilenet-v2";\nconst classes = ["x"];', tags: ["parameters"] },
    { source: "// old", tags: ["injected-parameters"] },
    { source: "console.log(data, epochs);" },
  ]);
  const out = injectParameters(nb, { data: "b", epochs: 5, backbone: "small-cnn", classes: null });
  assert.equal(out.cells.length, 5);
  const injected = out.cells[3];
  assert.deepEqual(injected.metadata.tags, ["injected-parameters"]);
  assert.equal(cellText(injected), [
    "// Parameters (injected: papermill's injected-parameters cell)",
    'const data: string = "b";',
    "const epochs: number = 5;",
    'const backbone: "mobilenet-v2" | "small-cnn" = "small-cnn";',
    "const classes = null;",
  ].join("\n"));
  assert.equal(cellText(out.cells[4]), "console.log(data, epochs);");
  assert.equal(injectParameters(nb, {}).cells.filter((c) => (c.metadata.tags as string[] | undefined)?.includes("injected-parameters")).length, 0);
  assert.throws(() => injectParameters(nb, { epoch: 5 }, "nb.ipynb"), /nb\.ipynb: "epoch" is not declared in the parameters cell \(it declares: data, epochs, backbone, classes\)/);
  assert.throws(() => injectParameters(notebook([{ source: "const a = 1;" }]), { a: 2 }, "nb.ipynb"), /no code cell tagged "parameters"/);
});

test("the plan names the file and entry of each mistake", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "plan-"));
  writeNotebook(path.join(dir, "11_a.ipynb"), notebook([]));
  const plan = path.join(dir, "pipeline.json");
  const write = (value: unknown) => fs.writeFileSync(plan, JSON.stringify(value));
  write([{ notebook: "11_a.ipynb" }, { notebook: "11_a.ipynb", label: "fashion", parameters: { epochs: 1 } }]);
  const runs = readPlan(plan);
  assert.deepEqual(runs.map((r) => r.name), ["11_a", "11_a-fashion"]);
  assert.equal(runs[1].notebook, path.join(dir, "11_a.ipynb"));
  assert.deepEqual(runs[1].parameters, { epochs: 1 });
  write([{ notebook: "11_a.ipynb" }, { notebook: "11_a.ipynb" }]);
  assert.throws(() => readPlan(plan), /run 2: same notebook and label as run 1, both would write 11_a\.html/);
  write([{ notebook: "12_missing.ipynb" }]);
  assert.throws(() => readPlan(plan), /run 1: notebook not found/);
  write([{ notebook: "11_a.ipynb", label: "a b" }]);
  assert.throws(() => readPlan(plan), /run 1: run label "a b"/);
  write([{ notebook: "11_a.ipynb", params: {} }]);
  assert.throws(() => readPlan(plan), /run 1: unknown field "params"/);
  write({ notebook: "11_a.ipynb" });
  assert.throws(() => readPlan(plan), /expected a list of runs/);
});

test("the project's own plan runs every notebook in notebooks/ (npm start runs only the plan)", () => {
  const dir = path.join(__dirname, "..", "..", "notebooks");
  const runs = readPlan(path.join(dir, "pipeline.json"));
  for (const n of ["01", "02", "03", "04", "05", "06", "07"]) assert.ok(runs.some((r) => path.basename(r.notebook).startsWith(`${n}_`)), `notebook ${n} in the plan`);
  const planned = new Set(runs.map((r) => path.basename(r.notebook)));
  const missing = fs.readdirSync(dir).filter((f) => f.endsWith(".ipynb") && !planned.has(f));
  assert.deepEqual(missing, [], "add them to notebooks/pipeline.json");
  for (const run of runs) injectParameters(readNotebook(run.notebook), run.parameters ?? {}, run.notebook);
});

test("a parameterised run shadows the defaults in the kernel, is named after its label and is listed with its parameters", { timeout: 240_000 }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "nbp-"));
  const file = path.join(dir, "11_params.ipynb");
  writeNotebook(file, notebook([
    { source: 'const data = "default/path";\nconst epochs = 2;\nlet classes: string[] | null = null;\nconst backbone: "mobilenet-v2" | "small-cnn" = "mobilenet-v2";', tags: ["parameters"] },
    { source: 'function pick(b: "mobilenet-v2" | "small-cnn"): string { return b.toUpperCase(); }\nconsole.log(`data=${data} epochs=${epochs * 10} classes=${JSON.stringify(classes)} backbone=${pick(backbone)}`);' },
  ]));
  const defaults = await executeNotebook(file, { reportsDir: dir });
  assert.ok(defaults.ok, defaults.error);
  assert.match(fs.readFileSync(defaults.html, "utf8"), /data=default\/path epochs=20 classes=null backbone=MOBILENET-V2/);
  const run = await executeNotebook(file, { reportsDir: dir, executedDir: dir + "-executed", label: "other", parameters: { data: "x/y.csv", epochs: 5, classes: ["a", "b"], backbone: "small-cnn" } });
  assert.ok(run.ok, run.error);
  assert.equal(run.html, path.join(dir, "11_params-other.html"));
  const html = fs.readFileSync(run.html, "utf8");
  assert.match(html, /data=x\/y\.csv epochs=50 classes=\[(&quot;|&#34;)a(&quot;|&#34;),(&quot;|&#34;)b(&quot;|&#34;)\] backbone=SMALL-CNN/);
  assert.match(html, /injected-parameters|Parameters \(injected/);
  const executed = JSON.parse(fs.readFileSync(path.join(dir, "..", path.basename(dir) + "-executed", "11_params-other.ipynb"), "utf8")) as Notebook;
  assert.deepEqual((executed.metadata.papermill as { parameters: unknown }).parameters, { data: "x/y.csv", epochs: 5, classes: ["a", "b"], backbone: "small-cnn" });
  assert.deepEqual(executed.cells[2].metadata.tags, ["injected-parameters"]);
  assert.ok(executed.cells[3].outputs!.length > 0, "the executed notebook holds the outputs");
  const wrongType = await executeNotebook(file, { reportsDir: dir, label: "bad", parameters: { epochs: "many" } });
  assert.equal(wrongType.ok, false);
  assert.match(wrongType.error ?? "", /Type 'string' is not assignable to type 'number'/);
  const index = fs.readFileSync(writeIndexPage(dir, [defaults, run]), "utf8");
  assert.match(index, /<td>other<\/td>/);
  assert.match(index, /epochs = 5<br>classes = \[&quot;a&quot;,&quot;b&quot;\]/);
  assert.match(index, /href="11_params-other\.html"/);
  assert.match(index, /defaults/);
});
