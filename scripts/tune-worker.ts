/**
 * One worker of a shared study: `npm run tune:worker -- --study <name> --storage <url> --trials N [options]`.
 * Start as many as you like, on any machines that reach the database; they share the study through its storage
 * (Optuna's schema: Optuna and optuna-dashboard open the same study). The study is created when it does not exist.
 *
 *   --objective fusion | branin | rosenbrock5 | mixed3 | hartmann6 | styblinski5 | hpo6   (default fusion)
 *       fusion: notebook 06's broad study (lr, weight decay, label smoothing, dropout, augmentation, fusion type;
 *       10 epochs, median pruning), trained on this machine's data and embedding cache and tracked in outputs/mlruns;
 *       the others: bench/tune's test functions, for quick checks of a shared setup.
 *   --sampler tpe | random (default tpe)   --seed S (default 42)
 *   --heartbeat S   heartbeat interval in seconds (default 10; a trial silent for 2 × S is taken for dead and failed)
 *   --trial-seconds S   make each trial last at least S seconds (default 0; simulates training in quick checks)
 * Prints one line per finished trial, then one JSON object last:
 *   {"study": ..., "worker_trials": n, "study_trials": n, "best_value": x}
 */
import os from "node:os";
import { ALL_FUNCTIONS } from "../bench/tune/functions";
import { option } from "../bench/tune/cli";
import { createStudy, MedianPruner, NopPruner, RandomSampler, RdbStorage, TpeSampler, type Objective, type Pruner, type Sampler, type StudyDirection, type Trial } from "../lib/tune";

interface WorkerObjective {
  direction: StudyDirection;
  pruner: Pruner;
  /** Prepares what every trial needs once (data, caches), then returns the objective. */
  prepare(worker: string): Promise<Objective>;
}

/** Notebook 06, section 5: the broad study over the fusion networks (lib/experiments suggestBroadConfig). */
const FUSION_PRESETS = ["A1", "A2", "A3", "A4"];

function fusionObjective(study: string, seed: number): WorkerObjective {
  // Loaded only for this objective: the bench functions need no TensorFlow.js.
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const experiments = require("../lib/experiments") as typeof import("../lib/experiments");
  return {
    direction: "maximize",
    pruner: new MedianPruner(experiments.BROAD_PRUNER_OPTIONS),
    async prepare(worker) {
      const data = await experiments.loadTuningData({ seed, presets: FUSION_PRESETS, variants: 2, log: true });
      return async (trial: Trial) => {
        const result = await experiments.runFusionTrial(data, experiments.suggestBroadConfig(trial, FUSION_PRESETS), {
          trial,
          track: { experiment: "06_tuning", runName: `${study}-t${trial.number}`, tags: { "tune.study": study, "tune.trial": String(trial.number), "tune.worker": worker } },
        });
        trial.setUserAttr("run_id", result.runId ?? null);
        return result.valF1;
      };
    },
  };
}

function benchObjective(name: string): WorkerObjective {
  const fn = ALL_FUNCTIONS[name];
  if (!fn) throw new Error(`--objective must be fusion or one of ${Object.keys(ALL_FUNCTIONS).join(", ")}, got "${name}"`);
  return { direction: "minimize", pruner: new NopPruner(), prepare: async () => (trial) => fn.objective(trial) };
}

function makeSampler(kind: string, seed: number): Sampler {
  if (kind === "tpe") return new TpeSampler({ seed });
  if (kind === "random") return new RandomSampler({ seed });
  throw new Error(`--sampler must be tpe or random, got "${kind}"`);
}

function positive(name: string, fallback: string, allowZero = false): number {
  const value = Number(option(name, fallback));
  if (!Number.isFinite(value) || value < 0 || (!allowZero && value === 0)) throw new Error(`--${name} must be a ${allowZero ? "non-negative" : "positive"} number, got "${option(name, fallback)}"`);
  return value;
}

async function main(): Promise<void> {
  const studyName = option("study");
  const url = option("storage");
  const trials = positive("trials", "10");
  if (!Number.isInteger(trials)) throw new Error(`--trials must be a whole number, got ${trials}`);
  const objectiveName = option("objective", "fusion");
  const seed = Number(option("seed", "42"));
  const heartbeat = positive("heartbeat", "10");
  const trialSeconds = positive("trial-seconds", "0", true);
  const worker = `${os.hostname()}:${process.pid}`;

  const spec = objectiveName === "fusion" ? fusionObjective(studyName, seed) : benchObjective(objectiveName);
  const storage = new RdbStorage(url, { heartbeatIntervalS: heartbeat });
  const study = createStudy({ name: studyName, storage, direction: spec.direction, loadIfExists: true, sampler: makeSampler(option("sampler", "tpe"), seed), pruner: spec.pruner });
  console.log(`worker ${worker}: study "${studyName}" in ${storage.location} (${study.trials.length} trials so far), objective ${objectiveName}`);
  const objective = await spec.prepare(worker);

  let ran = 0;
  await study.optimize(
    async (trial) => {
      const started = Date.now();
      trial.setUserAttr("worker", worker);
      // What this worker's sampler reads from the shared study when the trial starts (checked by bench/tune/workers.ts).
      trial.setUserAttr("finished_seen", study.getTrials(["COMPLETE", "PRUNED", "FAIL"]).length);
      const value = await objective(trial);
      const rest = trialSeconds * 1000 - (Date.now() - started);
      if (rest > 0) await new Promise((resolve) => setTimeout(resolve, rest));
      return value;
    },
    { nTrials: trials, catch: [Error], callbacks: [() => ran++] },
  );
  const complete = study.getTrials(["COMPLETE"]);
  const summary = { study: studyName, worker_trials: ran, study_trials: study.trials.length, best_value: complete.length > 0 ? study.bestValue : null };
  storage.close();
  console.log(JSON.stringify(summary));
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
