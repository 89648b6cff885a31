import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from "node:worker_threads";
import { SqlError, type SqlConnection, type SqlQuery, type SqlRow } from "./sql";

/**
 * The worker thread that owns the node-postgres clients. It runs what the main thread posts and wakes it through a
 * shared Int32 (Atomics.notify); the main thread sleeps in Atomics.wait meanwhile and then takes the reply with
 * receiveMessageOnPort. Plain JavaScript evaluated from this string, so it runs the same under tsx, plain Node or
 * the notebook kernel. A second client runs the repeated query (heartbeats) on the worker's own event loop.
 */
const WORKER_SOURCE = `
const { workerData } = require("node:worker_threads");
const pg = require(workerData.pgPath);
const { port, url } = workerData;
const flag = new Int32Array(workerData.signal);
// timestamp without time zone as the text PostgreSQL stores (Optuna's naive local datetimes); COUNT(*) as a number.
const types = { getTypeParser: (oid, format) => oid === 1114 ? (s) => s : oid === 20 ? (s) => Number(s) : pg.types.getTypeParser(oid, format) };
const newClient = () => {
  const client = new pg.Client({ connectionString: url, application_name: "lib/tune", types });
  client.on("error", () => {}); // a dropped connection fails the next query with its own error
  return client;
};
const main = newClient();
let repeat = null;
function reply(message) {
  port.postMessage(message);
  Atomics.store(flag, 0, 1);
  Atomics.notify(flag, 0);
}
async function stopRepeat() {
  if (!repeat) return;
  clearInterval(repeat.timer);
  const client = repeat.client;
  repeat = null;
  await client.end().catch(() => {});
}
async function handle(request) {
  switch (request.op) {
    case "connect":
      await main.connect();
      if (!workerData.durableCommits) await main.query("SET synchronous_commit = off");
      return {};
    case "query":
      return { rows: (await main.query(request.sql, request.params)).rows };
    case "batch": {
      await main.query("BEGIN");
      try {
        const results = [];
        for (const q of request.queries) results.push((await main.query(q.sql, q.params)).rows);
        await main.query("COMMIT");
        return { results };
      } catch (error) {
        await main.query("ROLLBACK").catch(() => {});
        throw error;
      }
    }
    case "repeat": {
      await stopRepeat();
      if (request.sql === null) return {};
      const client = newClient();
      await client.connect();
      await client.query("SET synchronous_commit = off"); // a lost heartbeat costs nothing
      const beat = () => client.query(request.sql, request.params).catch(() => {});
      await client.query(request.sql, request.params);
      repeat = { client, timer: setInterval(beat, request.intervalMs) };
      return {};
    }
    case "close":
      await stopRepeat();
      await main.end().catch(() => {});
      return {};
  }
  throw new Error("unknown request " + request.op);
}
port.on("message", (request) => {
  handle(request).then(reply, (error) =>
    reply({ error: { message: String(error && error.message || error), code: error && error.code, detail: error && error.detail } }),
  );
});
`;

export interface PostgresConnectionOptions {
  /** How long one call may wait for the server before it is an error (ms). Default 120 s. */
  timeoutMs?: number;
  /**
   * false (default): the session runs with synchronous_commit = off — a commit returns once it is in the server's
   * WAL buffers, not on disk. A killed worker loses nothing it committed; a crash of the database server itself may
   * lose the last fraction of a second of commits (never a partial transaction). The same trade as the SQLite
   * storage's WAL + synchronous=NORMAL, and what keeps a trial's dozen small commits from waiting on a dozen disk
   * flushes (≈ 5–40 ms each on a busy disk). true: every commit waits for the disk (the server's default).
   */
  durableCommits?: boolean;
}

/** SQLSTATEs after which a transaction is rerun from the start: serialization failure, deadlock. */
const RETRYABLE = new Set(["40001", "40P01"]);

/** `postgresql://user:secret@host/db` → `postgresql://user@host/db`, for messages. */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z+]+:\/\/[^:/@]+):[^@]*@/i, "$1@");
}

/** A synchronous PostgreSQL connection (see the worker above and SqlConnection). */
export class PostgresConnection implements SqlConnection {
  readonly dialect = "postgresql" as const;
  readonly location: string;
  private readonly worker: Worker;
  private readonly port: MessagePort;
  private readonly flag = new Int32Array(new SharedArrayBuffer(4));
  private readonly timeoutMs: number;
  private inTransaction = false;
  private closed = false;

