/**
 * Optuna 3.1's RDB schema (optuna/storages/_rdb/models.py, alembic head v3.0.0.d), written out for SQLite and
 * PostgreSQL as SQLAlchemy 1.4 creates it, and the encodings Optuna uses in it: distributions as
 * `{"name": "FloatDistribution", "attributes": {...}}`, values with a FINITE/INF_POS/INF_NEG(/NAN) type column,
 * enum names (COMPLETE, MAXIMIZE, …), naive local datetimes, Python's json.dumps for attributes.
 */
import type { CategoricalChoice, Distribution } from "../distributions";
import type { JsonValue, StudyDirection, TrialState } from "../types";
import type { SqlDialect } from "./sql";

/** version_info.schema_version (frozen by Optuna since alembic took over) and the alembic revision Optuna 3.1 expects. */
export const SCHEMA_VERSION = 12;
export const ALEMBIC_HEAD = "v3.0.0.d";
/** Written to version_info.library_version: the Optuna release whose schema this is. */
export const LIBRARY_VERSION = "3.1.0";
/** Older revisions (Optuna < 3.0): Optuna itself must upgrade them first. */
export const OLDER_REVISIONS = ["v0.9.0.a", "v1.2.0.a", "v1.3.0.a", "v2.4.0.a", "v2.6.0.a", "v3.0.0.a", "v3.0.0.b", "v3.0.0.c"];

/** PostgreSQL enum types (SQLAlchemy names them after the Python enum class, lower-cased). */
export const ENUMS: Record<string, readonly string[]> = {
  studydirection: ["NOT_SET", "MINIMIZE", "MAXIMIZE"],
  trialstate: ["RUNNING", "COMPLETE", "PRUNED", "FAIL", "WAITING"],
  trialvaluetype: ["FINITE", "INF_POS", "INF_NEG"],
  trialintermediatevaluetype: ["FINITE", "INF_POS", "INF_NEG", "NAN"],
};

// {ID}: autoincrement primary key column type; {FLOAT}: Float(precision=53); {DATETIME}; {ENUM:name}.
const TABLES: [name: string, ddl: string][] = [
  ["studies", `CREATE TABLE studies (
  study_id {ID} NOT NULL,
  study_name VARCHAR(512) NOT NULL,
  PRIMARY KEY (study_id)
)`],
  ["version_info", `CREATE TABLE version_info (
  version_info_id INTEGER NOT NULL,
  schema_version INTEGER,
  library_version VARCHAR(256),
  PRIMARY KEY (version_info_id),
  CHECK (version_info_id=1)
)`],
  ["study_directions", `CREATE TABLE study_directions (
  study_direction_id {ID} NOT NULL,
  direction {ENUM:studydirection} NOT NULL,
  study_id INTEGER NOT NULL,
  objective INTEGER NOT NULL,
  PRIMARY KEY (study_direction_id),
  UNIQUE (study_id, objective),
  FOREIGN KEY(study_id) REFERENCES studies (study_id)
)`],
  ["study_user_attributes", attributeTable("study_user_attribute_id", "study_id", "studies")],
  ["study_system_attributes", attributeTable("study_system_attribute_id", "study_id", "studies")],
  ["trials", `CREATE TABLE trials (
  trial_id {ID} NOT NULL,
  number INTEGER,
  study_id INTEGER,
  state {ENUM:trialstate} NOT NULL,
  datetime_start {DATETIME},
  datetime_complete {DATETIME},
  PRIMARY KEY (trial_id),
  FOREIGN KEY(study_id) REFERENCES studies (study_id)
)`],
  ["trial_user_attributes", attributeTable("trial_user_attribute_id", "trial_id", "trials")],
  ["trial_system_attributes", attributeTable("trial_system_attribute_id", "trial_id", "trials")],
  ["trial_params", `CREATE TABLE trial_params (
  param_id {ID} NOT NULL,
  trial_id INTEGER,
  param_name VARCHAR(512),
  param_value {FLOAT},
  distribution_json TEXT,
  PRIMARY KEY (param_id),
  UNIQUE (trial_id, param_name),
  FOREIGN KEY(trial_id) REFERENCES trials (trial_id)
)`],
  ["trial_values", `CREATE TABLE trial_values (
  trial_value_id {ID} NOT NULL,
  trial_id INTEGER NOT NULL,
  objective INTEGER NOT NULL,
  value {FLOAT},
  value_type {ENUM:trialvaluetype} NOT NULL,
  PRIMARY KEY (trial_value_id),
  UNIQUE (trial_id, objective),
  FOREIGN KEY(trial_id) REFERENCES trials (trial_id)
)`],
  ["trial_intermediate_values", `CREATE TABLE trial_intermediate_values (
  trial_intermediate_value_id {ID} NOT NULL,
  trial_id INTEGER NOT NULL,
  step INTEGER NOT NULL,
  intermediate_value {FLOAT},
  intermediate_value_type {ENUM:trialintermediatevaluetype} NOT NULL,
  PRIMARY KEY (trial_intermediate_value_id),
  UNIQUE (trial_id, step),
  FOREIGN KEY(trial_id) REFERENCES trials (trial_id)
)`],
  ["trial_heartbeats", `CREATE TABLE trial_heartbeats (
  trial_heartbeat_id {ID} NOT NULL,
  trial_id INTEGER NOT NULL,
  heartbeat {DATETIME} NOT NULL,
  PRIMARY KEY (trial_heartbeat_id),
  UNIQUE (trial_id),
  FOREIGN KEY(trial_id) REFERENCES trials (trial_id)
)`],
  ["alembic_version", `CREATE TABLE alembic_version (
  version_num VARCHAR(32) NOT NULL,
  CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)
)`],
];

