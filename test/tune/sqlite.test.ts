import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createStudy, loadStudy, RandomSampler, SqliteStorage, TpeSampler, type FrozenTrial, type Trial } from "../../lib/tune";

const WORKER = path.join(__dirname, "fixtures", "study-worker.ts");

function tmpDb(): string {
  return path.join(fs.mkdtempSync(path.join(os.tmpdir(), "tune-sqlite-")), "study.db");
}

function startWorker(args: (string | number)[]): { child: ChildProcess; exited: Promise<{ code: number | null; signal: string | null; output: string }> } {
  const child = spawn(process.execPath, ["--import", "tsx", WORKER, ...args.map(String)], { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout?.on("data", (d) => (output += d));
  child.stderr?.on("data", (d) => (output += d));
  const exited = new Promise<{ code: number | null; signal: string | null; output: string }>((resolve) =>
    child.on("exit", (code, signal) => resolve({ code, signal, output })),
  );
  return { child, exited };
}

async function waitFor(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const start = Date.now();
  while (!condition()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function byState(trials: FrozenTrial[], state: string): FrozenTrial[] {
  return trials.filter((t) => t.state === state);
}

test("a study in an SQLite file survives closing and reopening, with params, values, reports and attributes", async () => {
  const db = tmpDb();
  const storage = new SqliteStorage(db);
  const study = createStudy({ name: "persist", storage, sampler: new RandomSampler({ seed: 1 }), verbosity: 0 });
  study.enqueueTrial({ x: 0.5, kind: "b" });
  await study.optimize(
    (trial) => {
      const x = trial.suggestFloat("x", 0, 1);
      const n = trial.suggestInt("n", 1, 64, { log: true });
      const kind = trial.suggestCategorical("kind", ["a", "b", true, 3]);
      trial.report(x * 2, 0);
      trial.setUserAttr("note", { n, kind });
      return x + n;
    },
    { nTrials: 4 },
  );
  const before = study.trials;
  storage.close();

  const reopened = loadStudy({ name: "persist", storage: db });
  const after = reopened.trials;
  assert.equal(after.length, 4);
  assert.deepEqual(
    after.map((t) => [t.number, t.state, t.value, t.params, t.intermediateValues, t.userAttrs]),
    before.map((t) => [t.number, t.state, t.value, t.params, t.intermediateValues, t.userAttrs]),
  );
  assert.deepEqual(after[0].params, { x: 0.5, n: after[0].params.n, kind: "b" });
  assert.equal(typeof after[1].params.n, "number");
  assert.ok(after.every((t) => t.duration !== null && t.duration >= 0));
  assert.equal(reopened.bestTrial.number, before.reduce((b, t) => ((t.value as number) < (b.value as number) ? t : b)).number);
  assert.throws(() => createStudy({ name: "persist", storage: db }), /already exists/);
  assert.throws(() => loadStudy({ name: "missing", storage: db }), /"missing" does not exist/);
});

test("kill -9 in the middle of a trial: finished trials survive, the killed one stays RUNNING, resume continues numbering, heartbeat rule fails it", async () => {
  const db = tmpDb();
  // The worker records heartbeats every 0.1 s and hangs forever inside trial 5.
  const worker = startWorker([db, "resume", 100, 5, 7, 5, 0.1]);
  const watcher = new SqliteStorage(db);
  try {
    await waitFor(() => {
      try {
        const study = watcher.getStudy("resume");
        return watcher.getAllTrials(study.studyId).some((t) => t.number === 5 && t.state === "RUNNING");
      } catch {
        return false;
      }
    }, 30_000, "the worker to reach trial 5");
  } finally {
    worker.child.kill("SIGKILL");
  }
  const { signal } = await worker.exited;
  assert.equal(signal, "SIGKILL");

  const studyId = watcher.getStudy("resume").studyId;
  const killed = watcher.getAllTrials(studyId);
  assert.deepEqual(killed.map((t) => t.number), [0, 1, 2, 3, 4, 5]);
  assert.equal(byState(killed, "COMPLETE").length, 5);
  assert.equal(killed[5].state, "RUNNING");
  for (const t of byState(killed, "COMPLETE")) assert.equal(t.value, (t.params.x as number) ** 2);

  // Resume in this process (no heartbeat option: the RUNNING trial is left alone).
  const resumed = createStudy({ name: "resume", storage: watcher, loadIfExists: true, sampler: new RandomSampler({ seed: 8 }), verbosity: 0 });
  await resumed.optimize((trial) => trial.suggestFloat("x", -10, 10) ** 2, { nTrials: 3 });
  const afterResume = resumed.trials;
  assert.deepEqual(afterResume.map((t) => t.number), [0, 1, 2, 3, 4, 5, 6, 7, 8]);
  assert.equal(byState(afterResume, "COMPLETE").length, 8);
  assert.equal(afterResume[5].state, "RUNNING");

  // With heartbeats on, a RUNNING trial silent for longer than the grace period is marked FAIL.
  await new Promise((r) => setTimeout(r, 400));
  const withHeartbeat = new SqliteStorage(db, { heartbeatIntervalS: 0.1, gracePeriodS: 0.3 });
  const healed = createStudy({ name: "resume", storage: withHeartbeat, loadIfExists: true, sampler: new RandomSampler({ seed: 9 }), verbosity: 0 });
  await healed.optimize((trial) => trial.suggestFloat("x", -10, 10) ** 2, { nTrials: 1 });
  const final = healed.trials;
  assert.equal(final[5].state, "FAIL");
  assert.match(String(final[5].systemAttrs.fail_reason), /heartbeat/);
  assert.equal(final.length, 10);
  assert.equal(byState(final, "COMPLETE").length, 9);
  watcher.close();
  withHeartbeat.close();
});

test("two processes optimizing one SQLite study: unique trial numbers, no lost or duplicated trials, enqueued trials run once", async () => {
  const db = tmpDb();
  const setup = new SqliteStorage(db);
  const study = createStudy({ name: "shared", storage: setup, verbosity: 0 });
  const enqueued = [-3, -2, -1, 1, 2, 3];
  for (const x of enqueued) study.enqueueTrial({ x });

  const barrier = fs.mkdtempSync(path.join(os.tmpdir(), "tune-barrier-"));
  const a = startWorker([db, "shared", 20, 15, 1, "-", "-", barrier, 2]);
  const b = startWorker([db, "shared", 20, 15, 2, "-", "-", barrier, 2]);
  const [ra, rb] = await Promise.all([a.exited, b.exited]);
  assert.equal(ra.code, 0, ra.output);
  assert.equal(rb.code, 0, rb.output);

  const trials = study.trials;
  assert.equal(trials.length, 40, "20 trials from each worker (the 6 enqueued ones are among them)");
  assert.deepEqual(trials.map((t) => t.number), Array.from({ length: 40 }, (_, i) => i));
  assert.ok(trials.every((t) => t.state === "COMPLETE"));
  const pids = new Set(trials.map((t) => t.userAttrs.pid));
  assert.equal(pids.size, 2, "both processes ran trials");
  const switches = trials.slice(1).filter((t, i) => t.userAttrs.pid !== trials[i].userAttrs.pid).length;
  assert.ok(switches >= 2, `the two processes ran at the same time (trial owners alternate ${switches} times)`);
  for (const pid of pids) assert.equal(trials.filter((t) => t.userAttrs.pid === pid).length, 20);
  // Each enqueued value was run exactly once (it kept its trial number 0…5).
  assert.deepEqual(trials.slice(0, 6).map((t) => t.params.x), enqueued);
  for (const x of enqueued) assert.equal(trials.filter((t) => t.params.x === x).length, 1);
  setup.close();
});

test("a trial failed as stale by another worker while it ran keeps FAIL; its late result is dropped without error", async () => {
  const db = tmpDb();
  // Heartbeats every 10 s but a 50 ms grace period: each worker's running trial looks dead to the other.
  const options = { heartbeatIntervalS: 10, gracePeriodS: 0.05 };
  const slowStorage = new SqliteStorage(db, options);
  const fastStorage = new SqliteStorage(db, options);
  const slow = createStudy({ name: "stale", storage: slowStorage, sampler: new RandomSampler({ seed: 1 }), verbosity: 0 });
  const fast = loadStudy({ name: "stale", storage: fastStorage, sampler: new RandomSampler({ seed: 2 }), verbosity: 0 });
  const slowRun = slow.optimize(async (t) => {
    const x = t.suggestFloat("x", 0, 1);
    await new Promise((r) => setTimeout(r, 300));
    return x;
  }, { nTrials: 1 });
  await new Promise((r) => setTimeout(r, 150));
  await fast.optimize((t) => t.suggestFloat("x", 0, 1), { nTrials: 1 });
  await slowRun;
  const trials = slow.trials;
  assert.deepEqual(trials.map((t) => [t.number, t.state]), [[0, "FAIL"], [1, "COMPLETE"]]);
  assert.match(String(trials[0].systemAttrs.fail_reason), /heartbeat/);
  slowStorage.close();
  fastStorage.close();
});

test("a seeded TPE study resumed half-way proposes the same trials as an uninterrupted one", async () => {
  const objective = (t: Trial): number =>
    (t.suggestFloat("x", -3, 3) - 1) ** 2 + (t.suggestInt("n", 1, 9) - 4) ** 2 / 10 + (t.suggestCategorical("c", ["a", "b"]) === "a" ? 0 : 0.5);
  const whole = createStudy({ sampler: new TpeSampler({ seed: 5 }), verbosity: 0 });
  await whole.optimize(objective, { nTrials: 24 });

  const db = tmpDb();
  const first = new SqliteStorage(db);
  await createStudy({ name: "halves", storage: first, sampler: new TpeSampler({ seed: 5 }), verbosity: 0 }).optimize(objective, { nTrials: 12 });
  first.close();
  const second = new SqliteStorage(db);
  const resumed = createStudy({ name: "halves", storage: second, loadIfExists: true, sampler: new TpeSampler({ seed: 5 }), verbosity: 0 });
  await resumed.optimize(objective, { nTrials: 12 });
  assert.deepEqual(resumed.trials.map((t) => t.params), whole.trials.map((t) => t.params));
  second.close();
});
