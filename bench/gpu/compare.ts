import { createRng } from "../../lib/util";

/**
 * Comparing two backends' outputs. Small outputs are kept whole; large ones (a ResNet-50's gradients) as their norm,
 * largest magnitude and 2048 values at seeded positions, which both sides sample alike.
 */
export interface Fingerprint {
  length: number;
  norm: number;
  maxAbs: number;
  /** Positions of `values` in the full output (absent when `values` is the whole output). */
  positions?: number[];
  values: number[];
}

const WHOLE = 4096;
const SAMPLE = 2048;

export function fingerprint(values: Float32Array): Fingerprint {
  let sq = 0;
  let maxAbs = 0;
  for (const v of values) {
    sq += v * v;
    maxAbs = Math.max(maxAbs, Math.abs(v));
  }
  const base = { length: values.length, norm: Math.sqrt(sq), maxAbs };
  if (values.length <= WHOLE) return { ...base, values: Array.from(values) };
  const rng = createRng(values.length);
  const positions = Array.from({ length: SAMPLE }, () => rng.int(values.length)).sort((a, b) => a - b);
  return { ...base, positions, values: positions.map((i) => values[i]) };
}

/** |ours − reference| ≤ rtol · (largest |reference| of that output) + atol, element by element; norms alike. */
export interface Tolerance {
  rtol: number;
  atol: number;
  /** Why this bound. */
  why: string;
}

export interface Comparison {
  key: string;
  /** Largest |Δ| over the compared values, divided by the allowed |Δ| (≤ 1 passes). */
  worst: number;
  maxAbsDiff: number;
  pass: boolean;
  note?: string;
}

export function compareFingerprints(key: string, ours: Fingerprint, reference: Fingerprint, tolerance: Tolerance): Comparison {
  if (ours.length !== reference.length || ours.values.length !== reference.values.length) {
    return { key, worst: Infinity, maxAbsDiff: Infinity, pass: false, note: `length ${ours.length} vs ${reference.length}` };
  }
  const allowed = tolerance.rtol * reference.maxAbs + tolerance.atol;
  let maxAbsDiff = 0;
  let nonFinite = false;
  for (let i = 0; i < ours.values.length; i++) {
    const [a, b] = [ours.values[i], reference.values[i]];
    if (Number.isNaN(a) && Number.isNaN(b)) continue;
    if (!Number.isFinite(a) || !Number.isFinite(b)) nonFinite = true;
    maxAbsDiff = Math.max(maxAbsDiff, Math.abs(a - b));
  }
  // The norm covers the values a sample leaves out; atol per element adds up over the output's length.
  const normAllowed = tolerance.rtol * reference.norm + tolerance.atol * Math.sqrt(reference.length);
  const worst = Math.max(maxAbsDiff / allowed, Math.abs(ours.norm - reference.norm) / normAllowed);
  const pass = !nonFinite && worst <= 1;
  return { key, worst, maxAbsDiff, pass, note: nonFinite ? "non-finite value" : undefined };
}
