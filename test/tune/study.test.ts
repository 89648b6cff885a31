import { test } from "node:test";
import assert from "node:assert/strict";
import { createStudy, MedianPruner, NopPruner, RandomSampler, TrialPruned, TpeSampler, InMemoryStorage, loadStudy } from "../../lib/tune";

test("define-by-run: optimize, bestTrial, trials with params, value, state and duration", async () => {
  const study = createStudy({ name: "quad", direction: "minimize", sampler: new RandomSampler({ seed: 1 }), verbosity: 0 });
  await study.optimize(
    (trial) => {
      const x = trial.suggestFloat("x", -5, 5);
      const y = trial.suggestInt("y", -3, 3);
      // re-suggesting a name returns the same value
      assert.equal(trial.suggestFloat("x", -5, 5), x);
      return x * x + y * y;
    },
    { nTrials: 12 },
  );
  const trials = study.trials;
  assert.equal(trials.length, 12);
  assert.deepEqual(trials.map((t) => t.number), [...Array(12).keys()]);
  for (const t of trials) {
    assert.equal(t.state, "COMPLETE");
    assert.equal(t.value, (t.params.x as number) ** 2 + (t.params.y as number) ** 2);
    assert.ok(t.duration !== null && t.duration >= 0);
    assert.ok(t.datetimeStart instanceof Date);
  }
  const min = Math.min(...trials.map((t) => t.value as number));
  assert.equal(study.bestValue, min);
  assert.equal(study.bestTrial.value, min);
  assert.deepEqual(study.bestParams, trials.find((t) => t.value === min)?.params);
  assert.equal(study.trialsTable()[0].params_x, trials[0].params.x);
});

test("maximize picks the largest value", async () => {
  const study = createStudy({ direction: "maximize", sampler: new RandomSampler({ seed: 2 }), verbosity: 0 });
  await study.optimize((t) => t.suggestFloat("x", 0, 1), { nTrials: 10 });
  assert.equal(study.bestValue, Math.max(...study.trials.map((t) => t.value as number)));
});

test("enqueued trials run first with their fixed params; other params are sampled", async () => {
  const study = createStudy({ sampler: new TpeSampler({ seed: 3 }), verbosity: 0 });
  study.enqueueTrial({ dropout_rate: 0.3, freeze_layers: 10 });
  study.enqueueTrial({ dropout_rate: 0.5 });
  study.enqueueTrial({ dropout_rate: 0.5 }, { skipIfExists: true });
  assert.equal(study.trials.filter((t) => t.state === "WAITING").length, 2);
  await study.optimize(
    (t) => t.suggestFloat("dropout_rate", 0, 0.6, { step: 0.1 }) + t.suggestInt("freeze_layers", 0, 100) / 100,
    { nTrials: 4 },
  );
  const [first, second] = study.trials;
  assert.deepEqual(first.params, { dropout_rate: 0.3, freeze_layers: 10 });
  assert.equal(second.params.dropout_rate, 0.5);
  assert.equal(study.trials.length, 4);
});

test("async objectives, pruning, failures (NaN, thrown errors, catch) and timeout", async () => {
  const study = createStudy({ sampler: new RandomSampler({ seed: 4 }), pruner: new NopPruner(), verbosity: 0 });
  class FlakyError extends Error {}
  let calls = 0;
  await study.optimize(
    async (trial) => {
      calls++;
      const x = trial.suggestFloat("x", 0, 1);
      await new Promise((r) => setTimeout(r, 1));
      if (trial.number === 1) throw new TrialPruned();
      if (trial.number === 2) return NaN;
      if (trial.number === 3) throw new FlakyError("flaky");
      return x;
    },
    { nTrials: 5, catch: [FlakyError] },
  );
  assert.equal(calls, 5);
  assert.deepEqual(study.trials.map((t) => t.state), ["COMPLETE", "PRUNED", "FAIL", "FAIL", "COMPLETE"]);
  assert.match(String(study.trials[2].systemAttrs.fail_reason), /NaN/);
  assert.match(String(study.trials[3].systemAttrs.fail_reason), /flaky/);
  // an uncaught error is recorded as FAIL, then rethrown
  await assert.rejects(study.optimize(() => { throw new Error("boom"); }, { nTrials: 3 }), /boom/);
  assert.equal(study.trials[5].state, "FAIL");
  assert.equal(study.trials.length, 6);
  // timeout (seconds) stops starting new trials
  const timed = createStudy({ sampler: new RandomSampler({ seed: 5 }), verbosity: 0 });
  await timed.optimize(async (t) => { await new Promise((r) => setTimeout(r, 20)); return t.suggestFloat("x", 0, 1); }, { timeout: 0.1 });
  assert.ok(timed.trials.length >= 1 && timed.trials.length < 20, `${timed.trials.length} trials`);
});

