import { checkCompatible, type Distribution } from "../distributions";
import { TrialNotRunningError, type FrozenTrial, type JsonValue, type StudyDirection, type TrialState } from "../types";
import { freezeRecord } from "./frozen";
import {
  ALEMBIC_HEAD,
  createStatements,
  directionFromOptuna,
  directionToOptuna,
  distributionFromJson,
  distributionToJson,
  ENUMS,
  formatDatetime,
  LIBRARY_VERSION,
  OLDER_REVISIONS,
  parseDatetime,
  parsePythonJson,
  pythonJson,
  SCHEMA_VERSION,
  stateFromOptuna,
  TABLE_NAMES,
  valueFromStored,
  valueToStored,
} from "./optuna-schema";
import { PostgresConnection, redactUrl } from "./postgres";
import { SqlError, SqliteConnection, type SqlConnection, type SqlQuery, type SqlRow } from "./sql";
import type { StudyStorage, StudySummary, TrialRecord } from "./types";

export interface RdbStorageOptions {
  /**
   * When set, a running trial records a heartbeat this often (seconds), and `failStaleTrials` (run before every new
   * trial, as Optuna's optimize does) marks RUNNING trials whose last heartbeat is older than `gracePeriodS` as FAIL:
   * their process died (kill -9, crash, power cut). Off by default, as in Optuna: a killed trial then stays RUNNING.
   * On PostgreSQL heartbeats come from the connection's worker thread, so a long synchronous computation does not
   * stop them; on SQLite they come from a timer in this thread and from every `trial.report()`, so pick a grace
   * period longer than the longest stretch of synchronous work between reports.
   */
  heartbeatIntervalS?: number;
  /** Default: 2 × heartbeatIntervalS (Optuna's default). */
  gracePeriodS?: number;
  /** SQLite: how long a writer waits for another process's lock before failing (ms). Default 30 s. */
  busyTimeoutMs?: number;
  /** PostgreSQL: how long one call may wait for the server (ms). Default 120 s. */
  timeoutMs?: number;
  /** PostgreSQL: wait for the disk at every commit (see PostgresConnectionOptions.durableCommits). Default false. */
  durableCommits?: boolean;
}

