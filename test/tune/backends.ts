/**
 * The databases the storage tests run on: SQLite always; PostgreSQL when TUNE_POSTGRES_URL names a server where the
 * role may create databases (.ci/run starts a throw-away cluster, see scripts/postgres-temp.sh). Each test gets a
 * database of its own. Under CI=true a missing PostgreSQL (or Python Optuna, for the round-trip tests) fails the
 * tests that need it; elsewhere they are skipped with the reason printed.
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { PostgresConnection } from "../../lib/tune/storage/postgres";

export interface Backend {
  name: "sqlite" | "postgresql";
  /** Why the tests on this backend cannot run here (undefined: they run). */
  unavailable?: string;
  /** A new, empty database. */
  freshUrl(): string;
}

const underCi = process.env.CI === "true";

function sqliteBackend(): Backend {
  return {
    name: "sqlite",
    freshUrl: () => `sqlite:///${path.join(fs.mkdtempSync(path.join(os.tmpdir(), "tune-db-")), "study.db")}`,
  };
}

function postgresBackend(): Backend {
  const admin = process.env.TUNE_POSTGRES_URL;
  if (!admin) {
    return {
      name: "postgresql",
      unavailable: "TUNE_POSTGRES_URL is not set (start a throw-away server with `bash scripts/postgres-temp.sh start /tmp/tune-pg` and export the URL it prints)",
      freshUrl: () => {
        throw new Error("no PostgreSQL");
      },
    };
  }
  let counter = 0;
  return {
    name: "postgresql",
    freshUrl: () => {
      const name = `tune_test_${process.pid}_${Date.now()}_${counter++}`;
      const connection = new PostgresConnection(admin);
      try {
        connection.query(`CREATE DATABASE ${name}`);
      } finally {
        connection.close();
      }
      const url = new URL(admin);
      url.pathname = `/${name}`;
      return url.toString();
    },
  };
}

export const BACKENDS: Backend[] = [sqliteBackend(), postgresBackend()];

/**
 * node:test options for a test on `backend`: skipped with the reason outside CI; under CI the test runs and fails
 * on `assertAvailable`.
 */
export function backendTestOptions(backend: Backend): { skip?: string } {
  if (backend.unavailable && !underCi) return { skip: `${backend.name}: ${backend.unavailable}` };
  return {};
}

export function assertAvailable(backend: Backend): void {
  if (backend.unavailable) throw new Error(`CI=true but ${backend.name} is not available: ${backend.unavailable}`);
}

/** Debian's Python with Optuna (python3-optuna), the reference for the round-trip tests. */
export const PYTHON = process.env.TUNE_PYTHON ?? "/usr/bin/python3";

export function pythonOptunaMissing(needsPostgres = false): string | undefined {
  try {
    execFileSync(PYTHON, ["-c", needsPostgres ? "import optuna, psycopg2" : "import optuna"], { stdio: "pipe" });
    return undefined;
  } catch {
    return `${PYTHON} cannot import optuna${needsPostgres ? " and psycopg2" : ""} (Debian: apt-get install python3-optuna${needsPostgres ? " python3-psycopg2" : ""})`;
  }
}