  constructor(url: string, options: PostgresConnectionOptions = {}) {
    this.location = redactUrl(url);
    this.timeoutMs = options.timeoutMs ?? 120_000;
    // Optuna's SQLAlchemy URLs name the driver ("postgresql+psycopg2://"); node-postgres wants the plain scheme.
    const connectionString = url.replace(/^postgres(ql)?(\+[a-z0-9_]+)?:\/\//i, "postgresql://");
    let pgPath: string;
    try {
      pgPath = require.resolve("pg");
    } catch {
      throw new SqlError("PostgreSQL storage needs the npm package pg (npm ci installs it)");
    }
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    this.worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { pgPath, url: connectionString, port: port2, signal: this.flag.buffer, durableCommits: options.durableCommits ?? false },
      transferList: [port2],
    });
    this.worker.unref();
    this.port.unref();
    try {
      this.call({ op: "connect" });
    } catch (error) {
      this.closed = true;
      void this.worker.terminate();
      throw new SqlError(`cannot connect to PostgreSQL at ${this.location}: ${(error as Error).message}`, (error as SqlError).code);
    }
  }

  private call(request: Record<string, unknown>): Record<string, unknown> {
    if (this.closed) throw new SqlError(`the PostgreSQL connection to ${this.location} is closed`);
    Atomics.store(this.flag, 0, 0);
    this.port.postMessage(request);
    if (Atomics.wait(this.flag, 0, 0, this.timeoutMs) === "timed-out") {
      throw new SqlError(`PostgreSQL at ${this.location} did not answer within ${this.timeoutMs / 1000} s (${String(request.op)})`);
    }
    const received = receiveMessageOnPort(this.port);
    if (!received) throw new SqlError(`PostgreSQL worker for ${this.location} answered without a message`);
    const reply = received.message as Record<string, unknown> & { error?: { message: string; code?: string; detail?: string } };
    if (reply.error) {
      const { message, code, detail } = reply.error;
      throw new SqlError(`PostgreSQL (${this.location}): ${message}${detail ? ` (${detail})` : ""}`, code);
    }
    return reply;
  }

  query(sql: string, params: readonly unknown[] = []): SqlRow[] {
    return this.call({ op: "query", sql: numberPlaceholders(sql), params: [...params] }).rows as SqlRow[];
  }

  batch(queries: readonly SqlQuery[]): SqlRow[][] {
    if (this.inTransaction) return queries.map((q) => this.query(q.sql, q.params));
    const numbered = queries.map((q) => ({ sql: numberPlaceholders(q.sql), params: [...(q.params ?? [])] }));
    for (let attempt = 1; ; attempt++) {
      try {
        return this.call({ op: "batch", queries: numbered }).results as SqlRow[][];
      } catch (error) {
        if (!(error instanceof SqlError && error.code && RETRYABLE.has(error.code) && attempt < 5)) throw error;
      }
    }
  }

  transaction<T>(fn: () => T): T {
    if (this.inTransaction) return fn();
    for (let attempt = 1; ; attempt++) {
      this.query("BEGIN");
      this.inTransaction = true;
      try {
        const result = fn();
        this.query("COMMIT");
        return result;
      } catch (error) {
        try {
          this.query("ROLLBACK");
        } catch {
          // the connection is gone: the server rolls back on its own
        }
        if (!(error instanceof SqlError && error.code && RETRYABLE.has(error.code) && attempt < 5)) throw error;
      } finally {
        this.inTransaction = false;
      }
    }
  }

  repeat(query: SqlQuery, intervalMs: number): () => void {
    this.call({ op: "repeat", sql: numberPlaceholders(query.sql), params: [...(query.params ?? [])], intervalMs });
    return () => {
      if (!this.closed) this.call({ op: "repeat", sql: null });
    };
  }

  close(): void {
    if (this.closed) return;
    try {
      this.call({ op: "close" });
    } finally {
      this.closed = true;
      void this.worker.terminate();
    }
  }
}

/** `?` → `$1`, `$2`, … (the SQL in lib/tune has no `?` inside string literals). */
function numberPlaceholders(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}
