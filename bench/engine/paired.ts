/**
 * Paired rounds for the training benchmarks (bench/engine/run.ts): ours, then the reference, back to back, in
 * `rounds` rounds, so that both sides of each ratio saw the same machine load. The reported ratio is the median of
 * the per-round ratios, with their range; ours and the reference are the medians of their rounds.
 */
export interface PairedEntry {
  ours: number;
  reference: number | null;
  /** Median of the per-round ratios ours / reference. */
  ratio: number | null;
  unit: string;
  oursRange?: [number, number];
  referenceRange?: [number, number];
  ratioRange?: [number, number];
  rounds: Array<{ ours: number; reference: number | null; ratio: number | null }>;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function span(values: number[]): [number, number] | undefined {
  return values.length > 1 ? [Math.min(...values), Math.max(...values)] : undefined;
}

export function pairedRounds(rounds: number, unit: string, oursOnce: () => number, referenceOnce: (() => number) | null): PairedEntry {
  const done: PairedEntry["rounds"] = [];
  for (let r = 0; r < rounds; r++) {
    const ours = oursOnce();
    const reference = referenceOnce ? referenceOnce() : null;
    done.push({ ours, reference, ratio: reference ? ours / reference : null });
  }
  const oursValues = done.map((r) => r.ours);
  const references = done.flatMap((r) => (r.reference === null ? [] : [r.reference]));
  const ratios = done.flatMap((r) => (r.ratio === null ? [] : [r.ratio]));
  return {
    ours: median(oursValues),
    reference: references.length ? median(references) : null,
    ratio: ratios.length ? median(ratios) : null,
    unit,
    oursRange: span(oursValues),
    referenceRange: span(references),
    ratioRange: span(ratios),
    rounds: done,
  };
}
