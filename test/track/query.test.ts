import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { FileStore, getMetricHistory, runsTable, searchRuns, startRun, withRun } from "../../lib/track";

function tempStore(): FileStore {
  let now = 1_700_000_000_000;
  return new FileStore(path.join(fs.mkdtempSync(path.join(os.tmpdir(), "track-q-")), "mlruns"), { clock: () => (now += 1000) });
}

test("searchRuns filters by experiment and tag and sorts by a metric", () => {
  const store = tempStore();
  const specs: Array<[string, string, number, string]> = [
    ["fusion", "a", 0.61, "late"],
    ["fusion", "b", 0.72, "early"],
    ["fusion", "c", 0.55, "late"],
    ["baseline", "d", 0.9, "late"],
  ];
  for (const [experiment, runName, f1, fusion] of specs) {
    const run = startRun({ store, experiment, runName, tags: { fusion } });
    run.logParam("lr", 0.001);
    run.logMetric("val_f1_macro", 0.1, 0);
    run.logMetric("val_f1_macro", f1, 1);
    run.endRun();
  }
  const all = searchRuns({ store, experiment: "fusion", orderBy: "metrics.val_f1_macro DESC" });
  assert.deepEqual(
    all.map((r) => r.runName),
    ["b", "a", "c"],
  );
  assert.equal(all[0].metrics.val_f1_macro, 0.72, "latest value = the one at the largest step");
  assert.equal(all[0].params.lr, "0.001");
  assert.equal(all[0].status, "FINISHED");
  assert.equal(all[0].experimentName, "fusion");
  assert.ok(all[0].durationSeconds !== null && all[0].durationSeconds > 0);

  const late = searchRuns({ store, tags: { fusion: "late" }, orderBy: "metrics.val_f1_macro ASC" });
  assert.deepEqual(
    late.map((r) => r.runName),
    ["c", "a", "d"],
  );
  const table = runsTable(late, { metrics: ["val_f1_macro"] });
  assert.deepEqual(Object.keys(table[0]), ["run_id", "run_name", "experiment", "status", "start_time", "duration_s", "params.lr", "metrics.val_f1_macro"]);
  assert.equal(table[2]["metrics.val_f1_macro"], 0.9);
  assert.deepEqual(
    getMetricHistory(late[0].runId, "val_f1_macro", { store }).map((p) => p.value),
    [0.1, 0.55],
  );
  assert.throws(() => searchRuns({ store, orderBy: "bogus DESC" }), /unknown field "bogus"/);
});

test("withRun ends FINISHED on success and FAILED on a thrown error", async () => {
  const store = tempStore();
  await withRun({ store, experiment: "w", runName: "ok" }, (run) => run.logMetric("x", 1));
  await assert.rejects(
    withRun({ store, experiment: "w", runName: "bad" }, (run) => {
      run.logMetric("x", 2);
      throw new Error("boom");
    }),
    /boom/,
  );
  const rows = searchRuns({ store, experiment: "w", orderBy: "run_name ASC" });
  assert.deepEqual(
    rows.map((r) => [r.runName, r.status, r.metrics.x]),
    [
      ["bad", "FAILED", 2],
      ["ok", "FINISHED", 1],
    ],
  );
});
