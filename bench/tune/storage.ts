/**
 * Storage overhead per trial: `npx tsx bench/tune/storage.ts [--trials 200] [--postgres <url>]` (the URL defaults to
 * TUNE_POSTGRES_URL; without one, PostgreSQL is left out and the output says so).
 * The same trial — 5 parameters (float log, float step, int, int step, categorical), 3 reported steps, one user
 * attribute, random sampling so that the sampler costs next to nothing — runs `--trials` times in memory, in an
 * SQLite file and in a fresh PostgreSQL database; overhead per trial = (time with the database − time in memory) / N.
 * The same is measured for Optuna 3.1 (bench/tune/storage_ref.py, /usr/bin/python3, psycopg2 for PostgreSQL) in the
 * same run, right after ours. Prints one JSON object last.
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createStudy, RandomSampler, RdbStorage, type StudyStorage, type Trial } from "../../lib/tune";
import { PostgresConnection } from "../../lib/tune/storage/postgres";
import { option } from "./cli";

function objective(trial: Trial): number {
  const lr = trial.suggestFloat("lr", 1e-5, 1e-1, { log: true });
  const dropout = trial.suggestFloat("dropout", 0, 0.5, { step: 0.05 });
  const layers = trial.suggestInt("layers", 1, 8);
  const units = trial.suggestInt("units", 16, 256, { step: 16 });
  const activation = trial.suggestCategorical("activation", ["relu", "tanh", "gelu"]);
  const value = Math.log10(lr) + dropout + layers + units / 256 + activation.length;
  for (let step = 0; step < 3; step++) trial.report(value / (step + 1), step);
  trial.setUserAttr("units", units);
  return value;
}

async function timeStudy(storage: StudyStorage | undefined, trials: number): Promise<number> {
  const study = createStudy({ storage, sampler: new RandomSampler({ seed: 0 }), verbosity: 0 });
  const started = performance.now();
  await study.optimize(objective, { nTrials: trials });
  return (performance.now() - started) / trials;
}

function freshPostgres(admin: string): string {
  const name = `tune_bench_${process.pid}_${Date.now()}`;
  const c = new PostgresConnection(admin);
  c.query(`CREATE DATABASE ${name}`);
  c.close();
  const url = new URL(admin);
  url.pathname = `/${name}`;
  return url.toString();
}

async function main(): Promise<void> {
  const trials = Number(option("trials", "200"));
  const pg = option("postgres", process.env.TUNE_POSTGRES_URL ?? "");
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tune-bench-"));
  const result: Record<string, unknown> = { trials, loadavg_before: os.loadavg().map((x) => Number(x.toFixed(2))) };

  // Ours: memory, SQLite, PostgreSQL; memory again at the end so that drift in machine load shows.
  const memory = await timeStudy(undefined, trials);
  const sqlite = new RdbStorage(`sqlite:///${path.join(dir, "ours.db")}`);
  const sqliteMs = await timeStudy(sqlite, trials);
  sqlite.close();
  let pgMs: number | null = null;
  if (pg) {
    const storage = new RdbStorage(freshPostgres(pg));
    pgMs = await timeStudy(storage, trials);
    storage.close();
  }
  const memoryAfter = await timeStudy(undefined, trials);
  const base = (memory + memoryAfter) / 2;
  result.ours = {
    memory_ms_per_trial: round(base),
    sqlite_overhead_ms: round(sqliteMs - base),
    postgresql_overhead_ms: pgMs === null ? null : round(pgMs - base),
  };

  try {
    const args = [path.join(__dirname, "storage_ref.py"), "--trials", String(trials), "--sqlite", `sqlite:///${path.join(dir, "optuna.db")}`];
    if (pg) args.push("--postgres", freshPostgres(pg));
    const out = execFileSync(process.env.TUNE_PYTHON ?? "/usr/bin/python3", args, { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
    result.optuna = JSON.parse(out.trim().split("\n").pop() as string);
  } catch (error) {
    result.optuna = `not measured: ${(error as Error).message.split("\n")[0]}`;
  }
  if (!pg) result.postgresql = "not measured: pass --postgres <url> or set TUNE_POSTGRES_URL (bash scripts/postgres-temp.sh start <dir>)";
  result.loadavg_after = os.loadavg().map((x) => Number(x.toFixed(2)));
  fs.rmSync(dir, { recursive: true, force: true });
  console.log(JSON.stringify(result));
}

function round(x: number): number {
  return Number(x.toFixed(2));
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
