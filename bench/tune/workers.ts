/**
 * Shared-study targets (issue 18): `npx tsx bench/tune/workers.ts [--storage <url>] [--workers 4] [--trials 25]
 * [--trial-seconds 0.3] [--objective branin]`. The storage defaults to a fresh database on TUNE_POSTGRES_URL.
 * 1. `--workers` tune:worker processes × `--trials` trials on one study: the study must hold exactly workers × trials
 *    finished trials numbered 0 … n−1 once each, and every trial's worker must have seen (through the storage its
 *    sampler reads) every trial that finished anywhere before the trial started.
 * 2. The same with 2 workers killed (SIGKILL) in the middle of a trial and restarted for the trials they owed:
 *    the killed trials must end FAIL (heartbeats, fail_stale_trials) and the study must reach workers × trials COMPLETE.
 * Prints one JSON object last with both checks and their timings.
 */
import { spawn, type ChildProcess } from "node:child_process";
import os from "node:os";
import path from "node:path";
import { RdbStorage, type FrozenTrial } from "../../lib/tune";
import { PostgresConnection } from "../../lib/tune/storage/postgres";
import { option } from "./cli";

const WORKER = path.join(__dirname, "..", "..", "scripts", "tune-worker.ts");

interface Worker {
  child: ChildProcess;
  done: Promise<{ code: number | null; signal: string | null; last: string }>;
}

function startWorker(url: string, study: string, trials: number, seed: number): Worker {
  const args = ["--import", "tsx", WORKER, "--study", study, "--storage", url, "--trials", String(trials), "--objective", option("objective", "branin"),
    "--trial-seconds", option("trial-seconds", "0.3"), "--heartbeat", "1", "--seed", String(seed)];
  const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout?.on("data", (d) => (out += d));
  child.stderr?.on("data", (d) => (out += d));
  const done = new Promise<{ code: number | null; signal: string | null; last: string }>((resolve) =>
    child.on("exit", (code, signal) => resolve({ code, signal, last: out.trim().split("\n").pop() ?? "" })),
  );
  return { child, done };
}

function freshPostgres(admin: string): string {
  const name = `tune_workers_${process.pid}_${Date.now()}`;
  const c = new PostgresConnection(admin);
  c.query(`CREATE DATABASE ${name}`);
  c.close();
  const url = new URL(admin);
  url.pathname = `/${name}`;
  return url.toString();
}

const workerOf = (t: FrozenTrial): string => String(t.userAttrs.worker);

/** Every trial saw at least the trials that had finished before it started. */
function visibility(trials: FrozenTrial[]): { ok: boolean; trials_checked: number; seen_from_other_workers_min_at_end: number } {
  let ok = true;
  for (const t of trials) {
    const start = t.datetimeStart?.getTime() ?? 0;
    const finishedBefore = trials.filter((o) => o.datetimeComplete !== null && o.datetimeComplete.getTime() < start).length;
    if (typeof t.userAttrs.finished_seen !== "number" || t.userAttrs.finished_seen < finishedBefore) ok = false;
  }
  const last = [...trials].sort((a, b) => (a.datetimeStart?.getTime() ?? 0) - (b.datetimeStart?.getTime() ?? 0)).slice(-4);
  const others = last.map((t) => trials.filter((o) => workerOf(o) !== workerOf(t) && o.datetimeComplete !== null && o.datetimeComplete < (t.datetimeStart as Date)).length);
  return { ok, trials_checked: trials.length, seen_from_other_workers_min_at_end: Math.min(...others) };
}

function numbering(trials: FrozenTrial[]): boolean {
  return trials.every((t, i) => t.number === i);
}

async function main(): Promise<void> {
  const workers = Number(option("workers", "4"));
  const trials = Number(option("trials", "25"));
  const admin = process.env.TUNE_POSTGRES_URL;
  const given = option("storage", "");
  if (!given && !admin) throw new Error("pass --storage <url> or set TUNE_POSTGRES_URL (bash scripts/postgres-temp.sh start <dir>)");
  const url = given || freshPostgres(admin as string);
  const storage = new RdbStorage(url);
  const result: Record<string, unknown> = { storage: storage.location.replace(/\/[^/]*$/, "/…"), workers, trials_per_worker: trials, loadavg_before: os.loadavg().map((x) => Number(x.toFixed(2))) };

  // 1. workers × trials, racing.
  let started = Date.now();
  const runs = await Promise.all(Array.from({ length: workers }, (_, i) => startWorker(url, "race", trials, i)).map((w) => w.done));
  const race = storage.getAllTrials(storage.getStudy("race").studyId);
  result.race = {
    seconds: (Date.now() - started) / 1000,
    worker_exit_codes: runs.map((r) => r.code),
    worker_summaries: runs.map((r) => JSON.parse(r.last)),
    finished: race.filter((t) => t.state === "COMPLETE" || t.state === "PRUNED" || t.state === "FAIL").length,
    complete: race.filter((t) => t.state === "COMPLETE").length,
    numbers_0_to_n_once: numbering(race),
    per_worker: [...new Set(race.map(workerOf))].map((w) => race.filter((t) => workerOf(t) === w).length),
    visibility: visibility(race),
  };

  // 2. The same with two workers killed mid-trial and restarted.
  started = Date.now();
  const all = Array.from({ length: workers }, (_, i) => startWorker(url, "crash", trials, 100 + i));
  const doomed = all.slice(0, 2);
  const killedTrials: number[] = [];
  const owed: number[] = [];
  for (const w of doomed) {
    const me = (t: FrozenTrial): boolean => workerOf(t).endsWith(`:${w.child.pid}`);
    // Mid-trial: after a few finished trials of its own, while one of its trials is RUNNING.
    for (;;) {
      const mine = (() => {
        try {
          return storage.getAllTrials(storage.getStudy("crash").studyId).filter(me);
        } catch {
          return [];
        }
      })();
      const running = mine.find((t) => t.state === "RUNNING");
      if (mine.filter((t) => t.state === "COMPLETE").length >= 3 && running) {
        w.child.kill("SIGKILL");
        await w.done;
        killedTrials.push(running.number);
        owed.push(trials - storage.getAllTrials(storage.getStudy("crash").studyId).filter((t) => me(t) && t.state === "COMPLETE").length);
        break;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  // Restarted after the grace period (2 × 1 s heartbeat), for the trials they owed.
  await new Promise((r) => setTimeout(r, 2500));
  const restarted = owed.map((n, i) => startWorker(url, "crash", n, 200 + i));
  const finished = await Promise.all([...all.slice(2), ...restarted].map((w) => w.done));
  const crash = storage.getAllTrials(storage.getStudy("crash").studyId);
  result.kill9 = {
    seconds: (Date.now() - started) / 1000,
    killed_trial_numbers: killedTrials,
    killed_trial_states: killedTrials.map((n) => crash[n]?.state),
    restarted_for_trials: owed,
    worker_exit_codes: finished.map((r) => r.code),
    complete: crash.filter((t) => t.state === "COMPLETE").length,
    fail: crash.filter((t) => t.state === "FAIL").length,
    running_left: crash.filter((t) => t.state === "RUNNING").length,
    numbers_0_to_n_once: numbering(crash),
    visibility: visibility(crash.filter((t) => t.state === "COMPLETE")),
  };
  result.loadavg_after = os.loadavg().map((x) => Number(x.toFixed(2)));
  storage.close();
  console.log(JSON.stringify(result));
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