/** Opens the database a storage URL names: `postgresql://…` (also `postgres://`, `postgresql+psycopg2://`), or `sqlite:///path` / a file path. */
export function connect(url: string, options: Pick<RdbStorageOptions, "busyTimeoutMs" | "timeoutMs" | "durableCommits"> = {}): SqlConnection {
  if (/^postgres(ql)?(\+[a-z0-9_]+)?:\/\//i.test(url)) return new PostgresConnection(url, options);
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(url);
  if (scheme && scheme[1].toLowerCase() !== "sqlite") {
    throw new Error(`storage ${redactUrl(url)}: lib/tune stores studies in SQLite (sqlite:///path or a file path) or PostgreSQL (postgresql://user@host/db), not ${scheme[1]}`);
  }
  // SQLAlchemy's form: sqlite:///relative.db, sqlite:////absolute/path.db
  return new SqliteConnection(url.replace(/^sqlite:\/\/\//i, ""), options.busyTimeoutMs);
}

/** Taken by every process that creates or checks the schema on PostgreSQL, so that first opens do not race. */
const SCHEMA_LOCK = 0x6f70746e;

/** Finished trials never change again (only RUNNING trials can be written): each process reads them once. */
interface StudyCache {
  finished: Map<number, FrozenTrial>;
  /** Trials not finished when last read: read again every time. */
  unfinished: Set<number>;
  /** Largest trial_id read so far: newer ones are read every time. */
  maxSeenId: number;
}

/**
 * Studies in Optuna's RDB schema (Optuna 3.1: tables, columns, enums, version rows, JSON encodings), on SQLite or
 * PostgreSQL, so that Optuna (`optuna.load_study(study_name=..., storage=...)`) and optuna-dashboard read them, and
 * lib/tune continues studies Optuna wrote. Guarantees, as Optuna's RDBStorage:
 * - a trial number is the count of the study's earlier trials, taken while holding the study's lock (SQLite: the
 *   database write lock of BEGIN IMMEDIATE; PostgreSQL: the study row FOR UPDATE), so numbers are unique under races;
 * - an enqueued (WAITING) trial is claimed by exactly one process (its row locked, skipped by the others);
 * - only RUNNING trials can be written, every write is committed before the call returns: a process killed at any
 *   point loses at most its running trial, which heartbeats + `failStaleTrials` then mark FAIL.
 */
export class RdbStorage implements StudyStorage {
  readonly connection: SqlConnection;
  readonly heartbeatIntervalMs: number | null;
  private readonly gracePeriodS: number | null;
  private readonly caches = new Map<number, StudyCache>();
  /** Per study: the distribution each parameter name has (from reads and writes), for Optuna's compatibility check. */
  private readonly distributions = new Map<number, Map<string, Distribution>>();
  private readonly trialStudies = new Map<number, number>();
  private readonly pending = new Map<number, SqlQuery[]>();
  private flushSoon: NodeJS.Immediate | null = null;
  private readonly flushErrors = new Map<number, Error>();
  /** Trials this process finished (writes to them fail at once, as in memory). */
  private readonly finishedHere = new Set<number>();

  /** `url`: see `connect`; or an open connection. */
  constructor(url: string | SqlConnection, options: RdbStorageOptions = {}) {
    if (options.heartbeatIntervalS !== undefined && !(options.heartbeatIntervalS > 0)) throw new Error(`heartbeatIntervalS must be > 0, got ${options.heartbeatIntervalS}`);
    if (options.gracePeriodS !== undefined && !(options.gracePeriodS > 0)) throw new Error(`gracePeriodS must be > 0, got ${options.gracePeriodS}`);
    this.connection = typeof url === "string" ? connect(url, options) : url;
    this.heartbeatIntervalMs = options.heartbeatIntervalS === undefined ? null : options.heartbeatIntervalS * 1000;
    this.gracePeriodS = options.heartbeatIntervalS === undefined ? null : options.gracePeriodS ?? 2 * options.heartbeatIntervalS;
    try {
      this.ensureSchema();
    } catch (error) {
      this.connection.close();
      throw error;
    }
  }

  get location(): string {
    return this.connection.location;
  }

  private get pg(): boolean {
    return this.connection.dialect === "postgresql";
  }

  private q(sql: string, params: readonly unknown[] = []): SqlRow[] {
    return this.connection.query(sql, params);
  }

  /** What Optuna's RDBStorage does on open: create missing tables, write or check version_info and alembic_version. */
  private ensureSchema(): void {
    this.connection.transaction(() => {
      if (this.pg) this.q("SELECT pg_advisory_xact_lock(?)", [SCHEMA_LOCK]);
      const tables = new Set<string>(
        this.q(this.pg ? "SELECT tablename AS name FROM pg_tables WHERE schemaname = current_schema()" : "SELECT name FROM sqlite_master WHERE type = 'table'").map((r) => String(r.name)),
      );
      if (tables.has("studies") && this.isLegacySchema()) {
        this.migrateLegacySchema();
        for (const table of TABLE_NAMES) tables.add(table);
      }
      const missing = new Set(TABLE_NAMES.filter((t) => !tables.has(t)));
      if (missing.size > 0) {
        const enums = this.pg
          ? new Set(this.q(`SELECT typname AS name FROM pg_type WHERE typname IN (${Object.keys(ENUMS).map(() => "?").join(", ")})`, Object.keys(ENUMS)).map((r) => String(r.name)))
          : new Set<string>();
        for (const statement of createStatements(this.connection.dialect, missing, enums)) this.q(statement);
      }
      const version = this.q("SELECT schema_version, library_version FROM version_info")[0];
      if (!version) this.q("INSERT INTO version_info (version_info_id, schema_version, library_version) VALUES (1, ?, ?)", [SCHEMA_VERSION, LIBRARY_VERSION]);
      const revision = this.q("SELECT version_num FROM alembic_version")[0]?.version_num as string | undefined;
      if (revision === undefined) {
        if (version && Number(version.schema_version) !== SCHEMA_VERSION) {
          throw new Error(`${this.location}: Optuna schema version ${version.schema_version} (written by Optuna ${version.library_version}) predates alembic; upgrade it with Optuna first: optuna storage upgrade --storage <url>`);
        }
        this.q("INSERT INTO alembic_version (version_num) VALUES (?)", [ALEMBIC_HEAD]);
      } else if (revision !== ALEMBIC_HEAD) {
        if (OLDER_REVISIONS.includes(revision)) {
          throw new Error(`${this.location}: the Optuna schema is at revision ${revision}, older than Optuna 3.1's ${ALEMBIC_HEAD}; upgrade it with Optuna first: optuna storage upgrade --storage <url>`);
        }
        throw new Error(`${this.location}: the Optuna schema is at revision ${revision}, written by an Optuna newer than 3.1 (lib/tune reads and writes revision ${ALEMBIC_HEAD}); open it with Optuna 3.1, or start a new database`);
      }
    });
  }

  /** lib/tune's own schema before it moved to Optuna's: `studies` had `name` and `direction` columns. */
  private isLegacySchema(): boolean {
    if (this.pg) return false;
    const columns = this.q("SELECT name FROM pragma_table_info('studies')").map((r) => String(r.name));
    return columns.includes("direction") && !columns.includes("study_name");
  }

  /** Moves studies from lib/tune's old SQLite schema into Optuna's (same ids, numbers, values, params, attributes). */
  private migrateLegacySchema(): void {
    const studies = this.q("SELECT study_id, name, direction FROM studies ORDER BY study_id");
    const trials = this.q("SELECT trial_id, study_id, number, state, value, datetime_start, datetime_complete, heartbeat FROM trials ORDER BY trial_id");
    const params = this.q("SELECT trial_id, name, value, distribution FROM trial_params ORDER BY trial_id, rowid");
    const intermediate = this.q("SELECT trial_id, step, value FROM trial_intermediate_values ORDER BY trial_id, step");
    const attrs = this.q("SELECT trial_id, kind, key, value FROM trial_attrs ORDER BY trial_id, rowid");
    for (const table of ["trial_attrs", "trial_intermediate_values", "trial_params", "trials", "studies"]) this.q(`DROP TABLE ${table}`);
    for (const statement of createStatements("sqlite", new Set(TABLE_NAMES), new Set())) this.q(statement);
    for (const s of studies) {
      this.q("INSERT INTO studies (study_id, study_name) VALUES (?, ?)", [s.study_id, s.name]);
      this.q("INSERT INTO study_directions (direction, study_id, objective) VALUES (?, ?, 0)", [directionToOptuna(s.direction as StudyDirection), s.study_id]);
    }
    const ms = (v: unknown): string | null => (v === null ? null : formatDatetime(Number(v)));
    for (const t of trials) {
      this.q("INSERT INTO trials (trial_id, number, study_id, state, datetime_start, datetime_complete) VALUES (?, ?, ?, ?, ?, ?)", [
        t.trial_id, t.number, t.study_id, t.state, ms(t.datetime_start), ms(t.datetime_complete),
      ]);
      if (t.value !== null) this.q("INSERT INTO trial_values (trial_id, objective, value, value_type) VALUES (?, 0, ?, ?)", [t.trial_id, ...valueToStored(Number(t.value))]);
      if (t.heartbeat !== null && t.state === "RUNNING") {
        this.q("INSERT INTO trial_heartbeats (trial_id, heartbeat) VALUES (?, ?)", [t.trial_id, new Date(Number(t.heartbeat)).toISOString().replace("T", " ").replace("Z", "000")]);
      }
    }
    for (const p of params) {
      const distribution = distributionFromJson(String(p.distribution), `trial id ${p.trial_id}, parameter ${p.name}`);
      this.q("INSERT INTO trial_params (trial_id, param_name, param_value, distribution_json) VALUES (?, ?, ?, ?)", [p.trial_id, p.name, p.value, distributionToJson(distribution)]);
    }
    for (const v of intermediate) {
      this.q("INSERT INTO trial_intermediate_values (trial_id, step, intermediate_value, intermediate_value_type) VALUES (?, ?, ?, ?)", [
        v.trial_id, v.step, ...valueToStored(v.value === null ? NaN : Number(v.value)),
      ]);
    }
    for (const a of attrs) {
      const table = a.kind === "user" ? "trial_user_attributes" : "trial_system_attributes";
      this.q(`INSERT INTO ${table} (trial_id, "key", value_json) VALUES (?, ?, ?)`, [a.trial_id, a.key, pythonJson(JSON.parse(String(a.value)))]);
    }
  }

  // ---- studies ----

  createStudy(name: string, direction: StudyDirection, loadIfExists: boolean): StudySummary {
    try {
      return this.connection.transaction(() => {
        const existing = this.q("SELECT study_id FROM studies WHERE study_name = ?", [name])[0];
        if (existing) {
          if (!loadIfExists) throw new Error(`study "${name}" already exists in ${this.location} (pass loadIfExists: true to resume it)`);
          return this.summary(Number(existing.study_id), name);
        }
        const studyId = Number(this.q("INSERT INTO studies (study_name) VALUES (?) RETURNING study_id", [name])[0].study_id);
        this.q("INSERT INTO study_directions (direction, study_id, objective) VALUES (?, ?, 0)", [directionToOptuna(direction), studyId]);
        return { studyId, name, direction };
      });
    } catch (error) {
      // Another process created it between our check and our insert (PostgreSQL: unique violation).
      if (loadIfExists && isUniqueViolation(error)) return this.getStudy(name);
      throw error;
    }
  }

  private summary(studyId: number, name: string): StudySummary {
    const directions = this.q("SELECT direction FROM study_directions WHERE study_id = ? ORDER BY objective", [studyId]);
    if (directions.length !== 1) throw new Error(`study "${name}" in ${this.location} has ${directions.length} objectives; lib/tune runs single-objective studies`);
    return { studyId, name, direction: directionFromOptuna(String(directions[0].direction), name) };
  }

  getStudy(name: string): StudySummary {
    const row = this.q("SELECT study_id FROM studies WHERE study_name = ?", [name])[0];
    if (!row) throw new Error(`study "${name}" does not exist in ${this.location}`);
    return this.summary(Number(row.study_id), name);
  }

  listStudies(): StudySummary[] {
    const rows = this.q(
      "SELECT s.study_id, s.study_name, d.direction FROM studies s JOIN study_directions d ON d.study_id = s.study_id " +
        "WHERE (SELECT COUNT(*) FROM study_directions o WHERE o.study_id = s.study_id) = 1 ORDER BY s.study_id",
    );
    return rows.map((r) => ({ studyId: Number(r.study_id), name: String(r.study_name), direction: directionFromOptuna(String(r.direction), String(r.study_name)) }));
  }

  deleteStudy(name: string): void {
    this.flushAll();
    const { studyId } = this.getStudy(name);
    this.connection.transaction(() => {
      const ofStudy = "trial_id IN (SELECT trial_id FROM trials WHERE study_id = ?)";
      for (const table of ["trial_params", "trial_values", "trial_intermediate_values", "trial_user_attributes", "trial_system_attributes", "trial_heartbeats"]) {
        this.q(`DELETE FROM ${table} WHERE ${ofStudy}`, [studyId]);
      }
      for (const table of ["trials", "study_directions", "study_user_attributes", "study_system_attributes", "studies"]) {
        this.q(`DELETE FROM ${table} WHERE study_id = ?`, [studyId]);
      }
    });
    this.caches.delete(studyId);
    this.distributions.delete(studyId);
  }

  // ---- trials ----
  // Each write is one statement or one batch (a single round trip to PostgreSQL), guarded by `state = 'RUNNING'`
  // on the locked trial row: a trial that another process failed meanwhile is never written (TrialNotRunningError).

  private get nowSql(): string {
    // The database's clock, as Optuna's heartbeats (func.current_timestamp / func.now()); microseconds as SQLAlchemy writes them.
    return this.pg ? "LOCALTIMESTAMP" : "(strftime('%Y-%m-%d %H:%M:%f', 'now') || '000')";
  }

  private heartbeatQuery(trialId: number): SqlQuery {
    return {
      sql: `INSERT INTO trial_heartbeats (trial_id, heartbeat) VALUES (?, ${this.nowSql}) ON CONFLICT (trial_id) DO UPDATE SET heartbeat = excluded.heartbeat`,
      params: [trialId],
    };
  }

  /** Inside insertTrial's batch: the id of the trial it just inserted (the study's newest, under the study's lock). */
  private static readonly NEW_TRIAL = "(SELECT MAX(trial_id) FROM trials WHERE study_id = ?)";

  /** Selects the trial's row, locked, only while it is RUNNING: `INSERT … SELECT ? … ${running}`. */
  private get running(): string {
    return `FROM trials WHERE trial_id = ? AND state = 'RUNNING'${this.pg ? " FOR UPDATE" : ""}`;
  }

  /** The error for a write that found its trial no longer RUNNING (or gone). */
  private notRunning(trialId: number): Error {
    const row = this.q("SELECT number, state FROM trials WHERE trial_id = ?", [trialId])[0];
    if (!row) return new Error(`trial id ${trialId} does not exist in ${this.location}`);
    return new TrialNotRunningError(Number(row.number), stateFromOptuna(String(row.state)));
  }

  /** A new trial, numbered while the study is locked: the count of the study's trials so far (Optuna's rule). */
  private insertTrial(studyId: number, state: "RUNNING" | "WAITING", extra: SqlQuery[]): { trialId: number; number: number; start: string | null } {
    const start = state === "RUNNING" ? formatDatetime(Date.now()) : null;
    const [, inserted] = this.connection.batch([
      { sql: `SELECT study_id FROM studies WHERE study_id = ?${this.pg ? " FOR UPDATE" : ""}`, params: [studyId] },
      {
        sql: "INSERT INTO trials (number, study_id, state, datetime_start) SELECT (SELECT COUNT(*) FROM trials WHERE study_id = ?), study_id, ?, ? FROM studies WHERE study_id = ? RETURNING trial_id, number",
        params: [studyId, state, start, studyId],
      },
      ...extra,
    ]);
    if (inserted.length === 0) throw new Error(`study id ${studyId} does not exist in ${this.location}`);
    return { trialId: Number(inserted[0].trial_id), number: Number(inserted[0].number), start };
  }

  enqueueTrial(studyId: number, fixedParams: Record<string, JsonValue>): FrozenTrial {
    const { trialId } = this.insertTrial(studyId, "WAITING", [
      {
        sql: `INSERT INTO trial_system_attributes (trial_id, "key", value_json) VALUES (${RdbStorage.NEW_TRIAL}, 'fixed_params', ?)`,
        params: [studyId, pythonJson(fixedParams)],
      },
    ]);
    return this.getTrial(trialId);
  }

  startTrial(studyId: number): FrozenTrial {
    // An enqueued trial first: the oldest WAITING one, claimed by exactly one process.
    const claimed = this.q(
      `UPDATE trials SET state = 'RUNNING', datetime_start = ? WHERE trial_id = (SELECT trial_id FROM trials WHERE study_id = ? AND state = 'WAITING' ORDER BY trial_id LIMIT 1${this.pg ? " FOR UPDATE SKIP LOCKED" : ""}) RETURNING trial_id`,
      [formatDatetime(Date.now()), studyId],
    )[0];
    if (claimed) {
      const trialId = Number(claimed.trial_id);
      if (this.heartbeatIntervalMs !== null) this.recordHeartbeat(trialId);
      return this.getTrial(trialId);
    }
    // The first heartbeat in the same transaction: a process killed right after never leaves a trial that looks alive forever.
    const firstBeat = { sql: `INSERT INTO trial_heartbeats (trial_id, heartbeat) VALUES (${RdbStorage.NEW_TRIAL}, ${this.nowSql})`, params: [studyId] };
    const { trialId, number, start } = this.insertTrial(studyId, "RUNNING", this.heartbeatIntervalMs === null ? [] : [firstBeat]);
    this.trialStudies.set(trialId, studyId);
    const record: TrialRecord = {
      trialId, number, state: "RUNNING", value: null, params: {}, distributions: {}, intermediate: {}, userAttrs: {}, systemAttrs: {},
      start: parseDatetime(start), complete: null, heartbeat: null,
    };
    return freezeRecord(record);
  }

  /** The distribution a parameter name already has in the study (Optuna checks new ones against it), if any. */
  private knownDistribution(studyId: number, name: string): Distribution | undefined {
    const known = this.distributions.get(studyId) ?? new Map<string, Distribution>();
    this.distributions.set(studyId, known);
    if (!known.has(name)) {
      const row = this.q("SELECT p.distribution_json FROM trial_params p JOIN trials t ON t.trial_id = p.trial_id WHERE t.study_id = ? AND p.param_name = ? LIMIT 1", [studyId, name])[0];
      if (row) known.set(name, distributionFromJson(String(row.distribution_json), `parameter "${name}"`));
    }
    return known.get(name);
  }

  setTrialParam(trialId: number, name: string, distribution: Distribution, internalValue: number): void {
    this.assertNotFinishedHere(trialId);
    const studyId = this.studyOfTrial(trialId);
    // As Optuna: a name keeps its kind (and log scale, and categorical choices) across the whole study.
    const previous = this.knownDistribution(studyId, name);
    if (previous) checkCompatible(name, previous, distribution);
    else this.distributions.get(studyId)?.set(name, distribution);
    this.defer(trialId, {
      sql:
        `INSERT INTO trial_params (trial_id, param_name, param_value, distribution_json) SELECT trial_id, ?, ?, ? ${this.running} ` +
        "ON CONFLICT (trial_id, param_name) DO UPDATE SET param_value = excluded.param_value, distribution_json = excluded.distribution_json RETURNING trial_id",
      params: [name, internalValue, distributionToJson(distribution), trialId],
    });
  }

  private studyOfTrial(trialId: number): number {
    let studyId = this.trialStudies.get(trialId);
    if (studyId === undefined) {
      const row = this.q("SELECT study_id FROM trials WHERE trial_id = ?", [trialId])[0];
      if (!row) throw new Error(`trial id ${trialId} does not exist in ${this.location}`);
      studyId = Number(row.study_id);
      this.trialStudies.set(trialId, studyId);
    }
    return studyId;
  }

  /**
   * Parameters and attributes of a trial this process runs are sent together, as soon as the objective yields to the
   * event loop (an `await`), or with the trial's next report, its end, or the next read — whichever comes first: the
   * suggestions an objective makes in a row cost one round trip, not one each (Optuna 2's cached storage batched the
   * same way). Each write is guarded by `state = 'RUNNING'`; if another process failed the trial meanwhile, the
   * trial's next storage call throws TrialNotRunningError.
   */
  private defer(trialId: number, write: SqlQuery): void {
    this.throwFlushError(trialId);
    const queue = this.pending.get(trialId) ?? [];
    queue.push(write);
    this.pending.set(trialId, queue);
    if (this.flushSoon === null) {
      this.flushSoon = setImmediate(() => {
        this.flushSoon = null;
        for (const id of [...this.pending.keys()]) {
          try {
            this.flush(id);
          } catch (error) {
            this.flushErrors.set(id, error as Error);
          }
        }
      });
      this.flushSoon.unref();
    }
  }

  private throwFlushError(trialId: number): void {
    const error = this.flushErrors.get(trialId);
    if (error) {
      this.flushErrors.delete(trialId);
      throw error;
    }
  }

  /** Sends the trial's deferred writes plus `writes` as one transaction. */
  private flush(trialId: number, writes: readonly SqlQuery[] = []): SqlRow[][] {
    this.throwFlushError(trialId);
    const queued = this.pending.get(trialId) ?? [];
    this.pending.delete(trialId);
    const all = [...queued, ...writes];
    if (all.length === 0) return [];
    const results = all.length === 1 ? [this.q(all[0].sql, all[0].params)] : this.connection.batch(all);
    // Every guarded write returns its trial's row (RETURNING trial_id); an empty result means it was not RUNNING.
    if (all.some((w, i) => /RETURNING trial_id$/.test(w.sql) && results[i].length === 0)) throw this.notRunning(trialId);
    return results;
  }

  private flushAll(): void {
    for (const trialId of [...this.pending.keys()]) this.flush(trialId);
  }

  private assertNotFinishedHere(trialId: number): void {
    if (this.finishedHere.has(trialId)) throw this.notRunning(trialId);
  }

  setIntermediateValue(trialId: number, step: number, value: number): void {
    this.assertNotFinishedHere(trialId);
    const write: SqlQuery = {
      sql:
        `INSERT INTO trial_intermediate_values (trial_id, step, intermediate_value, intermediate_value_type) SELECT trial_id, ?, ?, ? ${this.running} ` +
        "ON CONFLICT (trial_id, step) DO UPDATE SET intermediate_value = excluded.intermediate_value, intermediate_value_type = excluded.intermediate_value_type RETURNING trial_id",
      params: [step, ...valueToStored(value), trialId],
    };
    // On SQLite heartbeats come from this thread's timer, which a long synchronous epoch starves: a report is a beat too.
    this.flush(trialId, this.heartbeatIntervalMs !== null && !this.pg ? [write, this.heartbeatQuery(trialId)] : [write]);
  }

  setTrialUserAttr(trialId: number, key: string, value: JsonValue): void {
    this.setAttr("trial_user_attributes", trialId, key, value);
  }

  setTrialSystemAttr(trialId: number, key: string, value: JsonValue): void {
    this.setAttr("trial_system_attributes", trialId, key, value);
  }

  private setAttr(table: string, trialId: number, key: string, value: JsonValue): void {
    this.assertNotFinishedHere(trialId);
    this.defer(trialId, {
      sql: `INSERT INTO ${table} (trial_id, "key", value_json) SELECT trial_id, ?, ? ${this.running} ON CONFLICT (trial_id, "key") DO UPDATE SET value_json = excluded.value_json RETURNING trial_id`,
      params: [key, pythonJson(value), trialId],
    });
  }

  finishTrial(trialId: number, state: "COMPLETE" | "PRUNED" | "FAIL", value: number | null): void {
    this.assertNotFinishedHere(trialId);
    const writes: SqlQuery[] = [];
    if (value !== null) {
      writes.push({
        sql:
          `INSERT INTO trial_values (trial_id, objective, value, value_type) SELECT trial_id, 0, ?, ? ${this.running} ` +
          "ON CONFLICT (trial_id, objective) DO UPDATE SET value = excluded.value, value_type = excluded.value_type RETURNING trial_id",
        params: [...valueToStored(value), trialId],
      });
    }
    writes.push({
      sql: "UPDATE trials SET state = ?, datetime_complete = ? WHERE trial_id = ? AND state = 'RUNNING' RETURNING trial_id",
      params: [state, formatDatetime(Date.now()), trialId],
    });
    this.flush(trialId, writes);
    this.finishedHere.add(trialId);
  }

  recordHeartbeat(trialId: number): void {
    const beat = this.heartbeatQuery(trialId);
    this.q(beat.sql, beat.params);
  }

  startHeartbeat(trialId: number): () => void {
    if (this.heartbeatIntervalMs === null) return () => {};
    return this.connection.repeat(this.heartbeatQuery(trialId), this.heartbeatIntervalMs);
  }

  failStaleTrials(studyId: number): number[] {
    if (this.gracePeriodS === null) return [];
    const grace = this.gracePeriodS;
    const stale = this.pg ? "h.heartbeat < LOCALTIMESTAMP - make_interval(secs => ?)" : "(julianday('now') - julianday(h.heartbeat)) * 86400.0 > ?";
    const candidates = this.q(
      `SELECT t.trial_id FROM trials t JOIN trial_heartbeats h ON h.trial_id = t.trial_id WHERE t.study_id = ? AND t.state = 'RUNNING' AND ${stale} ORDER BY t.trial_id`,
      [studyId, grace],
    );
    if (candidates.length === 0) return [];
    // Each one failed only if it is still RUNNING and still stale once locked (its owner may have finished or beaten meanwhile).
    return this.connection.transaction(() => {
      const failed: number[] = [];
      const now = formatDatetime(Date.now());
      for (const c of candidates) {
        const row = this.q(
          `UPDATE trials SET state = 'FAIL', datetime_complete = ? WHERE trial_id = ? AND state = 'RUNNING' AND EXISTS (SELECT 1 FROM trial_heartbeats h WHERE h.trial_id = trials.trial_id AND ${stale}) RETURNING number`,
          [now, c.trial_id, grace],
        )[0];
        if (!row) continue;
        this.q(`INSERT INTO trial_system_attributes (trial_id, "key", value_json) VALUES (?, 'fail_reason', ?) ON CONFLICT (trial_id, "key") DO UPDATE SET value_json = excluded.value_json`, [
          c.trial_id, pythonJson(`no heartbeat for more than ${grace} s (its process died?)`),
        ]);
        failed.push(Number(row.number));
      }
      return failed;
    });
  }

  // ---- reading ----

  getTrial(trialId: number): FrozenTrial {
    this.flushAll();
    for (const cache of this.caches.values()) {
      const hit = cache.finished.get(trialId);
      if (hit) return hit;
    }
    const trial = this.readTrials("trial_id = ?", [trialId])[0];
    if (!trial) throw new Error(`trial id ${trialId} does not exist in ${this.location}`);
    return trial;
  }

  getAllTrials(studyId: number, states?: readonly TrialState[]): FrozenTrial[] {
    this.flushAll();
    const cache = this.caches.get(studyId) ?? { finished: new Map<number, FrozenTrial>(), unfinished: new Set<number>(), maxSeenId: -1 };
    this.caches.set(studyId, cache);
    const pending = [...cache.unfinished];
    const filter = `study_id = ? AND (trial_id > ?${pending.length > 0 ? ` OR trial_id IN (${pending.map(() => "?").join(", ")})` : ""})`;
    const fresh = this.readTrials(filter, [studyId, cache.maxSeenId, ...pending]);
    cache.unfinished.clear();
    const known = this.distributions.get(studyId) ?? new Map<string, Distribution>();
    this.distributions.set(studyId, known);
    for (const t of fresh) {
      cache.maxSeenId = Math.max(cache.maxSeenId, t.trialId);
      this.trialStudies.set(t.trialId, studyId);
      for (const [name, d] of Object.entries(t.distributions)) if (!known.has(name)) known.set(name, d);
      if (t.state === "COMPLETE" || t.state === "PRUNED" || t.state === "FAIL") cache.finished.set(t.trialId, t);
      else cache.unfinished.add(t.trialId);
    }
    const all = [...cache.finished.values(), ...fresh.filter((t) => cache.unfinished.has(t.trialId))];
    all.sort((a, b) => a.number - b.number);
    return states ? all.filter((t) => states.includes(t.state)) : all;
  }

  /**
   * The trials matching `filter` (a condition on the trials table), with everything Optuna stores about them: one
   * statement (so one moment of the database, one round trip), the six tables' rows in one column layout.
   */
  private readTrials(filter: string, params: readonly unknown[]): FrozenTrial[] {
    const scope = `trial_id IN (SELECT trial_id FROM trials WHERE ${filter})`;
    const text = "CAST(NULL AS TEXT)";
    const float = "CAST(NULL AS DOUBLE PRECISION)";
    const rows = this.q(
      [
        `SELECT 'T' AS kind, trial_id, number AS n, CAST(state AS TEXT) AS name, ${float} AS x, CAST(datetime_start AS TEXT) AS a, CAST(datetime_complete AS TEXT) AS b FROM trials WHERE ${filter}`,
        `SELECT 'V', trial_id, objective, CAST(value_type AS TEXT), value, ${text}, ${text} FROM trial_values WHERE ${scope}`,
        `SELECT 'P', trial_id, param_id, param_name, param_value, distribution_json, ${text} FROM trial_params WHERE ${scope}`,
        `SELECT 'I', trial_id, step, CAST(intermediate_value_type AS TEXT), intermediate_value, ${text}, ${text} FROM trial_intermediate_values WHERE ${scope}`,
        `SELECT 'U', trial_id, trial_user_attribute_id, "key", ${float}, value_json, ${text} FROM trial_user_attributes WHERE ${scope}`,
        `SELECT 'S', trial_id, trial_system_attribute_id, "key", ${float}, value_json, ${text} FROM trial_system_attributes WHERE ${scope}`,
      ].join(" UNION ALL "),
      Array.from({ length: 6 }, () => params).flat(),
    );
    const records = new Map<number, TrialRecord>();
    for (const row of rows) {
      if (row.kind !== "T") continue;
      records.set(Number(row.trial_id), {
        trialId: Number(row.trial_id),
        number: Number(row.n),
        state: stateFromOptuna(String(row.name)),
        value: null,
        params: {},
        distributions: {},
        intermediate: {},
        userAttrs: {},
        systemAttrs: {},
        start: parseDatetime(row.a),
        complete: parseDatetime(row.b),
        heartbeat: null,
      });
    }
    // Parameters in the order they were written (param_id), as Optuna lists them.
    const ordered = rows.filter((r) => r.kind !== "T").sort((p, q) => (p.kind === "P" && q.kind === "P" ? Number(p.n) - Number(q.n) : 0));
    for (const row of ordered) {
      const r = records.get(Number(row.trial_id));
      if (!r) continue;
      const name = String(row.name);
      if (row.kind === "V" && Number(row.n) === 0) r.value = valueFromStored(row.x, row.name);
      else if (row.kind === "P") {
        r.distributions[name] = distributionFromJson(String(row.a), `trial ${r.number}, parameter "${name}"`);
        r.params[name] = Number(row.x);
      } else if (row.kind === "I") r.intermediate[Number(row.n)] = valueFromStored(row.x, row.name);
      else if (row.kind === "U") r.userAttrs[name] = parsePythonJson(String(row.a));
      else if (row.kind === "S") r.systemAttrs[name] = parsePythonJson(String(row.a));
    }
    return [...records.values()].map(freezeRecord);
  }

  close(): void {
    try {
      if (this.flushSoon !== null) clearImmediate(this.flushSoon);
      this.flushSoon = null;
      this.flushAll();
    } finally {
      this.connection.close();
    }
  }
}

function isUniqueViolation(error: unknown): boolean {
  const code = (error as { code?: string }).code;
  return code === "23505" || code === "SQLITE_CONSTRAINT_UNIQUE" || (error instanceof SqlError && /unique/i.test(error.message));
}
