import type { Distribution } from "../distributions";
import type { FrozenTrial, JsonValue, StudyDirection, TrialState } from "../types";

export interface StudySummary {
  readonly studyId: number;
  readonly name: string;
  readonly direction: StudyDirection;
}

/**
 * Where studies and trials live: in memory, or in a database in Optuna's schema (RdbStorage: SQLite or PostgreSQL).
 * Synchronous, as Optuna's storages: every operation is a short committed transaction (see storage/sql.ts for how
 * PostgreSQL is reached synchronously), so a study never holds state that is not in storage and the define-by-run
 * API stays synchronous. Parameter values are stored in their internal form (categorical = choice index).
 */
export interface StudyStorage {
  /** Creates the study, or returns the existing one when `loadIfExists` (error otherwise). */
  createStudy(name: string, direction: StudyDirection, loadIfExists: boolean): StudySummary;
  /** Throws an error naming the study when it does not exist. */
  getStudy(name: string): StudySummary;
  listStudies(): StudySummary[];
  deleteStudy(name: string): void;
  /** Adds a WAITING trial with fixed parameters (numbered now, run later). */
  enqueueTrial(studyId: number, fixedParams: Record<string, JsonValue>): FrozenTrial;
  /**
   * Atomically claims the oldest WAITING trial (sets it RUNNING), or creates a new RUNNING trial
   * with the next number. Safe when several processes share the storage.
   */
  startTrial(studyId: number): FrozenTrial;
  setTrialParam(trialId: number, name: string, distribution: Distribution, internalValue: number): void;
  setIntermediateValue(trialId: number, step: number, value: number): void;
  setTrialUserAttr(trialId: number, key: string, value: JsonValue): void;
  setTrialSystemAttr(trialId: number, key: string, value: JsonValue): void;
  /** Finishes a RUNNING trial; error if it is already finished. */
  finishTrial(trialId: number, state: "COMPLETE" | "PRUNED" | "FAIL", value: number | null): void;
  /** Records that the process running the trial is alive (see the stale-trial rule in RdbStorage). */
  recordHeartbeat(trialId: number): void;
  /** Records heartbeats every heartbeatIntervalMs until the returned function is called (no-op when heartbeats are off). */
  startHeartbeat(trialId: number): () => void;
  /** Marks RUNNING trials whose heartbeat is older than the grace period as FAIL; returns their numbers. */
  failStaleTrials(studyId: number): number[];
  /** Heartbeat interval in ms, or null when heartbeats are off. */
  readonly heartbeatIntervalMs: number | null;
  getTrial(trialId: number): FrozenTrial;
  getAllTrials(studyId: number, states?: readonly TrialState[]): FrozenTrial[];
  close(): void;
}

/** Params are stored internally as numbers; this is the raw record both storages share. */
export interface TrialRecord {
  trialId: number;
  number: number;
  state: TrialState;
  value: number | null;
  /** name → internal value */
  params: Record<string, number>;
  distributions: Record<string, Distribution>;
  intermediate: Record<number, number>;
  userAttrs: Record<string, JsonValue>;
  systemAttrs: Record<string, JsonValue>;
  start: number | null;
  complete: number | null;
  heartbeat: number | null;
}