test("stop() from a callback ends optimize; ask/tell works without optimize", async () => {
  const study = createStudy({ sampler: new RandomSampler({ seed: 6 }), verbosity: 0 });
  await study.optimize((t) => t.suggestFloat("x", 0, 1), {
    nTrials: 50,
    callbacks: [(s, trial) => { if (trial.number === 2) s.stop(); }],
  });
  assert.equal(study.trials.length, 3);
  const trial = study.ask();
  const x = trial.suggestFloat("x", 0, 1);
  study.tell(trial, x * 2);
  assert.equal(study.trials[3].value, x * 2);
  assert.throws(() => study.tell(trial, 1), /not RUNNING/);
});

test("verbosity 1 prints Optuna's one-line summary per trial", async () => {
  const lines: string[] = [];
  const original = console.log;
  console.log = (line: string) => lines.push(line);
  try {
    const study = createStudy({ sampler: new RandomSampler({ seed: 7 }) });
    await study.optimize((t) => (t.suggestInt("n", 1, 1) === 1 ? 3 - t.number : 0), { nTrials: 2 });
  } finally {
    console.log = original;
  }
  assert.deepEqual(lines, [
    'Trial 0 finished with value: 3.0 and parameters: {"n": 1}. Best is trial 0 with value: 3.0.',
    'Trial 1 finished with value: 2.0 and parameters: {"n": 1}. Best is trial 1 with value: 2.0.',
  ]);
});

test("bad suggestions and study lookups give errors naming the parameter or study", async () => {
  const study = createStudy({ name: "errors", storage: new InMemoryStorage(), verbosity: 0 });
  const trial = study.ask();
  assert.throws(() => trial.suggestFloat("lr", 0, 1, { log: true }), /suggestFloat\("lr"\).*> 0/);
  assert.throws(() => trial.suggestInt("n", 5, 1), /suggestInt\("n"\).*low \(5\)/);
  assert.throws(() => trial.suggestCategorical("c", []), /suggestCategorical\("c"\)/);
  trial.suggestFloat("x", 0, 1);
  assert.throws(() => trial.suggestInt("x", 0, 1), /"x" was suggested as float/);
  assert.throws(() => study.bestTrial, /no completed trial/);
  assert.throws(() => loadStudy({ name: "nope", storage: new InMemoryStorage() }), /"nope" does not exist/);
});

test("MedianPruner: prunes a trial worse than the median at the same step, after warm-up and startup trials", async () => {
  const study = createStudy({
    sampler: new RandomSampler({ seed: 8 }),
    pruner: new MedianPruner({ nStartupTrials: 3, nWarmupSteps: 2 }),
    verbosity: 0,
  });
  const prunedAt: Record<number, number> = {};
  // Trials 0–2 learn well (loss 1/(step+1)); trials 3+ are bad (loss 10) except trial 5.
  await study.optimize(
    (trial) => {
      trial.suggestFloat("x", 0, 1);
      const bad = trial.number >= 3 && trial.number !== 5;
      let loss = 0;
      for (let step = 0; step < 6; step++) {
        loss = bad ? 10 : 1 / (step + 1);
        trial.report(loss, step);
        if (trial.shouldPrune()) {
          prunedAt[trial.number] = step;
          throw new TrialPruned();
        }
      }
      return loss;
    },
    { nTrials: 7 },
  );
  assert.deepEqual(study.trials.map((t) => t.state), ["COMPLETE", "COMPLETE", "COMPLETE", "PRUNED", "PRUNED", "COMPLETE", "PRUNED"]);
  // never pruned before step 2 (warm-up)
  assert.deepEqual(prunedAt, { 3: 2, 4: 2, 6: 2 });
  assert.deepEqual(study.trials[3].intermediateValues, { 0: 10, 1: 10, 2: 10 });
});

test("MedianPruner does nothing before nStartupTrials complete, and handles maximize", async () => {
  const pruner = new MedianPruner({ nStartupTrials: 2 });
  const study = createStudy({ direction: "maximize", sampler: new RandomSampler({ seed: 9 }), pruner, verbosity: 0 });
  const decisions: boolean[] = [];
  await study.optimize(
    (trial) => {
      const acc = trial.number === 0 ? 0.9 : trial.number === 1 ? 0.8 : 0.1;
      trial.report(acc, 0);
      decisions.push(trial.shouldPrune());
      return acc;
    },
    { nTrials: 4 },
  );
  // trial 1 is worse than trial 0 but only 1 trial had completed; trials 2, 3 are below the median of the completed ones
  assert.deepEqual(decisions, [false, false, true, true]);
});
