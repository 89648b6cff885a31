/**
 * Held-out selection of TPE defaults: each candidate setting against the current default on seeds that the
 * Optuna comparison never reports (default 300…399), all three bench functions, 50 trials.
 * Prints per function the median best value and the paired comparison with the default
 * (wins / losses over seeds, median of log10(candidate / default); negative = candidate better).
 *
 *   npx tsx bench/tune/select.ts [--from 300 --seeds 100 --trials 50 --only name1,name2]
 */
import { createStudy, TpeSampler, type TpeSamplerOptions } from "../../lib/tune";
import { percentileOf } from "../../lib/tune/pruners";
import { BENCH_FUNCTIONS } from "./functions";

const CANDIDATES: Record<string, TpeSamplerOptions> = {
  default: {},
  "ei-48": { nEiCandidates: 48 },
  "ei-96": { nEiCandidates: 96 },
  "gamma-0.15": { gamma: (n) => Math.min(Math.ceil(0.15 * n), 25) },
  "gamma-0.125": { gamma: (n) => Math.min(Math.ceil(0.125 * n), 25) },
  "gamma-0.175": { gamma: (n) => Math.min(Math.ceil(0.175 * n), 25) },
  "gamma-0.2": { gamma: (n) => Math.min(Math.ceil(0.2 * n), 25) },
  "prior-0.5": { priorWeight: 0.5 },
  "prior-2": { priorWeight: 2 },
  "bw-optuna3": { bandwidth: "optuna3" },
  "startup-5": { nStartupTrials: 5 },
  endpoints: { considerEndpoints: true },
  "weights-flat": { weights: (n) => new Array(n).fill(1) },
  "ei-36": { nEiCandidates: 36 },
  "gamma-hyperopt": { gamma: (n) => Math.ceil(0.25 * Math.sqrt(n)) },
};

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

async function best(fn: string, options: TpeSamplerOptions, seed: number, trials: number): Promise<number> {
  const study = createStudy({ direction: "minimize", sampler: new TpeSampler({ ...options, seed }), verbosity: 0 });
  await study.optimize((trial) => BENCH_FUNCTIONS[fn].objective(trial), { nTrials: trials });
  return study.bestValue;
}

async function main(): Promise<void> {
  const from = Number(arg("from", "300"));
  const nSeeds = Number(arg("seeds", "100"));
  const trials = Number(arg("trials", "50"));
  const only = arg("only", "");
  const names = only ? ["default", ...only.split(",").filter((n) => n !== "default")] : Object.keys(CANDIDATES);
  const seeds = Array.from({ length: nSeeds }, (_, i) => from + i);
  const values: Record<string, Record<string, number[]>> = {};
  for (const fn of Object.keys(BENCH_FUNCTIONS)) {
    values[fn] = {};
    for (const name of names) {
      const opts = CANDIDATES[name];
      if (!opts) throw new Error(`unknown candidate ${name}`);
      values[fn][name] = [];
      for (const seed of seeds) values[fn][name].push(await best(fn, opts, seed, trials));
    }
  }
  console.log(`seeds ${from}…${from + nSeeds - 1}, ${trials} trials; paired vs default: wins/losses, median log10 ratio`);
  console.log(["candidate", ...Object.keys(BENCH_FUNCTIONS)].join(" | "));
  for (const name of names) {
    const cells = Object.keys(BENCH_FUNCTIONS).map((fn) => {
      const v = values[fn][name];
      const d = values[fn].default;
      const ratios = v.map((x, i) => Math.log10(Math.max(x, 1e-12) / Math.max(d[i], 1e-12)));
      const wins = ratios.filter((r) => r < 0).length;
      const losses = ratios.filter((r) => r > 0).length;
      const med = percentileOf(v, 50);
      return `${med < 0.01 ? med.toExponential(2) : med.toFixed(3)} (${wins}/${losses}, ${percentileOf(ratios, 50).toFixed(3)})`;
    });
    console.log([name, ...cells].join(" | "));
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
