/**
 * Held-out selection of TPE defaults: each candidate setting against the current default on seeds that the
 * Optuna comparison never reports (default 300…399), all three bench functions, 50 trials.
 * Prints per function the median best value and the paired comparison with the default
 * (wins / losses over seeds, median of log10(candidate / default); negative = candidate better).
 * With --optuna DIR (files <fn>.jsonl from `optuna_ref.py --seeds …` on the same seeds) it also prints, per
 * function, P(candidate < Optuna): the chance that one run of the candidate ends below one run of Optuna's
 * default TPE (Mann–Whitney's common-language effect size; 0.5 = a coin flip).
 *
 * --fns picks other functions, e.g. the validation ones (hartmann6,styblinski5,hpo6), which are never used to choose.
 *
 *   npx tsx bench/tune/select.ts [--from 300 --seeds 100 --trials 50 --only name1,name2 --optuna DIR --fns a,b]
 */
import fs from "node:fs";
import path from "node:path";
import { createStudy, TpeSampler, type TpeSamplerOptions } from "../../lib/tune";
import { percentileOf } from "../../lib/tune/pruners";
import { chanceBelow, formatValue, option } from "./cli";
import { ALL_FUNCTIONS, BENCH_FUNCTIONS } from "./functions";

/** Candidate settings, each on top of the current default ({}). */
const CANDIDATES: Record<string, TpeSamplerOptions> = {
  default: {},
  // The magic clip of Optuna (and of our default before the kernel-volume floor): range / min(100, 1 + kernels).
  "optuna-clip": { magicClipExponent: 1, minKernelVolume: 0 },
  "clip-a2-only": { minKernelVolume: 0 },
  "clip-a1.5": { magicClipExponent: 1.5 },
  "fixed-floor-0.03": { minKernelVolume: 0, minBandwidthFactor: 0.03 },
  "fixed-floor-0.05": { minKernelVolume: 0, minBandwidthFactor: 0.05 },
  "fixed-floor-0.1": { minKernelVolume: 0, minBandwidthFactor: 0.1 },
  "volume-0.04": { minKernelVolume: 0.04 ** 5 },
  "volume-0.07": { minKernelVolume: 0.07 ** 5 },
  "ei-48": { nEiCandidates: 48 },
  "gamma-0.15": { gamma: (n) => Math.min(Math.ceil(0.15 * n), 25) },
  "prior-0.5": { priorWeight: 0.5 },
  "prior-2": { priorWeight: 2 },
  "bw-optuna3": { bandwidth: "optuna3" },
  "startup-5": { nStartupTrials: 5 },
  endpoints: { considerEndpoints: true },
  "proper-density": { peakNormalizedKernels: false },
};


async function best(fn: string, options: TpeSamplerOptions, seed: number, trials: number): Promise<number> {
  const study = createStudy({ direction: "minimize", sampler: new TpeSampler({ ...options, seed }), verbosity: 0 });
  await study.optimize((trial) => ALL_FUNCTIONS[fn].objective(trial), { nTrials: trials });
  return study.bestValue;
}

/** Optuna's best values per function on the given seeds, from `optuna_ref.py` output files. */
function readOptuna(dir: string, fns: string[], seeds: number[]): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const fn of fns) {
    const bySeed = new Map<number, number>();
    for (const line of fs.readFileSync(path.join(dir, `${fn}.jsonl`), "utf8").split("\n")) {
      if (!line.trim()) continue;
      const row = JSON.parse(line) as { seed: number; best_value: number };
      bySeed.set(row.seed, row.best_value);
    }
    out[fn] = seeds.map((seed) => {
      const v = bySeed.get(seed);
      if (v === undefined) throw new Error(`${dir}/${fn}.jsonl has no seed ${seed}`);
      return v;
    });
  }
  return out;
}


async function main(): Promise<void> {
  const from = Number(option("from", "300"));
  const nSeeds = Number(option("seeds", "100"));
  const trials = Number(option("trials", "50"));
  const only = option("only", "");
  const names = only ? ["default", ...only.split(",").filter((n) => n !== "default")] : Object.keys(CANDIDATES);
  const seeds = Array.from({ length: nSeeds }, (_, i) => from + i);
  const optunaDir = option("optuna", "");
  const fns = option("fns", Object.keys(BENCH_FUNCTIONS).join(",")).split(",");
  for (const fn of fns) if (!ALL_FUNCTIONS[fn]) throw new Error(`unknown function ${fn}`);
  const optuna = optunaDir ? readOptuna(optunaDir, fns, seeds) : null;
  const values: Record<string, Record<string, number[]>> = {};
  for (const fn of fns) {
    values[fn] = {};
    for (const name of names) {
      const opts = CANDIDATES[name];
      if (!opts) throw new Error(`unknown candidate ${name}`);
      values[fn][name] = [];
      for (const seed of seeds) values[fn][name].push(await best(fn, opts, seed, trials));
    }
  }
  console.log(`seeds ${from}…${from + nSeeds - 1}, ${trials} trials; paired vs default: wins/losses, median log10 ratio`);
  console.log(["candidate", ...fns].join(" | "));
  for (const name of names) {
    const cells = fns.map((fn) => {
      const v = values[fn][name];
      const d = values[fn].default;
      // Ratios of regrets (distance to the optimum), so that functions with a negative minimum compare too.
      const regret = (x: number) => Math.max(x - ALL_FUNCTIONS[fn].optimum, 1e-12);
      const ratios = v.map((x, i) => Math.log10(regret(x) / regret(d[i])));
      const wins = ratios.filter((r) => r < 0).length;
      const losses = ratios.filter((r) => r > 0).length;
      const med = percentileOf(v, 50);
      const vsOptuna = optuna ? `, P<optuna ${chanceBelow(v, optuna[fn]).toFixed(2)}` : "";
      return `${formatValue(med)} (${wins}/${losses}, ${percentileOf(ratios, 50).toFixed(3)}${vsOptuna})`;
    });
    console.log([name, ...cells].join(" | "));
  }
  if (optuna) console.log(["optuna default", ...fns.map((fn) => formatValue(percentileOf(optuna[fn], 50)))].join(" | "));
}


main().catch((error) => {
  console.error(error);
  process.exit(1);
});