function attributeTable(idColumn: string, ownerColumn: string, ownerTable: string): string {
  return `CREATE TABLE ${idColumn.replace(/_id$/, "s")} (
  ${idColumn} {ID} NOT NULL,
  ${ownerColumn} INTEGER,
  "key" VARCHAR(512),
  value_json TEXT,
  PRIMARY KEY (${idColumn}),
  UNIQUE (${ownerColumn}, "key"),
  FOREIGN KEY(${ownerColumn}) REFERENCES ${ownerTable} (${ownerColumn})
)`;
}

export const TABLE_NAMES = TABLES.map(([name]) => name);

/** CREATE statements for the tables in `missing` (in dependency order), with the index and enum types they need. */
export function createStatements(dialect: SqlDialect, missing: ReadonlySet<string>, existingEnums: ReadonlySet<string>): string[] {
  const out: string[] = [];
  if (dialect === "postgresql") {
    for (const [name, values] of Object.entries(ENUMS)) {
      if (!existingEnums.has(name)) out.push(`CREATE TYPE ${name} AS ENUM (${values.map((v) => `'${v}'`).join(", ")})`);
    }
  }
  for (const [name, ddl] of TABLES) {
    if (!missing.has(name)) continue;
    out.push(
      ddl
        .replace(/\{ID\}/g, dialect === "postgresql" ? "SERIAL" : "INTEGER")
        .replace(/\{FLOAT\}/g, dialect === "postgresql" ? "FLOAT(53)" : "FLOAT")
        .replace(/\{DATETIME\}/g, dialect === "postgresql" ? "TIMESTAMP WITHOUT TIME ZONE" : "DATETIME")
        .replace(/\{ENUM:(\w+)\}/g, (_, e: string) => (dialect === "postgresql" ? e : `VARCHAR(${Math.max(...ENUMS[e].map((v) => v.length))})`)),
    );
    if (name === "studies") out.push("CREATE UNIQUE INDEX ix_studies_study_name ON studies (study_name)");
  }
  return out;
}

export function directionToOptuna(direction: StudyDirection): "MINIMIZE" | "MAXIMIZE" {
  return direction === "minimize" ? "MINIMIZE" : "MAXIMIZE";
}

export function directionFromOptuna(stored: string, study: string): StudyDirection {
  if (stored === "MINIMIZE") return "minimize";
  if (stored === "MAXIMIZE") return "maximize";
  throw new Error(`study "${study}" has direction ${stored}; lib/tune studies are MINIMIZE or MAXIMIZE`);
}

export function stateFromOptuna(stored: string): TrialState {
  if (stored === "RUNNING" || stored === "COMPLETE" || stored === "PRUNED" || stored === "FAIL" || stored === "WAITING") return stored;
  throw new Error(`unknown trial state ${stored}`);
}

/** Optuna's (value, value_type) pair: infinities are NULL with INF_POS/INF_NEG; NaN (intermediate values only) NULL/NAN. */
export function valueToStored(value: number): [number | null, string] {
  if (Number.isNaN(value)) return [null, "NAN"];
  if (value === Infinity) return [null, "INF_POS"];
  if (value === -Infinity) return [null, "INF_NEG"];
  return [value, "FINITE"];
}

export function valueFromStored(value: unknown, type: unknown): number {
  if (type === "INF_POS") return Infinity;
  if (type === "INF_NEG") return -Infinity;
  if (type === "NAN") return NaN;
  return Number(value);
}

