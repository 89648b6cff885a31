import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { FileStore, searchRuns, startRun } from "../../lib/track";

const TRACK = path.resolve(__dirname, "..", "..", "lib", "track");

/** Runs a small TypeScript program in a child node process (with tsx), resolving with its exit. */
function runChild(dir: string, name: string, source: string, env: Record<string, string> = {}): Promise<{ code: number | null; signal: string | null; stderr: string }> {
  const file = path.join(dir, `${name}.ts`);
  fs.writeFileSync(file, source);
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--import", "tsx", file], { env: { ...process.env, ...env }, stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (chunk) => (stderr += chunk));
    child.on("exit", (code, signal) => resolve({ code, signal, stderr }));
  });
}

test("a crash mid-run leaves the run FAILED (uncaught error) or RUNNING (killed) with its data intact", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "track-crash-"));
  const root = path.join(dir, "mlruns");
  const body = (end: string): string => `
import { startRun } from ${JSON.stringify(TRACK)};
const run = startRun({ root: ${JSON.stringify(root)}, experiment: "crash", runName: ${JSON.stringify(end)} });
run.logParam("epochs", 10);
for (let epoch = 0; epoch < 3; epoch++) run.logMetric("train_loss", 1 / (epoch + 1), epoch);
run.logText("partial", "notes.txt");
${end === "throws" ? 'throw new Error("simulated crash");' : 'process.kill(process.pid, "SIGKILL");'}
`;
  const thrown = await runChild(dir, "throws", body("throws"));
  assert.equal(thrown.code, 1);
  assert.match(thrown.stderr, /simulated crash/);
  const killed = await runChild(dir, "killed", body("killed"));
  assert.equal(killed.signal, "SIGKILL");

  const runs = searchRuns({ root, experiment: "crash", orderBy: "run_name ASC" });
  assert.deepEqual(
    runs.map((r) => [r.runName, r.status]),
    [
      ["killed", "RUNNING"],
      ["throws", "FAILED"],
    ],
  );
  for (const run of runs) {
    assert.equal(run.params.epochs, "10");
    assert.equal(run.metrics.train_loss, 1 / 3);
    const store = new FileStore(root);
    assert.deepEqual(store.metricHistory(store.findRun(run.runId), "train_loss").map((p) => p.step), [0, 1, 2]);
    assert.equal(fs.readFileSync(path.join(store.artifactsPath(store.findRun(run.runId)), "notes.txt"), "utf8"), "partial");
  }
});

test("two processes logging at once: one experiment, all runs and every metric line intact", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "track-conc-"));
  const root = path.join(dir, "mlruns");
  // A run both processes append to, to check that lines never interleave.
  const shared = startRun({ root, experiment: "setup", runName: "shared" });
  shared.endRun();
  const lines = 300;
  const startAt = Date.now() + 1500; // both children begin their work at the same moment
  const body = (who: string): string => `
import { startRun } from ${JSON.stringify(TRACK)};
while (Date.now() < ${startAt}) { /* wait for the other process */ }
const runs = [];
for (let i = 0; i < 3; i++) runs.push(startRun({ root: ${JSON.stringify(root)}, experiment: "race-" + i, runName: "${who}-" + i }));
const shared = startRun({ root: ${JSON.stringify(root)}, runId: ${JSON.stringify(shared.runId)} });
for (let step = 0; step < ${lines}; step++) {
  shared.logMetric("loss_${who}", 0.123456789 + step, step);
  shared.logMetric("loss_both", step + 0.5, step);
  runs[step % 3].logMetric("val_loss", step * 1e-7, step);
}
for (const run of runs) run.endRun();
shared.endRun();
`;
  const [a, b] = await Promise.all([runChild(dir, "a", body("a")), runChild(dir, "b", body("b"))]);
  assert.equal(a.code, 0, a.stderr);
  assert.equal(b.code, 0, b.stderr);

  const store = new FileStore(root);
  const names = store.listExperiments().map((e) => e.name).sort();
  assert.deepEqual(names, ["Default", "race-0", "race-1", "race-2", "setup"], "each experiment created exactly once");
  for (let i = 0; i < 3; i++) {
    const runs = searchRuns({ root, experiment: `race-${i}`, orderBy: "run_name ASC" });
    assert.deepEqual(runs.map((r) => r.runName), [`a-${i}`, `b-${i}`]);
    for (const r of runs) assert.equal(store.metricHistory(store.findRun(r.runId), "val_loss").length, lines / 3);
  }
  const sharedInfo = store.findRun(shared.runId);
  const bothText = fs.readFileSync(path.join(store.runDir(sharedInfo.experimentId, sharedInfo.runId), "metrics", "loss_both"), "utf8");
  const bothLines = bothText.split("\n").filter((l) => l !== "");
  assert.equal(bothLines.length, 2 * lines);
  for (const line of bothLines) assert.match(line, /^\d{13} \d+\.5 \d+$/);
  assert.equal(store.metricHistory(sharedInfo, "loss_a").length, lines);
  assert.equal(store.metricHistory(sharedInfo, "loss_b").length, lines);
});
