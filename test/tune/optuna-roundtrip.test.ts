/**
 * Round trips with Optuna 3.1 itself (Debian's python3-optuna): a study lib/tune wrote loads in Optuna with the same
 * trials, and a study Optuna wrote loads in lib/tune and is continued by it — on SQLite, and on PostgreSQL when
 * TUNE_POSTGRES_URL is set (Optuna reaches it through python3-psycopg2).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createStudy, loadStudy, NopPruner, RdbStorage, TpeSampler, TrialPruned, type Trial } from "../../lib/tune";
import { parsePythonJson } from "../../lib/tune/storage/optuna-schema";
import { assertAvailable, backendTestOptions, BACKENDS, PYTHON, pythonOptunaMissing } from "./backends";

interface PyTrial {
  number: number;
  state: string;
  value: number | null;
  params: Record<string, unknown>;
  intermediate_values: Record<string, number>;
  user_attrs: Record<string, unknown>;
  system_attrs: Record<string, unknown>;
}
interface PyStudy {
  direction: string;
  trials: PyTrial[];
  best: { number: number; value: number; params: Record<string, unknown> } | null;
}

const DUMP = `
def dump(study):
    trials = [dict(number=t.number, state=t.state.name, value=t.value, params=t.params, intermediate_values=t.intermediate_values,
                   user_attrs=t.user_attrs, system_attrs=t.system_attrs) for t in study.trials]
    complete = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    best = dict(number=study.best_trial.number, value=study.best_value, params=study.best_params) if complete else None
    print(json.dumps(dict(direction=study.direction.name, trials=trials, best=best)))
`;

function python(script: string, ...args: string[]): PyStudy {
  const out = execFileSync(PYTHON, ["-c", `import json, sys, optuna\noptuna.logging.set_verbosity(optuna.logging.WARNING)\n${DUMP}\n${script}`, ...args], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  });
  return parsePythonJson(out.trim().split("\n").pop() as string) as unknown as PyStudy;
}

function tsObjective(trial: Trial): number {
  const lr = trial.suggestFloat("lr", 1e-5, 1e-1, { log: true });
  const dropout = trial.suggestFloat("dropout", 0, 0.5, { step: 0.05 });
  const units = trial.suggestInt("units", 16, 256, { step: 16 });
  const layers = trial.suggestInt("layers", 1, 4);
  const activation = trial.suggestCategorical("activation", ["relu", "tanh", null, true, 3]);
  const score = -Math.abs(Math.log10(lr) + 3) - Math.abs(dropout - 0.2) + units / 256 - layers / 10 + (activation === "relu" ? 0.5 : 0);
  for (let step = 0; step < 3; step++) trial.report(score - (2 - step) / 10, step);
  trial.setUserAttr("note", { units, activation });
  if (trial.number % 7 === 3) throw new TrialPruned();
  if (trial.number % 11 === 5) throw new RangeError("diverged");
  return score;
}

for (const backend of BACKENDS) {
  const missingPython = pythonOptunaMissing(backend.name === "postgresql");
  const options = backendTestOptions(backend);
  if (!options.skip && missingPython && process.env.CI !== "true") options.skip = `round trip with Optuna: ${missingPython}`;

  test(`${backend.name}: a lib/tune study of 30 trials loads in Optuna 3.1 with the same params, values, states and best trial`, options, async () => {
    assertAvailable(backend);
    if (missingPython) throw new Error(`CI=true but ${missingPython}`);
    const url = backend.freshUrl();
    const study = createStudy({ name: "from-lib-tune", storage: url, direction: "maximize", sampler: new TpeSampler({ seed: 3 }), pruner: new NopPruner(), verbosity: 0 });
    await study.optimize(tsObjective, { nTrials: 30, catch: [RangeError] });
    const ours = study.trials;
    assert.deepEqual(
      [...new Set(ours.map((t) => t.state))].sort(),
      ["COMPLETE", "FAIL", "PRUNED"],
    );

    const theirs = python("dump(optuna.load_study(study_name='from-lib-tune', storage=sys.argv[1]))", url);
    assert.equal(theirs.direction, "MAXIMIZE");
    assert.equal(theirs.trials.length, 30);
    for (const [i, t] of ours.entries()) {
      const p = theirs.trials[i];
      assert.equal(p.number, t.number);
      assert.equal(p.state, t.state, `trial ${t.number}`);
      assert.equal(p.value, t.value, `trial ${t.number}`);
      assert.deepEqual(p.params, t.params, `trial ${t.number}`);
      assert.deepEqual(p.intermediate_values, Object.fromEntries(Object.entries(t.intermediateValues).map(([k, v]) => [k, v])));
      assert.deepEqual(p.user_attrs, t.userAttrs);
      assert.equal(Number.isInteger(p.params.units), true);
    }
    assert.deepEqual(theirs.best, { number: study.bestTrial.number, value: study.bestValue, params: study.bestParams });
    (study.storage as RdbStorage).close();
  });

  test(`${backend.name}: a study Optuna 3.1 wrote (with an enqueued trial) loads in lib/tune and is continued by it`, options, async () => {
    assertAvailable(backend);
    if (missingPython) throw new Error(`CI=true but ${missingPython}`);
    const url = backend.freshUrl();
    const written = python(
      `
def objective(trial):
    x = trial.suggest_float("x", -4, 4)
    n = trial.suggest_int("n", 1, 32, log=True)
    c = trial.suggest_categorical("c", ["a", "b", None])
    y = trial.suggest_float("y", 0, 1, step=0.25)
    trial.report(x * x, 0)
    trial.set_user_attr("tag", [n, c])
    if trial.number == 4:
        raise optuna.TrialPruned()
    if trial.number == 6:
        raise ValueError("boom")
    return (x - 1) ** 2 + n / 10 + (0 if c == "a" else 1) + y
study = optuna.create_study(study_name="from-optuna", storage=sys.argv[1], sampler=optuna.samplers.TPESampler(seed=1))
study.optimize(objective, n_trials=12, catch=(ValueError,))
study.enqueue_trial({"x": 0.25, "c": "a"})
dump(study)`,
      url,
    );
    assert.equal(written.trials.length, 13);

    const study = loadStudy({ name: "from-optuna", storage: url, sampler: new TpeSampler({ seed: 2 }), verbosity: 0 });
    assert.equal(study.direction, "minimize");
    const loaded = study.trials;
    assert.deepEqual(
      loaded.map((t) => [t.number, t.state, t.value, t.params, t.userAttrs]),
      written.trials.map((t) => [t.number, t.state, t.value, t.params, t.user_attrs]),
    );
    assert.deepEqual(loaded[12].systemAttrs.fixed_params, { x: 0.25, c: "a" });
    assert.equal(study.bestTrial.number, written.best?.number);

    await study.optimize((trial) => {
      const x = trial.suggestFloat("x", -4, 4);
      const n = trial.suggestInt("n", 1, 32, { log: true });
      const c = trial.suggestCategorical("c", ["a", "b", null]);
      const y = trial.suggestFloat("y", 0, 1, { step: 0.25 });
      return (x - 1) ** 2 + n / 10 + (c === "a" ? 0 : 1) + y;
    }, { nTrials: 5 });
    const continued = study.trials;
    assert.deepEqual(continued.map((t) => t.number), Array.from({ length: 17 }, (_, i) => i));
    assert.equal(continued[12].state, "COMPLETE");
    assert.equal(continued[12].params.x, 0.25, "the trial Optuna enqueued ran with its fixed params");
    assert.equal(continued[12].params.c, "a");

    const reread = python("dump(optuna.load_study(study_name='from-optuna', storage=sys.argv[1]))", url);
    assert.deepEqual(
      reread.trials.map((t) => [t.number, t.state, t.value, t.params]),
      continued.map((t) => [t.number, t.state, t.value, t.params]),
    );
    assert.deepEqual(reread.best, { number: study.bestTrial.number, value: study.bestValue, params: study.bestParams });
    (study.storage as RdbStorage).close();
  });
}
