/**
 * RdbStorage on every backend of backends.ts (SQLite; PostgreSQL when TUNE_POSTGRES_URL is set, required under CI):
 * persistence, kill -9 mid-trial, heartbeats, several processes racing on one study, seeded resumption.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createStudy, loadStudy, RandomSampler, RdbStorage, TpeSampler, type FrozenTrial, type Trial } from "../../lib/tune";
import { assertAvailable, backendTestOptions, BACKENDS } from "./backends";

const WORKER = path.join(__dirname, "fixtures", "study-worker.ts");

export function startWorker(args: (string | number)[]): { child: ChildProcess; exited: Promise<{ code: number | null; signal: string | null; output: string }> } {
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

function trialsOf(storage: RdbStorage, name: string): FrozenTrial[] {
  try {
    return storage.getAllTrials(storage.getStudy(name).studyId);
  } catch {
    return [];
  }
}

for (const backend of BACKENDS) {
  const options = backendTestOptions(backend);

  test(`${backend.name}: a study survives closing and reopening, with params, values, reports and attributes`, options, async () => {
    assertAvailable(backend);
    const url = backend.freshUrl();
    const storage = new RdbStorage(url);
    const study = createStudy({ name: "persist", storage, sampler: new RandomSampler({ seed: 1 }), verbosity: 0 });
    study.enqueueTrial({ x: 0.5, kind: "b" });
    await study.optimize(
      (trial) => {
        const x = trial.suggestFloat("x", 0, 1);
        const n = trial.suggestInt("n", 1, 64, { log: true });
        const kind = trial.suggestCategorical("kind", ["a", "b", true, 3]);
        trial.report(x * 2, 0);
        trial.report(NaN, 1);
        trial.setUserAttr("note", { n, kind, big: Infinity });
        return x + n;
      },
      { nTrials: 4 },
    );
    const before = study.trials;
    storage.close();

    const reopened = loadStudy({ name: "persist", storage: url, verbosity: 0 });
    const after = reopened.trials;
    assert.equal(after.length, 4);
    assert.deepEqual(
      after.map((t) => [t.number, t.state, t.value, t.params, t.intermediateValues, t.userAttrs]),
      before.map((t) => [t.number, t.state, t.value, t.params, t.intermediateValues, t.userAttrs]),
    );
    assert.deepEqual(after[0].params, { x: 0.5, n: after[0].params.n, kind: "b" });
    assert.ok(Number.isNaN(after[0].intermediateValues[1]));
    assert.equal((after[0].userAttrs.note as { big: number }).big, Infinity);
    assert.ok(after.every((t) => t.duration !== null && t.duration >= 0));
    assert.equal(reopened.bestTrial.number, before.reduce((b, t) => ((t.value as number) < (b.value as number) ? t : b)).number);
    assert.throws(() => createStudy({ name: "persist", storage: url }), /already exists/);
    assert.throws(() => loadStudy({ name: "missing", storage: url }), /"missing" does not exist/);
    // Optuna's rule: a parameter name keeps its kind and log scale across the study.
    await assert.rejects(reopened.optimize((t) => t.suggestFloat("n", 1, 64), { nTrials: 1 }), /suggested as float|int before/);
    (reopened.storage as RdbStorage).close();
  });

  test(`${backend.name}: kill -9 mid-trial keeps finished trials, resume continues numbering, heartbeats fail the dead trial`, options, async () => {
    assertAvailable(backend);
    const url = backend.freshUrl();
    // The worker records heartbeats every 0.1 s and hangs forever inside its 6th trial (number 5).
    const worker = startWorker([url, "resume", 100, 5, 7, 5, 0.1]);
    const watcher = new RdbStorage(url);
    try {
      await waitFor(() => trialsOf(watcher, "resume").some((t) => t.number === 5 && t.userAttrs.hanging === true), 60_000, "the worker to hang in trial 5");
    } finally {
      worker.child.kill("SIGKILL");
    }
    const { signal } = await worker.exited;
    assert.equal(signal, "SIGKILL");

    const killed = trialsOf(watcher, "resume");
    assert.deepEqual(killed.map((t) => t.number), [0, 1, 2, 3, 4, 5]);
    assert.equal(byState(killed, "COMPLETE").length, 5);
    assert.equal(killed[5].state, "RUNNING");
    for (const t of byState(killed, "COMPLETE")) assert.equal(t.value, (t.params.x as number) ** 2);

    // Resumed without heartbeats: the RUNNING trial is left alone (Optuna's default).
    const resumed = createStudy({ name: "resume", storage: watcher, loadIfExists: true, sampler: new RandomSampler({ seed: 8 }), verbosity: 0 });
    await resumed.optimize((trial) => trial.suggestFloat("x", -10, 10) ** 2, { nTrials: 3 });
    assert.deepEqual(resumed.trials.map((t) => t.number), [0, 1, 2, 3, 4, 5, 6, 7, 8]);
    assert.equal(resumed.trials[5].state, "RUNNING");

    // With heartbeats on, a RUNNING trial silent for longer than the grace period is marked FAIL.
    await new Promise((r) => setTimeout(r, 400));
    const withHeartbeat = new RdbStorage(url, { heartbeatIntervalS: 0.1, gracePeriodS: 0.3 });
    const healed = createStudy({ name: "resume", storage: withHeartbeat, loadIfExists: true, sampler: new RandomSampler({ seed: 9 }), verbosity: 0 });
    await healed.optimize((trial) => trial.suggestFloat("x", -10, 10) ** 2, { nTrials: 1 });
    const final = healed.trials;
    assert.equal(final[5].state, "FAIL");
    assert.ok(final[5].datetimeComplete !== null);
    assert.match(String(final[5].systemAttrs.fail_reason), /heartbeat/);
    assert.equal(final.length, 10);
    assert.equal(byState(final, "COMPLETE").length, 9);
    watcher.close();
    withHeartbeat.close();
  });

  test(`${backend.name}: four processes on one study: unique numbers, nothing lost or run twice, enqueued trials run once`, options, async () => {
    assertAvailable(backend);
    const url = backend.freshUrl();
    const setup = new RdbStorage(url);
    const study = createStudy({ name: "shared", storage: setup, verbosity: 0 });
    const enqueued = [-3, -2, -1, 1, 2, 3];
    for (const x of enqueued) study.enqueueTrial({ x });

    const barrier = fs.mkdtempSync(path.join(os.tmpdir(), "tune-barrier-"));
    const workers = [1, 2, 3, 4].map((seed) => startWorker([url, "shared", 10, 10, seed, "-", "-", barrier, 4]));
    for (const w of await Promise.all(workers.map((w) => w.exited))) assert.equal(w.code, 0, w.output);

    const trials = study.trials;
    assert.equal(trials.length, 40, "10 trials from each worker (the 6 enqueued ones are among them)");
    assert.deepEqual(trials.map((t) => t.number), Array.from({ length: 40 }, (_, i) => i));
    assert.ok(trials.every((t) => t.state === "COMPLETE"));
    const pids = new Set(trials.map((t) => t.userAttrs.pid));
    assert.equal(pids.size, 4, "every process ran trials");
    for (const pid of pids) assert.equal(trials.filter((t) => t.userAttrs.pid === pid).length, 10);
    const switches = trials.slice(1).filter((t, i) => t.userAttrs.pid !== trials[i].userAttrs.pid).length;
    assert.ok(switches >= 4, `the processes ran at the same time (trial owners alternate ${switches} times)`);
    assert.deepEqual(trials.slice(0, 6).map((t) => t.params.x), enqueued);
    for (const x of enqueued) assert.equal(trials.filter((t) => t.params.x === x).length, 1);
    setup.close();
  });

  test(`${backend.name}: two of four workers killed mid-trial and restarted: their trials end FAIL, the study still completes`, options, async () => {
    assertAvailable(backend);
    const url = backend.freshUrl();
    // Heartbeats every second, grace period 2 s (Optuna's default of twice the interval): wide enough that a live
    // worker on a loaded 2-core machine is never taken for dead.
    const heartbeat = 1;
    const setup = new RdbStorage(url);
    createStudy({ name: "crash", storage: setup, verbosity: 0 });
    const barrier = fs.mkdtempSync(path.join(os.tmpdir(), "tune-barrier-"));
    // Workers 1 and 2 hang in their 3rd trial; 3 and 4 run 6 trials each.
    const doomed = [1, 2].map((seed) => startWorker([url, "crash", 6, 10, seed, 2, heartbeat, barrier, 4]));
    const healthy = [3, 4].map((seed) => startWorker([url, "crash", 6, 10, seed, "-", heartbeat, barrier, 4]));
    const hanging = (pid: number | undefined): boolean => trialsOf(setup, "crash").some((t) => t.userAttrs.hanging === true && t.userAttrs.pid === pid);
    await waitFor(() => doomed.every((w) => hanging(w.child.pid)), 60_000, "both doomed workers to hang mid-trial");
    for (const w of doomed) w.child.kill("SIGKILL");
    const deadPids = doomed.map((w) => w.child.pid);
    for (const w of await Promise.all(doomed.map((w) => w.exited))) assert.equal(w.signal, "SIGKILL");
    // Restarted once the grace period has passed, they fail the dead trials and run the trials they owed (4 each).
    await new Promise((r) => setTimeout(r, 2500));
    const restarted = [5, 6].map((seed) => startWorker([url, "crash", 4, 10, seed, "-", heartbeat]));
    for (const w of await Promise.all([...healthy, ...restarted].map((w) => w.exited))) assert.equal(w.code, 0, w.output);

    const trials = trialsOf(setup, "crash");
    assert.deepEqual(trials.map((t) => t.number), Array.from({ length: trials.length }, (_, i) => i), "no duplicate or missing numbers");
    const summary = JSON.stringify(trials.map((t) => [t.number, t.state, t.userAttrs.pid, t.systemAttrs.fail_reason ?? ""]));
    assert.equal(byState(trials, "COMPLETE").length, 6 * 2 + 2 * 2 + 4 * 2, `every finished trial kept: 2×6 healthy + 2×2 before the kill + 2×4 restarted: ${summary}`);
    const dead = trials.filter((t) => deadPids.includes(t.userAttrs.pid as number) && t.state !== "COMPLETE");
    assert.deepEqual(dead.map((t) => t.state), ["FAIL", "FAIL"], `the two killed trials end FAIL: ${summary}`);
    assert.equal(byState(trials, "RUNNING").length, 0);
    setup.close();
  });

  test(`${backend.name}: a trial failed as stale by another worker while it ran keeps FAIL; its late result is dropped without error`, options, async () => {
    assertAvailable(backend);
    const url = backend.freshUrl();
    // Heartbeats every 10 s but a 0.05 s grace period: each worker's running trial looks dead to the other.
    const settings = { heartbeatIntervalS: 10, gracePeriodS: 0.05 };
    const slowStorage = new RdbStorage(url, settings);
    const fastStorage = new RdbStorage(url, settings);
    const slow = createStudy({ name: "stale", storage: slowStorage, sampler: new RandomSampler({ seed: 1 }), verbosity: 0 });
    const fast = loadStudy({ name: "stale", storage: fastStorage, sampler: new RandomSampler({ seed: 2 }), verbosity: 0 });
    const slowRun = slow.optimize(async (t) => {
      const x = t.suggestFloat("x", 0, 1);
      await new Promise((r) => setTimeout(r, 400));
      return x;
    }, { nTrials: 1 });
    await new Promise((r) => setTimeout(r, 200));
    await fast.optimize((t) => t.suggestFloat("x", 0, 1), { nTrials: 1 });
    await slowRun;
    const trials = slow.trials;
    assert.deepEqual(trials.map((t) => [t.number, t.state]), [[0, "FAIL"], [1, "COMPLETE"]]);
    assert.match(String(trials[0].systemAttrs.fail_reason), /heartbeat/);
    slowStorage.close();
    fastStorage.close();
  });

  test(`${backend.name}: a seeded TPE study resumed half-way proposes the same trials as an uninterrupted one`, options, async () => {
    assertAvailable(backend);
    const objective = (t: Trial): number =>
      (t.suggestFloat("x", -3, 3) - 1) ** 2 + (t.suggestInt("n", 1, 9) - 4) ** 2 / 10 + (t.suggestCategorical("c", ["a", "b"]) === "a" ? 0 : 0.5);
    const whole = createStudy({ sampler: new TpeSampler({ seed: 5 }), verbosity: 0 });
    await whole.optimize(objective, { nTrials: 24 });

    const url = backend.freshUrl();
    const first = new RdbStorage(url);
    await createStudy({ name: "halves", storage: first, sampler: new TpeSampler({ seed: 5 }), verbosity: 0 }).optimize(objective, { nTrials: 12 });
    first.close();
    const second = new RdbStorage(url);
    const resumed = createStudy({ name: "halves", storage: second, loadIfExists: true, sampler: new TpeSampler({ seed: 5 }), verbosity: 0 });
    await resumed.optimize(objective, { nTrials: 12 });
    assert.deepEqual(resumed.trials.map((t) => t.params), whole.trials.map((t) => t.params));
    second.close();
  });
}

test("sqlite: a database in lib/tune's old schema is migrated to Optuna's on open, trials intact", async () => {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "tune-legacy-")), "old.db");
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const Database = require("better-sqlite3") as new (file: string) => { exec(sql: string): void; close(): void };
  const old = new Database(file);
  old.exec(`
    CREATE TABLE studies (study_id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL UNIQUE, direction TEXT NOT NULL, created_at INTEGER NOT NULL);
    CREATE TABLE trials (trial_id INTEGER PRIMARY KEY AUTOINCREMENT, study_id INTEGER NOT NULL, number INTEGER NOT NULL, state TEXT NOT NULL,
      value REAL, datetime_start INTEGER, datetime_complete INTEGER, heartbeat INTEGER, UNIQUE (study_id, number));
    CREATE TABLE trial_params (trial_id INTEGER NOT NULL, name TEXT NOT NULL, value REAL NOT NULL, distribution TEXT NOT NULL, PRIMARY KEY (trial_id, name));
    CREATE TABLE trial_intermediate_values (trial_id INTEGER NOT NULL, step INTEGER NOT NULL, value REAL, PRIMARY KEY (trial_id, step));
    CREATE TABLE trial_attrs (trial_id INTEGER NOT NULL, kind TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (trial_id, kind, key));
    CREATE INDEX trials_by_study ON trials (study_id, number);
    INSERT INTO studies VALUES (1, 'old', 'maximize', 1700000000000);
    INSERT INTO trials VALUES (1, 1, 0, 'COMPLETE', 0.75, 1700000000000, 1700000001500, NULL), (2, 1, 1, 'PRUNED', NULL, 1700000002000, 1700000003000, NULL);
    INSERT INTO trial_params VALUES (1, 'dropout', 0.3, '{"type":"float","low":0.1,"high":0.6,"log":false,"step":null}'),
      (1, 'kind', 1, '{"type":"categorical","choices":["a","b"]}'), (2, 'dropout', 0.5, '{"type":"float","low":0.1,"high":0.6,"log":false,"step":null}');
    INSERT INTO trial_intermediate_values VALUES (1, 0, 0.5), (1, 1, 0.75), (2, 0, 0.1);
    INSERT INTO trial_attrs VALUES (1, 'user', 'run', '"r1"'), (2, 'system', 'fail_reason', '"x"');
  `);
  old.close();
  const study = loadStudy({ name: "old", storage: file, verbosity: 0 });
  assert.equal(study.direction, "maximize");
  assert.deepEqual(
    study.trials.map((t) => [t.number, t.state, t.value, t.params, t.intermediateValues, t.userAttrs, t.duration]),
    [
      [0, "COMPLETE", 0.75, { dropout: 0.3, kind: "b" }, { 0: 0.5, 1: 0.75 }, { run: "r1" }, 1500],
      [1, "PRUNED", null, { dropout: 0.5 }, { 0: 0.1 }, {}, 1000],
    ],
  );
  await study.optimize((t) => t.suggestFloat("dropout", 0.1, 0.6), { nTrials: 1 });
  assert.equal(study.trials.length, 3);
  (study.storage as RdbStorage).close();
});

test("sqlite: a schema revision newer than Optuna 3.1's is refused with a message naming it", () => {
  const url = BACKENDS[0].freshUrl();
  const storage = new RdbStorage(url);
  storage.connection.query("UPDATE alembic_version SET version_num = 'v3.2.0.a'");
  storage.close();
  assert.throws(() => new RdbStorage(url), /revision v3\.2\.0\.a, written by an Optuna newer than 3\.1/);
});
