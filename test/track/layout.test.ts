import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { pathToFileURL } from "url";
import { FileStore, dumpFlatYaml, parseFlatYaml, pythonFloatRepr, startRun } from "../../lib/track";

function tempRoot(): string {
  return path.join(fs.mkdtempSync(path.join(os.tmpdir(), "track-")), "mlruns");
}

function listTree(dir: string): string[] {
  const out: string[] = [];
  const walk = (sub: string): void => {
    for (const entry of fs.readdirSync(path.join(dir, sub), { withFileTypes: true })) {
      const rel = sub ? `${sub}/${entry.name}` : entry.name;
      if (entry.isDirectory()) {
        out.push(`${rel}/`);
        walk(rel);
      } else out.push(rel);
    }
  };
  walk("");
  return out.sort();
}

// The documented MLflow file-store format (mlflow/store/tracking/file_store.py, written with PyYAML
// safe_dump, keys sorted): these are the exact bytes `mlflow` writes for the same calls.
const EXPECTED_DEFAULT_EXPERIMENT = `artifact_location: file://ROOT/0
creation_time: 1700000000000
experiment_id: '0'
last_update_time: 1700000000000
lifecycle_stage: active
name: Default
`;
const EXPECTED_EXPERIMENT = `artifact_location: file://ROOT/1
creation_time: 1700000001000
experiment_id: '1'
last_update_time: 1700000001000
lifecycle_stage: active
name: poi-engagement
`;
const EXPECTED_RUN_RUNNING = `artifact_uri: file://ROOT/1/RUN_ID/artifacts
deleted_time: null
end_time: null
entry_point_name: ''
experiment_id: '1'
lifecycle_stage: active
run_id: RUN_ID
run_name: baseline mlp
run_uuid: RUN_ID
source_name: ''
source_type: 4
source_version: ''
start_time: 1700000002000
status: 1
tags: []
user_id: USER
`;
const EXPECTED_METRIC_VAL_LOSS = `1700000003000 0.5 0
1700000003000 1e-05 1
1700000004000 3.0 2
`;

