import { toExternal, type ParamValue } from "../distributions";
import type { FrozenTrial } from "../types";
import type { TrialRecord } from "./types";

export function freezeRecord(record: TrialRecord): FrozenTrial {
  const params: Record<string, ParamValue> = {};
  for (const [name, internal] of Object.entries(record.params)) {
    params[name] = toExternal(record.distributions[name], internal);
  }
  return {
    number: record.number,
    trialId: record.trialId,
    state: record.state,
    value: record.value,
    params,
    distributions: { ...record.distributions },
    intermediateValues: { ...record.intermediate },
    userAttrs: structuredClone(record.userAttrs),
    systemAttrs: structuredClone(record.systemAttrs),
    datetimeStart: record.start === null ? null : new Date(record.start),
    datetimeComplete: record.complete === null ? null : new Date(record.complete),
    duration: record.start !== null && record.complete !== null ? record.complete - record.start : null,
  };
}
