import type { Distribution } from "../distributions";
import { TrialNotRunningError, type FrozenTrial, type JsonValue, type StudyDirection, type TrialState } from "../types";
import { freezeRecord } from "./frozen";
import type { StudyStorage, StudySummary, TrialRecord } from "./types";

/** Keeps everything in this process's memory; gone when the process ends. */
export class InMemoryStorage implements StudyStorage {
  readonly heartbeatIntervalMs = null;
  private readonly studies: (StudySummary & { trials: TrialRecord[] })[] = [];
  private readonly trialsById = new Map<number, TrialRecord>();
  private nextTrialId = 0;

  createStudy(name: string, direction: StudyDirection, loadIfExists: boolean): StudySummary {
    const existing = this.studies.find((s) => s.name === name);
    if (existing) {
      if (!loadIfExists) throw new Error(`study "${name}" already exists (pass loadIfExists: true to resume it)`);
      return summary(existing);
    }
    const study = { studyId: this.studies.length, name, direction, trials: [] };
    this.studies.push(study);
    return summary(study);
  }

  getStudy(name: string): StudySummary {
    const study = this.studies.find((s) => s.name === name);
    if (!study) throw new Error(`study "${name}" does not exist in this in-memory storage`);
    return summary(study);
  }

  listStudies(): StudySummary[] {
    return this.studies.filter((s) => s.name !== "").map(summary);
  }

  deleteStudy(name: string): void {
    const study = this.studies.find((s) => s.name === name);
    if (!study) throw new Error(`study "${name}" does not exist`);
    for (const t of study.trials) this.trialsById.delete(t.trialId);
    study.trials = [];
    (study as { name: string }).name = "";
  }

  private newRecord(studyId: number, state: TrialState): TrialRecord {
    const trials = this.studies[studyId].trials;
    const record: TrialRecord = {
      trialId: this.nextTrialId++,
      number: trials.length,
      state,
      value: null,
      params: {},
      distributions: {},
      intermediate: {},
      userAttrs: {},
      systemAttrs: {},
      start: state === "RUNNING" ? Date.now() : null,
      complete: null,
      heartbeat: null,
    };
    trials.push(record);
    this.trialsById.set(record.trialId, record);
    return record;
  }

  enqueueTrial(studyId: number, fixedParams: Record<string, JsonValue>): FrozenTrial {
    const record = this.newRecord(studyId, "WAITING");
    record.systemAttrs.fixed_params = structuredClone(fixedParams);
    return freezeRecord(record);
  }

  startTrial(studyId: number): FrozenTrial {
    const waiting = this.studies[studyId].trials.find((t) => t.state === "WAITING");
    if (waiting) {
      waiting.state = "RUNNING";
      waiting.start = Date.now();
      return freezeRecord(waiting);
    }
    return freezeRecord(this.newRecord(studyId, "RUNNING"));
  }

  private running(trialId: number): TrialRecord {
    const record = this.trialsById.get(trialId);
    if (!record) throw new Error(`trial id ${trialId} does not exist`);
    if (record.state !== "RUNNING") throw new TrialNotRunningError(record.number, record.state);
    return record;
  }

  setTrialParam(trialId: number, name: string, distribution: Distribution, internalValue: number): void {
    const record = this.running(trialId);
    record.params[name] = internalValue;
    record.distributions[name] = distribution;
  }

  setIntermediateValue(trialId: number, step: number, value: number): void {
    this.running(trialId).intermediate[step] = value;
  }

  setTrialUserAttr(trialId: number, key: string, value: JsonValue): void {
    this.running(trialId).userAttrs[key] = structuredClone(value);
  }

  setTrialSystemAttr(trialId: number, key: string, value: JsonValue): void {
    this.running(trialId).systemAttrs[key] = structuredClone(value);
  }

  finishTrial(trialId: number, state: "COMPLETE" | "PRUNED" | "FAIL", value: number | null): void {
    const record = this.running(trialId);
    record.state = state;
    record.value = value;
    record.complete = Date.now();
  }

  recordHeartbeat(trialId: number): void {
    this.running(trialId).heartbeat = Date.now();
  }

  startHeartbeat(): () => void {
    return () => {};
  }

  failStaleTrials(): number[] {
    return [];
  }

  getTrial(trialId: number): FrozenTrial {
    const record = this.trialsById.get(trialId);
    if (!record) throw new Error(`trial id ${trialId} does not exist`);
    return freezeRecord(record);
  }

  getAllTrials(studyId: number, states?: readonly TrialState[]): FrozenTrial[] {
    const trials = this.studies[studyId]?.trials;
    if (!trials) throw new Error(`study id ${studyId} does not exist`);
    return trials.filter((t) => !states || states.includes(t.state)).map(freezeRecord);
  }

  close(): void {}
}

function summary(s: StudySummary): StudySummary {
  return { studyId: s.studyId, name: s.name, direction: s.direction };
}
