/**
 * The SQL connection RdbStorage runs on: SQLite (better-sqlite3, in this thread) or PostgreSQL (node-postgres in a
 * worker thread, see postgres.ts). Synchronous on purpose, as Optuna's RDBStorage and better-sqlite3 are: every
 * storage call is committed when it returns, so the define-by-run API (`trial.suggestFloat(...)` returns a number)
 * stays synchronous and a process killed at any point loses at most the trial it was running.
 * SQL is written once with `?` placeholders; the PostgreSQL connection numbers them ($1, $2, …).
 */
export type SqlDialect = "sqlite" | "postgresql";
export type SqlRow = Record<string, unknown>;
export interface SqlQuery {
  sql: string;
  params?: readonly unknown[];
}

export interface SqlConnection {
  readonly dialect: SqlDialect;
  /** Where the data is, for error messages (a file path, or a URL without its password). */
  readonly location: string;
  /** One statement; returns its rows (a write's RETURNING rows, or none). */
  query(sql: string, params?: readonly unknown[]): SqlRow[];
  /** Statements run as one transaction in one round trip (no logic between them); each statement's rows. */
  batch(queries: readonly SqlQuery[]): SqlRow[][];
  /**
   * Runs `fn` as one write transaction (SQLite: BEGIN IMMEDIATE, i.e. the database's write lock; PostgreSQL:
   * BEGIN … COMMIT, rows locked FOR UPDATE inside). Rolled back when `fn` throws; retried from the start when
   * PostgreSQL aborts it as a deadlock or serialization failure.
   */
  transaction<T>(fn: () => T): T;
  /**
   * Runs `query` now and every `intervalMs` until the returned function is called. On PostgreSQL this runs in the
   * connection's worker thread on its own session, so it keeps going while this thread computes (as Optuna's
   * heartbeat thread); on SQLite it is a timer in this thread.
   */
  repeat(query: SqlQuery, intervalMs: number): () => void;
  close(): void;
}

/** An error from the database, with its SQLSTATE code where the driver gives one. */
export class SqlError extends Error {
  constructor(message: string, readonly code?: string) {
    super(message);
    this.name = "SqlError";
  }
}

/** The small part of better-sqlite3's API used here (the package ships no types). */
interface SqliteStatement {
  readonly reader: boolean;
  run(...params: unknown[]): { changes: number };
  all(...params: unknown[]): SqlRow[];
}
interface SqliteDatabase {
  prepare(sql: string): SqliteStatement;
  exec(sql: string): void;
  pragma(sql: string): unknown;
  transaction<A extends unknown[], R>(fn: (...args: A) => R): { (...args: A): R; immediate(...args: A): R; deferred(...args: A): R };
  close(): void;
}
type SqliteConstructor = new (file: string, options?: { timeout?: number }) => SqliteDatabase;

export class SqliteConnection implements SqlConnection {
  readonly dialect = "sqlite" as const;
  private readonly db: SqliteDatabase;
  private readonly statements = new Map<string, SqliteStatement>();

  /** `busyTimeoutMs`: how long a writer waits for another process's lock before failing. */
  constructor(readonly location: string, busyTimeoutMs = 30_000) {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const Database = require("better-sqlite3") as SqliteConstructor;
    try {
      this.db = new Database(location, { timeout: busyTimeoutMs });
      // WAL: readers never block the writer. synchronous=NORMAL: a commit is durable once the WAL is synced at the
      // next checkpoint; a killed process loses nothing that was committed, a power cut at most the last commits.
      this.db.pragma("journal_mode = WAL");
      this.db.pragma("synchronous = NORMAL");
    } catch (error) {
      throw new SqlError(`cannot open SQLite database ${location}: ${(error as Error).message}`);
    }
  }

  private statement(sql: string): SqliteStatement {
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }

  query(sql: string, params: readonly unknown[] = []): SqlRow[] {
    const statement = this.statement(sql);
    if (statement.reader) return statement.all(...params);
    statement.run(...params);
    return [];
  }

  batch(queries: readonly SqlQuery[]): SqlRow[][] {
    return this.transaction(() => queries.map((q) => this.query(q.sql, q.params)));
  }

  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }

  repeat(query: SqlQuery, intervalMs: number): () => void {
    const run = (): void => {
      try {
        this.query(query.sql, query.params);
      } catch {
        // A busy database skips one beat; the next one comes after intervalMs.
      }
    };
    run();
    const timer = setInterval(run, intervalMs);
    timer.unref();
    return () => clearInterval(timer);
  }

  close(): void {
    this.db.close();
  }
}
