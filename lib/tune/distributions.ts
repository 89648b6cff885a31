/**
 * Search-space distributions, as in Optuna: every suggested parameter has one.
 * Internally (samplers, storage) a parameter is a number: floats and ints as themselves,
 * categorical choices as the index of the choice.
 */
export type CategoricalChoice = string | number | boolean | null;
export type ParamValue = CategoricalChoice;

export interface FloatDistribution {
  readonly type: "float";
  readonly low: number;
  readonly high: number;
  readonly log: boolean;
  /** Discretisation step; null for a continuous range. */
  readonly step: number | null;
}

export interface IntDistribution {
  readonly type: "int";
  readonly low: number;
  readonly high: number;
  readonly log: boolean;
  readonly step: number;
}

export interface CategoricalDistribution {
  readonly type: "categorical";
  readonly choices: readonly CategoricalChoice[];
}

export type Distribution = FloatDistribution | IntDistribution | CategoricalDistribution;
export type SearchSpace = Record<string, Distribution>;

export function floatDistribution(
  name: string,
  low: number,
  high: number,
  options: { log?: boolean; step?: number | null } = {},
): FloatDistribution {
  const log = options.log ?? false;
  const step = options.step ?? null;
  if (!Number.isFinite(low) || !Number.isFinite(high)) throw new Error(`suggestFloat("${name}"): low and high must be finite, got ${low}, ${high}`);
  if (low > high) throw new Error(`suggestFloat("${name}"): low (${low}) must be ≤ high (${high})`);
  if (log && step !== null) throw new Error(`suggestFloat("${name}"): step and log cannot be used together`);
  if (log && low <= 0) throw new Error(`suggestFloat("${name}"): low must be > 0 for a log scale, got ${low}`);
  if (step !== null && !(step > 0)) throw new Error(`suggestFloat("${name}"): step must be > 0, got ${step}`);
  // As Optuna: the high end is moved down onto the step grid.
  const adjustedHigh = step === null ? high : adjustToStep(low, high, step);
  return { type: "float", low, high: adjustedHigh, log, step };
}

export function intDistribution(
  name: string,
  low: number,
  high: number,
  options: { log?: boolean; step?: number } = {},
): IntDistribution {
  const log = options.log ?? false;
  const step = options.step ?? 1;
  if (!Number.isInteger(low) || !Number.isInteger(high)) throw new Error(`suggestInt("${name}"): low and high must be integers, got ${low}, ${high}`);
  if (low > high) throw new Error(`suggestInt("${name}"): low (${low}) must be ≤ high (${high})`);
  if (!Number.isInteger(step) || step < 1) throw new Error(`suggestInt("${name}"): step must be an integer ≥ 1, got ${step}`);
  if (log && step !== 1) throw new Error(`suggestInt("${name}"): step must be 1 for a log scale`);
  if (log && low < 1) throw new Error(`suggestInt("${name}"): low must be ≥ 1 for a log scale, got ${low}`);
  return { type: "int", low, high: adjustToStep(low, high, step), log, step };
}

export function categoricalDistribution(name: string, choices: readonly CategoricalChoice[]): CategoricalDistribution {
  if (choices.length === 0) throw new Error(`suggestCategorical("${name}"): choices must not be empty`);
  return { type: "categorical", choices: [...choices] };
}

function adjustToStep(low: number, high: number, step: number): number {
  const n = Math.floor((high - low) / step + 1e-9);
  // Rounding keeps e.g. 0.1 steps free of 0.30000000000000004.
  return roundLike(low + n * step, step);
}

function roundLike(value: number, step: number): number {
  const decimals = Math.max(0, Math.min(15, -Math.floor(Math.log10(step)) + 6));
  return Number(value.toFixed(decimals));
}

/** External value (what the objective sees) → internal number. */
export function toInternal(dist: Distribution, value: ParamValue): number {
  if (dist.type === "categorical") {
    const index = dist.choices.findIndex((c) => c === value || (Number.isNaN(c) && Number.isNaN(value)));
    if (index < 0) throw new Error(`value ${JSON.stringify(value)} is not one of the choices ${JSON.stringify(dist.choices)}`);
    return index;
  }
  if (typeof value !== "number") throw new Error(`value ${JSON.stringify(value)} must be a number for a ${dist.type} distribution`);
  return value;
}

/** Internal number → external value. */
export function toExternal(dist: Distribution, internal: number): ParamValue {
  if (dist.type === "categorical") return dist.choices[internal];
  if (dist.type === "int") return Math.round(internal);
  if (dist.step !== null) return roundLike(internal, dist.step);
  return internal;
}

export function contains(dist: Distribution, internal: number): boolean {
  if (dist.type === "categorical") return Number.isInteger(internal) && internal >= 0 && internal < dist.choices.length;
  if (internal < dist.low || internal > dist.high) return false;
  if (dist.type === "int") return Number.isInteger(internal) && (internal - dist.low) % dist.step === 0;
  if (dist.step !== null) {
    const k = (internal - dist.low) / dist.step;
    return Math.abs(k - Math.round(k)) < 1e-8;
  }
  return true;
}

export function isSingle(dist: Distribution): boolean {
  return dist.type === "categorical" ? dist.choices.length === 1 : dist.low === dist.high;
}

export function distributionsEqual(a: Distribution, b: Distribution): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Compatible = same kind, same log scale, and for categoricals the same choices (Optuna's check_distribution_compatibility). */
export function checkCompatible(name: string, old: Distribution, next: Distribution): void {
  if (old.type !== next.type) throw new Error(`parameter "${name}" was suggested as ${old.type} before and as ${next.type} now`);
  if (old.type !== "categorical" && old.log !== (next as typeof old).log) {
    throw new Error(`parameter "${name}" was suggested with log ${old.log} before and log ${(next as typeof old).log} now`);
  }
  if (old.type === "categorical" && JSON.stringify(old.choices) !== JSON.stringify((next as CategoricalDistribution).choices)) {
    throw new Error(`parameter "${name}": categorical choices changed from ${JSON.stringify(old.choices)} to ${JSON.stringify((next as CategoricalDistribution).choices)}`);
  }
}