/** optuna.distributions.distribution_to_json, with Optuna's attribute order. */
export function distributionToJson(d: Distribution): string {
  if (d.type === "float") return pythonJson({ name: "FloatDistribution", attributes: { step: d.step, low: d.low, high: d.high, log: d.log } });
  if (d.type === "int") return pythonJson({ name: "IntDistribution", attributes: { log: d.log, step: d.step, low: d.low, high: d.high } });
  return pythonJson({ name: "CategoricalDistribution", attributes: { choices: d.choices as JsonValue[] } });
}

/** optuna.distributions.json_to_distribution: today's three classes, the pre-3.0 ones, and the abbreviated form. */
export function distributionFromJson(text: string, where: string): Distribution {
  const json = parsePythonJson(text) as { name?: string; attributes?: Record<string, unknown>; type?: string } & Record<string, unknown>;
  const a = (json.attributes ?? json) as Record<string, unknown>;
  const num = (key: string): number => Number(a[key]);
  const bool = (key: string): boolean => Boolean(a[key]);
  switch (json.name ?? json.type) {
    case "FloatDistribution":
    case "float":
      return { type: "float", low: num("low"), high: num("high"), log: bool("log"), step: a.step === null || a.step === undefined ? null : num("step") };
    case "UniformDistribution":
      return { type: "float", low: num("low"), high: num("high"), log: false, step: null };
    case "LogUniformDistribution":
      return { type: "float", low: num("low"), high: num("high"), log: true, step: null };
    case "DiscreteUniformDistribution":
      return { type: "float", low: num("low"), high: num("high"), log: false, step: num("q") };
    case "IntDistribution":
    case "int":
      return { type: "int", low: num("low"), high: num("high"), log: bool("log"), step: a.step === null || a.step === undefined ? 1 : num("step") };
    case "IntUniformDistribution":
      return { type: "int", low: num("low"), high: num("high"), log: false, step: a.step === undefined ? 1 : num("step") };
    case "IntLogUniformDistribution":
      return { type: "int", low: num("low"), high: num("high"), log: true, step: 1 };
    case "CategoricalDistribution":
    case "categorical":
      return { type: "categorical", choices: (a.choices as CategoricalChoice[]).slice() };
  }
  throw new Error(`${where}: unknown distribution ${text}`);
}

/** Stands in for a non-finite number inside the JSON text while it is converted (never stored). */
const NON_FINITE = "@@pyfloat@@";

/** json.dumps as Python writes it (", " and ": " separators; NaN, Infinity, -Infinity as bare words). */
export function pythonJson(value: unknown): string {
  const text = JSON.stringify(value, (_key, v: unknown) => (typeof v === "number" && !Number.isFinite(v) ? `${NON_FINITE}${v}` : v));
  // Separators outside strings only: walk the text once.
  let out = "";
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    out += ch;
    if (inString) {
      if (ch === "\\") out += text[++i];
      else if (ch === '"') inString = false;
    } else if (ch === '"') inString = true;
    else if (ch === "," || ch === ":") out += " ";
  }
  return out.replace(/"@@pyfloat@@(NaN|Infinity|-Infinity)"/g, "$1");
}

/** json.loads: JSON plus Python's bare NaN / Infinity / -Infinity. */
export function parsePythonJson(text: string): JsonValue {
  try {
    return JSON.parse(text) as JsonValue;
  } catch (error) {
    let quoted = "";
    let inString = false;
    for (let i = 0; i < text.length; i++) {
      const ch = text[i];
      if (inString) {
        quoted += ch;
        if (ch === "\\") quoted += text[++i];
        else if (ch === '"') inString = false;
        continue;
      }
      if (ch === '"') {
        inString = true;
        quoted += ch;
        continue;
      }
      const word = /^(-?Infinity|NaN)/.exec(text.slice(i));
      if (word) {
        quoted += `"${NON_FINITE}${word[1]}"`;
        i += word[1].length - 1;
      } else quoted += ch;
    }
    if (quoted === text) throw error;
    return JSON.parse(quoted, (_key, v: unknown) => (typeof v === "string" && v.startsWith(NON_FINITE) ? Number(v.slice(NON_FINITE.length)) : v)) as JsonValue;
  }
}

/** Optuna stores datetime.now(): local wall-clock time without a zone, microseconds ("2024-05-01 13:45:07.123000"). */
export function formatDatetime(ms: number): string {
  const d = new Date(ms);
  const p = (n: number, w = 2): string => String(n).padStart(w, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}000`;
}

export function parseDatetime(stored: unknown): number | null {
  if (stored === null || stored === undefined) return null;
  if (stored instanceof Date) return stored.getTime();
  const m = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?/.exec(String(stored));
  if (!m) throw new Error(`unreadable datetime ${String(stored)}`);
  const ms = m[7] ? Math.round(Number(`0.${m[7]}`) * 1000) : 0;
  return new Date(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6], ms).getTime();
}
