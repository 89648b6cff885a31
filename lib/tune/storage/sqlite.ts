import type { Distribution } from "../distributions";
import type { FrozenTrial, JsonValue, StudyDirection, TrialState } from "../types";
import { freezeRecord } from "./frozen";
import type { StudyStorage, StudySummary, TrialRecord } from "./types";

/** The small part of better-sqlite3's API used here (the package ships no types). */
interface SqliteStatement {
  run(...params: unknown[]): { changes: number; lastInsertRowid: number | bigint };
  get(...params: unknown[]): Record<string, unknown> | undefined;
  all(...params: unknown[]): Record<string, unknown>[];
}
interface SqliteDatabase {
  prepare(sql: string): SqliteStatement;
  exec(sql: string): void;
  pragma(sql: string): unknown;
  transaction<A extends unknown[], R>(fn: (...args: A) => R): { (...args: A): R; immediate(...args: A): R };
  close(): void;
}
type SqliteConstructor = new (file: string, options?: { timeout?: number }) => SqliteDatabase;

export interface SqliteStorageOptions {
  /**
   * When set, a running trial records a heartbeat at least this often (seconds), and
   * `failStaleTrials` (run when a study starts optimizing) marks RUNNING trials whose last
   * heartbeat is older than `gracePeriodS` as FAIL: their process died (kill -9, crash, power cut).
   * Off by default (like Optuna's RDBStorage): a killed trial then stays visible as RUNNING.
   * Heartbeats come from a timer, which runs while an async objective awaits, and from every
   * `trial.report()`: a synchronous objective that computes longer than the grace period without
   * reporting looks dead to other processes, so pick the grace period accordingly.
   */
  heartbeatIntervalS?: number;
  /** Default: 2 × heartbeatIntervalS. */
  gracePeriodS?: number;
  /** How long a writer waits for another process's lock before failing (ms). Default 30 s. */
  busyTimeoutMs?: number;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS studies (
  study_id   INTEGER PRIMARY KEY AUTOINCREMENT,
  name       TEXT NOT NULL UNIQUE,
  direction  TEXT NOT NULL CHECK (direction IN ('minimize', 'maximize')),
  created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS trials (
  trial_id          INTEGER PRIMARY KEY AUTOINCREMENT,
  study_id          INTEGER NOT NULL REFERENCES studies(study_id) ON DELETE CASCADE,
  number            INTEGER NOT NULL,
  state             TEXT NOT NULL CHECK (state IN ('RUNNING', 'COMPLETE', 'PRUNED', 'FAIL', 'WAITING')),
  value             REAL,
  datetime_start    INTEGER,
  datetime_complete INTEGER,
  heartbeat         INTEGER,
  UNIQUE (study_id, number)
);
CREATE TABLE IF NOT EXISTS trial_params (
  trial_id     INTEGER NOT NULL REFERENCES trials(trial_id) ON DELETE CASCADE,
  name         TEXT NOT NULL,
  value        REAL NOT NULL,
  distribution TEXT NOT NULL,
  PRIMARY KEY (trial_id, name)
);
CREATE TABLE IF NOT EXISTS trial_intermediate_values (
  trial_id INTEGER NOT NULL REFERENCES trials(trial_id) ON DELETE CASCADE,
  step     INTEGER NOT NULL,
  value    REAL,
  PRIMARY KEY (trial_id, step)
);
CREATE TABLE IF NOT EXISTS trial_attrs (
  trial_id INTEGER NOT NULL REFERENCES trials(trial_id) ON DELETE CASCADE,
  kind     TEXT NOT NULL CHECK (kind IN ('user', 'system')),
  key      TEXT NOT NULL,
  value    TEXT NOT NULL,
  PRIMARY KEY (trial_id, kind, key)
);
CREATE INDEX IF NOT EXISTS trials_by_study ON trials (study_id, number);
`;

/**
 * Studies in one SQLite database file (better-sqlite3), so that a study survives its process
 * and several processes can optimize the same study at once.
 * - WAL journal: readers never block the writer; every write is committed before it returns,
 *   so a process killed at any point loses at most the trial it was running.
 * - Trial numbers (and enqueued trials) are claimed inside BEGIN IMMEDIATE transactions,
 *   so two processes never get the same number or run the same enqueued trial.
 */
export class SqliteStorage implements StudyStorage {
  readonly file: string;
  readonly heartbeatIntervalMs: number | null;
  private readonly gracePeriodMs: number | null;
  private readonly db: SqliteDatabase;

  constructor(file: string, options: SqliteStorageOptions = {}) {
    this.file = file.replace(/^sqlite:\/\/\//, "");
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const Database = require("better-sqlite3") as SqliteConstructor;
    try {
      this.db = new Database(this.file, { timeout: options.busyTimeoutMs ?? 30_000 });
    } catch (error) {
      throw new Error(`SqliteStorage: cannot open database file ${this.file}: ${(error as Error).message}`);
    }
    this.db.pragma("journal_mode = WAL");
    this.db.pragma("synchronous = NORMAL");
    this.db.pragma("foreign_keys = ON");
    this.db.transaction(() => this.db.exec(SCHEMA)).immediate();
    this.heartbeatIntervalMs = options.heartbeatIntervalS === undefined ? null : options.heartbeatIntervalS * 1000;
    this.gracePeriodMs =
      this.heartbeatIntervalMs === null ? null : (options.gracePeriodS ?? 2 * (options.heartbeatIntervalS as number)) * 1000;
  }

  createStudy(name: string, direction: StudyDirection, loadIfExists: boolean): StudySummary {
    return this.db
      .transaction(() => {
        const existing = this.db.prepare("SELECT study_id, name, direction FROM studies WHERE name = ?").get(name);
        if (existing) {
          if (!loadIfExists) throw new Error(`study "${name}" already exists in ${this.file} (pass loadIfExists: true to resume it)`);
          return rowToSummary(existing);
        }
        const info = this.db.prepare("INSERT INTO studies (name, direction, created_at) VALUES (?, ?, ?)").run(name, direction, Date.now());
        return { studyId: Number(info.lastInsertRowid), name, direction };
      })
      .immediate();
  }

  getStudy(name: string): StudySummary {
    const row = this.db.prepare("SELECT study_id, name, direction FROM studies WHERE name = ?").get(name);
    if (!row) throw new Error(`study "${name}" does not exist in ${this.file}`);
    return rowToSummary(row);
  }

  listStudies(): StudySummary[] {
    return this.db.prepare("SELECT study_id, name, direction FROM studies ORDER BY study_id").all().map(rowToSummary);
  }

  deleteStudy(name: string): void {
    const info = this.db.prepare("DELETE FROM studies WHERE name = ?").run(name);
    if (info.changes === 0) throw new Error(`study "${name}" does not exist in ${this.file}`);
  }

  private insertTrial(studyId: number, state: TrialState): number {
    const row = this.db.prepare("SELECT COALESCE(MAX(number) + 1, 0) AS next FROM trials WHERE study_id = ?").get(studyId) as { next: number };
    const now = Date.now();
    const start = state === "RUNNING" ? now : null;
    const heartbeat = state === "RUNNING" && this.heartbeatIntervalMs !== null ? now : null;
    const info = this.db
      .prepare("INSERT INTO trials (study_id, number, state, datetime_start, heartbeat) VALUES (?, ?, ?, ?, ?)")
      .run(studyId, row.next, state, start, heartbeat);
    return Number(info.lastInsertRowid);
  }

  enqueueTrial(studyId: number, fixedParams: Record<string, JsonValue>): FrozenTrial {
    const trialId = this.db
      .transaction(() => {
        const id = this.insertTrial(studyId, "WAITING");
        this.db.prepare("INSERT INTO trial_attrs (trial_id, kind, key, value) VALUES (?, 'system', 'fixed_params', ?)").run(id, JSON.stringify(fixedParams));
        return id;
      })
      .immediate();
    return this.getTrial(trialId);
  }

  startTrial(studyId: number): FrozenTrial {
    const trialId = this.db
      .transaction(() => {
        const waiting = this.db
          .prepare("SELECT trial_id FROM trials WHERE study_id = ? AND state = 'WAITING' ORDER BY number LIMIT 1")
          .get(studyId) as { trial_id: number } | undefined;
        if (waiting) {
          const now = Date.now();
          this.db
            .prepare("UPDATE trials SET state = 'RUNNING', datetime_start = ?, heartbeat = ? WHERE trial_id = ?")
            .run(now, this.heartbeatIntervalMs === null ? null : now, waiting.trial_id);
          return waiting.trial_id;
        }
        return this.insertTrial(studyId, "RUNNING");
      })
      .immediate();
    return this.getTrial(trialId);
  }

  private assertRunning(trialId: number): void {
    const row = this.db.prepare("SELECT number, state FROM trials WHERE trial_id = ?").get(trialId) as { number: number; state: string } | undefined;
    if (!row) throw new Error(`trial id ${trialId} does not exist in ${this.file}`);
    if (row.state !== "RUNNING") throw new Error(`trial ${row.number} is ${row.state}, not RUNNING: it cannot be changed`);
  }

  private write(trialId: number, fn: () => void): void {
    this.db
      .transaction(() => {
        this.assertRunning(trialId);
        fn();
      })
      .immediate();
  }

  setTrialParam(trialId: number, name: string, distribution: Distribution, internalValue: number): void {
    this.write(trialId, () =>
      this.db
        .prepare("INSERT OR REPLACE INTO trial_params (trial_id, name, value, distribution) VALUES (?, ?, ?, ?)")
        .run(trialId, name, internalValue, JSON.stringify(distribution)),
    );
  }

  setIntermediateValue(trialId: number, step: number, value: number): void {
    this.write(trialId, () =>
      this.db.prepare("INSERT OR REPLACE INTO trial_intermediate_values (trial_id, step, value) VALUES (?, ?, ?)").run(trialId, step, value),
    );
  }

  setTrialUserAttr(trialId: number, key: string, value: JsonValue): void {
    this.setAttr(trialId, "user", key, value);
  }

  setTrialSystemAttr(trialId: number, key: string, value: JsonValue): void {
    this.setAttr(trialId, "system", key, value);
  }

  private setAttr(trialId: number, kind: "user" | "system", key: string, value: JsonValue): void {
    this.write(trialId, () =>
      this.db.prepare("INSERT OR REPLACE INTO trial_attrs (trial_id, kind, key, value) VALUES (?, ?, ?, ?)").run(trialId, kind, key, JSON.stringify(value)),
    );
  }

  finishTrial(trialId: number, state: "COMPLETE" | "PRUNED" | "FAIL", value: number | null): void {
    this.write(trialId, () =>
      this.db.prepare("UPDATE trials SET state = ?, value = ?, datetime_complete = ? WHERE trial_id = ?").run(state, value, Date.now(), trialId),
    );
  }

  recordHeartbeat(trialId: number): void {
    this.db.prepare("UPDATE trials SET heartbeat = ? WHERE trial_id = ? AND state = 'RUNNING'").run(Date.now(), trialId);
  }

  failStaleTrials(studyId: number): number[] {
    if (this.gracePeriodMs === null) return [];
    const limit = Date.now() - this.gracePeriodMs;
    return this.db
      .transaction(() => {
        const stale = this.db
          .prepare("SELECT trial_id, number FROM trials WHERE study_id = ? AND state = 'RUNNING' AND heartbeat IS NOT NULL AND heartbeat < ? ORDER BY number")
          .all(studyId, limit) as { trial_id: number; number: number }[];
        const update = this.db.prepare("UPDATE trials SET state = 'FAIL', datetime_complete = ? WHERE trial_id = ?");
        for (const t of stale) {
          update.run(Date.now(), t.trial_id);
          this.db
            .prepare("INSERT OR REPLACE INTO trial_attrs (trial_id, kind, key, value) VALUES (?, 'system', 'fail_reason', ?)")
            .run(t.trial_id, JSON.stringify(`no heartbeat for more than ${this.gracePeriodMs} ms (process died?)`));
        }
        return stale.map((t) => t.number);
      })
      .immediate();
  }

  getTrial(trialId: number): FrozenTrial {
    const row = this.db.prepare("SELECT * FROM trials WHERE trial_id = ?").get(trialId);
    if (!row) throw new Error(`trial id ${trialId} does not exist in ${this.file}`);
    return freezeRecord(this.readRecords([row])[0]);
  }

  getAllTrials(studyId: number, states?: readonly TrialState[]): FrozenTrial[] {
    // One read transaction, so the trials and their params are from the same moment.
    return this.db.transaction(() => {
      const rows = this.db.prepare("SELECT * FROM trials WHERE study_id = ? ORDER BY number").all(studyId);
      const records = this.readRecords(rows, studyId);
      return records.filter((r) => !states || states.includes(r.state)).map(freezeRecord);
    })();
  }

  private readRecords(rows: Record<string, unknown>[], studyId?: number): TrialRecord[] {
    const records = new Map<number, TrialRecord>();
    for (const row of rows) {
      const record: TrialRecord = {
        trialId: row.trial_id as number,
        number: row.number as number,
        state: row.state as TrialState,
        value: (row.value as number | null) ?? null,
        params: {},
        distributions: {},
        intermediate: {},
        userAttrs: {},
        systemAttrs: {},
        start: (row.datetime_start as number | null) ?? null,
        complete: (row.datetime_complete as number | null) ?? null,
        heartbeat: (row.heartbeat as number | null) ?? null,
      };
      records.set(record.trialId, record);
    }
    if (records.size === 0) return [];
    const scope =
      studyId === undefined
        ? { sql: "trial_id = ?", arg: [...records.keys()][0] }
        : { sql: "trial_id IN (SELECT trial_id FROM trials WHERE study_id = ?)", arg: studyId };
    for (const p of this.db.prepare(`SELECT trial_id, name, value, distribution FROM trial_params WHERE ${scope.sql}`).all(scope.arg)) {
      const record = records.get(p.trial_id as number);
      if (!record) continue;
      record.params[p.name as string] = p.value as number;
      record.distributions[p.name as string] = JSON.parse(p.distribution as string) as Distribution;
    }
    for (const v of this.db.prepare(`SELECT trial_id, step, value FROM trial_intermediate_values WHERE ${scope.sql}`).all(scope.arg)) {
      const record = records.get(v.trial_id as number);
      if (record) record.intermediate[v.step as number] = v.value === null ? NaN : (v.value as number);
    }
    for (const a of this.db.prepare(`SELECT trial_id, kind, key, value FROM trial_attrs WHERE ${scope.sql}`).all(scope.arg)) {
      const record = records.get(a.trial_id as number);
      if (!record) continue;
      const target = a.kind === "user" ? record.userAttrs : record.systemAttrs;
      target[a.key as string] = JSON.parse(a.value as string) as JsonValue;
    }
    return [...records.values()];
  }

  close(): void {
    this.db.close();
  }
}

function rowToSummary(row: Record<string, unknown>): StudySummary {
  return { studyId: row.study_id as number, name: row.name as string, direction: row.direction as StudyDirection };
}