test("file-store layout is byte-for-byte MLflow's: meta.yaml, params, metrics, tags, artifacts", () => {
  const root = tempRoot();
  let now = 1700000000000;
  const store = new FileStore(root, { clock: () => now });
  now = 1700000001000;
  const expId = store.getOrCreateExperiment("poi-engagement");
  assert.equal(expId, "1");
  now = 1700000002000;
  const run = startRun({ store, experiment: "poi-engagement", runName: "baseline mlp", tags: { model: "mlp" } });
  const runDir = path.join(root, "1", run.runId);
  const fileRoot = pathToFileURL(root).href.replace(/^file:\/\//, "");
  const user = run.info.userId;
  const fill = (text: string): string => text.replace(/ROOT/g, fileRoot).replace(/RUN_ID/g, run.runId).replace(/USER/g, user);

  assert.match(run.runId, /^[0-9a-f]{32}$/);
  assert.equal(fs.readFileSync(path.join(root, "0", "meta.yaml"), "utf8"), fill(EXPECTED_DEFAULT_EXPERIMENT));
  assert.equal(fs.readFileSync(path.join(root, "1", "meta.yaml"), "utf8"), fill(EXPECTED_EXPERIMENT));
  assert.equal(fs.readFileSync(path.join(runDir, "meta.yaml"), "utf8"), fill(EXPECTED_RUN_RUNNING));

  now = 1700000003000;
  run.logParams({ lr: 0.001, batch_size: 32, optimizer: "adamw", augment: true });
  run.logMetrics({ val_loss: 0.5 }, 0);
  run.logMetric("val_loss", 0.00001, 1);
  now = 1700000004000;
  run.logMetric("val_loss", 3, 2);
  run.setTag("stage", "baseline");
  run.logText("hello\n", "val/report.txt");
  now = 1700000005000;
  run.endRun("FINISHED");

  assert.equal(fs.readFileSync(path.join(runDir, "metrics", "val_loss"), "utf8"), EXPECTED_METRIC_VAL_LOSS);
  // Params and tags: one file per key holding the value, no trailing newline.
  assert.equal(fs.readFileSync(path.join(runDir, "params", "lr"), "utf8"), "0.001");
  assert.equal(fs.readFileSync(path.join(runDir, "params", "batch_size"), "utf8"), "32");
  assert.equal(fs.readFileSync(path.join(runDir, "params", "augment"), "utf8"), "true");
  assert.equal(fs.readFileSync(path.join(runDir, "tags", "mlflow.runName"), "utf8"), "baseline mlp");
  assert.equal(fs.readFileSync(path.join(runDir, "tags", "mlflow.source.type"), "utf8"), "LOCAL");
  assert.equal(fs.readFileSync(path.join(runDir, "tags", "stage"), "utf8"), "baseline");
  assert.equal(fs.readFileSync(path.join(runDir, "artifacts", "val", "report.txt"), "utf8"), "hello\n");
  const finished = fill(EXPECTED_RUN_RUNNING).replace("end_time: null", "end_time: 1700000005000").replace("status: 1", "status: 3");
  assert.equal(fs.readFileSync(path.join(runDir, "meta.yaml"), "utf8"), finished);

  const tree = listTree(root).map((p) => p.replace(run.runId, "RUN_ID"));
  const expectedTree = [
    ".trash/",
    "0/",
    "0/meta.yaml",
    "1/",
    "1/meta.yaml",
    "1/RUN_ID/",
    "1/RUN_ID/artifacts/",
    "1/RUN_ID/artifacts/val/",
    "1/RUN_ID/artifacts/val/report.txt",
    "1/RUN_ID/meta.yaml",
    "1/RUN_ID/metrics/",
    "1/RUN_ID/metrics/val_loss",
    "1/RUN_ID/params/",
    "1/RUN_ID/params/augment",
    "1/RUN_ID/params/batch_size",
    "1/RUN_ID/params/lr",
    "1/RUN_ID/params/optimizer",
    "1/RUN_ID/tags/",
    ...["mlflow.runName", "mlflow.source.name", "mlflow.source.type", "mlflow.user", "model", "stage"].map((t) => `1/RUN_ID/tags/${t}`),
  ];
  const withoutGit = tree.filter((p) => p !== "1/RUN_ID/tags/mlflow.source.git.commit");
  assert.deepEqual(withoutGit, expectedTree.sort());
  assert.equal(fs.existsSync(path.join(root, ".experiments.lock")), false, "no lock file left behind");
});

test("meta.yaml matches PyYAML's safe_dump where Python with PyYAML is available", { skip: !hasPyYaml() }, () => {
  const data = { artifact_uri: "file:///tmp/x y/0", end_time: null, experiment_id: "12", name: "a: b", run_name: "it's", source_type: 4, tags: [] as never[] };
  const script = "import json,sys,yaml; sys.stdout.write(yaml.safe_dump(json.loads(sys.argv[1]), default_flow_style=False, allow_unicode=True))";
  const result = spawnSync("/usr/bin/python3", ["-c", script, JSON.stringify(data)], { encoding: "utf8" });
  assert.equal(result.status, 0, result.stderr);
  assert.equal(dumpFlatYaml(data), result.stdout);
});

function hasPyYaml(): boolean {
  return fs.existsSync("/usr/bin/python3") && spawnSync("/usr/bin/python3", ["-c", "import yaml"]).status === 0;
}

test("parseFlatYaml reads back what dumpFlatYaml writes", () => {
  const data = { a: "0", b: 17, c: null, d: "x: y", e: "it's", f: [] as never[], g: "plain text", h: true };
  assert.deepEqual(parseFlatYaml(dumpFlatYaml(data)), data);
});

test("metric values are written as Python's repr(float)", () => {
  const cases: Array<[number, string]> = [
    [0.1, "0.1"],
    [1, "1.0"],
    [1e-5, "1e-05"],
    [0.0001, "0.0001"],
    [1e16, "1e+16"],
    [1e15, "1000000000000000.0"],
    [-2.5, "-2.5"],
    [1 / 3, "0.3333333333333333"],
    [NaN, "nan"],
    [Infinity, "inf"],
    [1.5e-7, "1.5e-07"],
  ];
  for (const [value, text] of cases) assert.equal(pythonFloatRepr(value), text, String(value));
});

test("params are immutable like MLflow's; bad keys are refused", () => {
  const run = startRun({ store: new FileStore(tempRoot()) });
  run.logParam("lr", 0.01);
  run.logParam("lr", 0.01); // same value: fine
  assert.throws(() => run.logParam("lr", 0.1), /param "lr" was already logged with value "0.01"/);
  assert.throws(() => run.logMetric("../escape", 1), /must be a relative path/);
  assert.throws(() => run.setTag("a:b", "x"), /only letters/);
  run.endRun();
});

test("resuming a run by id appends to it and marks it RUNNING again", () => {
  const store = new FileStore(tempRoot());
  const first = startRun({ store, experiment: "e" });
  first.logMetric("loss", 1, 0);
  first.endRun("FAILED");
  const again = startRun({ store, runId: first.runId });
  assert.equal(again.status, "RUNNING");
  again.logMetric("loss", 0.5, 1);
  again.endRun();
  assert.deepEqual(
    again.metricHistory("loss").map((p) => [p.step, p.value]),
    [
      [0, 1],
      [1, 0.5],
    ],
  );
  assert.equal(store.findRun(first.runId).status, "FINISHED");
});

test("experiments created by MLflow with huge random ids do not disturb our sequential ids", () => {
  const root = tempRoot();
  const store = new FileStore(root);
  fs.mkdirSync(path.join(root, "272381012917094421"));
  fs.writeFileSync(path.join(root, "272381012917094421", "meta.yaml"), "artifact_location: file:///x\ncreation_time: 1\nexperiment_id: '272381012917094421'\nlast_update_time: 1\nlifecycle_stage: active\nname: from-mlflow\n");
  assert.equal(store.getOrCreateExperiment("ours"), "1");
  assert.equal(store.getOrCreateExperiment("from-mlflow"), "272381012917094421");
  assert.equal(store.getOrCreateExperiment("ours-2"), "2");
});
