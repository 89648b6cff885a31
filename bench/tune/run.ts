/**
 * One benchmark run: `npm run tune:bench -- --fn <branin|rosenbrock5|mixed3|hartmann6|styblinski5|hpo6> --sampler <tpe|tpe-optuna31|random> --trials N --seed S`.
 * Prints one JSON object last: { fn, sampler, trials, seed, best_value, seconds }.
 */
import { createStudy, OPTUNA_31_TPE, RandomSampler, TpeSampler, type Sampler } from "../../lib/tune";
import { option } from "./cli";
import { ALL_FUNCTIONS } from "./functions";

export interface BenchResult {
  fn: string;
  sampler: string;
  impl: "ours" | "optuna";
  trials: number;
  seed: number;
  best_value: number;
  seconds: number;
}

export function makeSampler(kind: string, seed: number): Sampler {
  if (kind === "tpe") return new TpeSampler({ seed });
  if (kind === "tpe-optuna31") return new TpeSampler({ ...OPTUNA_31_TPE, seed });
  if (kind === "random") return new RandomSampler({ seed });
  throw new Error(`--sampler must be tpe, tpe-optuna31 or random, got "${kind}"`);
}

export async function runBench(fnName: string, samplerKind: string, trials: number, seed: number): Promise<BenchResult> {
  const fn = ALL_FUNCTIONS[fnName];
  if (!fn) throw new Error(`--fn must be one of ${Object.keys(ALL_FUNCTIONS).join(", ")}, got "${fnName}"`);
  const started = Date.now();
  const study = createStudy({ direction: "minimize", sampler: makeSampler(samplerKind, seed), verbosity: 0 });
  await study.optimize((trial) => fn.objective(trial), { nTrials: trials });
  return { fn: fnName, sampler: samplerKind, impl: "ours", trials, seed, best_value: study.bestValue, seconds: (Date.now() - started) / 1000 };
}


if (require.main === module) {
  runBench(option("fn"), option("sampler", "tpe"), Number(option("trials", "50")), Number(option("seed", "0")))
    .then((result) => console.log(JSON.stringify(result)))
    .catch((error) => {
      console.error(error instanceof Error ? error.message : error);
      process.exit(1);
    });
}
