import { test } from "node:test";
import assert from "node:assert/strict";
import {
  createStudy,
  DEFAULT_MIN_KERNEL_VOLUME,
  GridSampler,
  OPTUNA_31_TPE,
  RandomSampler,
  TpeSampler,
  type Sampler,
  type Trial,
} from "../../lib/tune";
import { categoricalDistribution, floatDistribution, type SearchSpace } from "../../lib/tune/distributions";
import { ParzenEstimator, defaultWeights, type ParzenEstimatorParameters } from "../../lib/tune/samplers/parzen";
import { createRng } from "../../lib/util/random";
import { logGaussMass, ndtr, ndtri, truncnormLogPdf, truncnormSample } from "../../lib/tune/samplers/truncnorm";

function mixedObjective(trial: Trial): number {
  const lr = trial.suggestFloat("lr", 1e-5, 1, { log: true });
  const layers = trial.suggestInt("layers", 1, 8);
  const units = trial.suggestInt("units", 16, 256, { log: true });
  const dropout = trial.suggestFloat("dropout", 0, 0.5, { step: 0.1 });
  const act = trial.suggestCategorical("act", ["relu", "tanh", "gelu"]);
  return (Math.log10(lr) + 2) ** 2 + (layers - 3) ** 2 / 4 + Math.abs(Math.log2(units / 64)) + dropout + (act === "relu" ? 0 : 0.5);
}

async function paramsSequence(makeSampler: () => Sampler, nTrials: number): Promise<unknown[]> {
  const study = createStudy({ sampler: makeSampler(), verbosity: 0 });
  await study.optimize(mixedObjective, { nTrials });
  return study.trials.map((t) => t.params);
}

for (const [label, make] of [
  ["RandomSampler", (seed: number) => new RandomSampler({ seed })],
  ["TpeSampler (default, multivariate)", (seed: number) => new TpeSampler({ seed })],
  ["TpeSampler (Optuna 3.1 settings)", (seed: number) => new TpeSampler({ ...OPTUNA_31_TPE, seed })],
] as const) {
  test(`${label}: same seed ⇒ same trials; another seed ⇒ other trials`, async () => {
    const a = await paramsSequence(() => make(42), 25);
    const b = await paramsSequence(() => make(42), 25);
    const c = await paramsSequence(() => make(43), 25);
    assert.deepEqual(a, b);
    assert.notDeepEqual(a, c);
  });
}

test("samplers keep every suggestion inside its distribution (log, step, int, categorical)", async () => {
  for (const sampler of [new RandomSampler({ seed: 3 }), new TpeSampler({ seed: 3 }), new TpeSampler({ ...OPTUNA_31_TPE, seed: 3 })]) {
    const study = createStudy({ sampler, verbosity: 0 });
    await study.optimize(mixedObjective, { nTrials: 30 });
    for (const t of study.trials) {
      const p = t.params as { lr: number; layers: number; units: number; dropout: number; act: string };
      assert.ok(p.lr >= 1e-5 && p.lr <= 1, `lr ${p.lr}`);
      assert.ok(Number.isInteger(p.layers) && p.layers >= 1 && p.layers <= 8, `layers ${p.layers}`);
      assert.ok(Number.isInteger(p.units) && p.units >= 16 && p.units <= 256, `units ${p.units}`);
      assert.ok([0, 0.1, 0.2, 0.3, 0.4, 0.5].includes(p.dropout), `dropout ${p.dropout}`);
      assert.ok(["relu", "tanh", "gelu"].includes(p.act));
    }
  }
});

test("random log-scale sampling is uniform in log space", async () => {
  const study = createStudy({ sampler: new RandomSampler({ seed: 5 }), verbosity: 0 });
  await study.optimize((t) => t.suggestFloat("lr", 1e-4, 1, { log: true }), { nTrials: 400 });
  const decades = [0, 0, 0, 0];
  for (const t of study.trials) decades[Math.min(3, Math.floor(Math.log10(t.params.lr as number) + 4))]++;
  for (const count of decades) assert.ok(count > 70 && count < 130, `per-decade counts ${decades}`);
});

test("TPE converges near the optimum of a 1-D function and beats random search there", async () => {
  const f = (x: number): number => (x - 2.5) ** 2;
  for (const seed of [0, 1, 2]) {
    const tpe = createStudy({ sampler: new TpeSampler({ seed }), verbosity: 0 });
    await tpe.optimize((t) => f(t.suggestFloat("x", -10, 10)), { nTrials: 60 });
    const best = tpe.bestParams.x as number;
    assert.ok(Math.abs(best - 2.5) < 0.1, `seed ${seed}: best x ${best}`);
    // After the 10 random startup trials, TPE concentrates its proposals around the optimum.
    const late = tpe.trials.slice(30).map((t) => t.params.x as number);
    const near = late.filter((x) => Math.abs(x - 2.5) < 1).length;
    // (random search would put about 10 % there)
    assert.ok(near >= late.length / 3, `seed ${seed}: only ${near}/${late.length} late proposals near the optimum`);
    const random = createStudy({ sampler: new RandomSampler({ seed }), verbosity: 0 });
    await random.optimize((t) => f(t.suggestFloat("x", -10, 10)), { nTrials: 60 });
    assert.ok(tpe.bestValue <= random.bestValue, `seed ${seed}: tpe ${tpe.bestValue} vs random ${random.bestValue}`);
  }
});

test("magic clip: the bandwidth floor covers a fixed kernel volume, so it widens with the number of numerical parameters", () => {
  // Nine identical observations: every neighbour distance is 0, so each kernel's width is the floor itself.
  const spreadOfX0 = (numerical: number, categorical: number, clip: Partial<ParzenEstimatorParameters>): number => {
    const space: SearchSpace = {};
    for (let i = 0; i < numerical; i++) space[`x${i}`] = floatDistribution(`x${i}`, 0, 1);
    for (let i = 0; i < categorical; i++) space[`c${i}`] = categoricalDistribution(`c${i}`, ["a", "b", "c"]);
    const observations = Object.fromEntries(Object.keys(space).map((name) => [name, new Array<number>(9).fill(name.startsWith("x") ? 0.5 : 0)]));
    const params: ParzenEstimatorParameters = {
      considerPrior: false,
      priorWeight: 1,
      considerMagicClip: true,
      considerEndpoints: false,
      weights: defaultWeights,
      multivariate: true,
      bandwidth: "optuna4",
      peakNormalizedKernels: true,
      minBandwidthFactor: 0.01,
      magicClipExponent: 2,
      minKernelVolume: DEFAULT_MIN_KERNEL_VOLUME,
      ...clip,
    };
    const x0 = new ParzenEstimator(observations, space, params).sample(createRng(3), 20000).x0;
    const mean = x0.reduce((s, v) => s + v, 0) / x0.length;
    return Math.sqrt(x0.reduce((s, v) => s + (v - mean) ** 2, 0) / x0.length);
  };
  const near = (actual: number, expected: number, what: string) =>
    assert.ok(Math.abs(actual / expected - 1) < 0.05, `${what}: spread ${actual.toFixed(4)}, expected ${expected.toFixed(4)}`);
  // 10 kernels: (1 + 10)^−2 = 0.0083 is below the 0.01 factor, so the volume floor 0.05^(5/d) decides from d = 4 on.
  near(spreadOfX0(2, 0, {}), 0.01, "2 numerical parameters");
  near(spreadOfX0(2, 3, {}), 0.01, "2 numerical + 3 categorical (categories do not count)");
  near(spreadOfX0(5, 0, {}), 0.05, "5 numerical parameters");
  near(spreadOfX0(6, 0, {}), 0.05 ** (5 / 6), "6 numerical parameters");
  // Optuna's clip, range / min(100, 1 + kernels), whatever the dimension.
  near(spreadOfX0(2, 0, { magicClipExponent: 1, minKernelVolume: 0 }), 1 / 11, "Optuna's clip, 2-D");
  near(spreadOfX0(6, 0, { magicClipExponent: 1, minKernelVolume: 0 }), 1 / 11, "Optuna's clip, 6-D");
});

test("univariate TPE (Optuna 3.1 settings) also converges on the 1-D function", async () => {
  const study = createStudy({ sampler: new TpeSampler({ ...OPTUNA_31_TPE, seed: 4 }), verbosity: 0 });
  await study.optimize((t) => (t.suggestFloat("x", -10, 10) + 4) ** 2, { nTrials: 60 });
  assert.ok(Math.abs((study.bestParams.x as number) + 4) < 0.1, `best x ${study.bestParams.x}`);
});

test("TPE handles maximize, and prefers the best categorical choice", async () => {
  const study = createStudy({ direction: "maximize", sampler: new TpeSampler({ seed: 11 }), verbosity: 0 });
  const score: Record<string, number> = { a: 0, b: 1, c: 0.2 };
  await study.optimize((t) => score[t.suggestCategorical("c", ["a", "b", "c"])] + t.suggestFloat("x", 0, 1) * 0.1, { nTrials: 40 });
  const late = study.trials.slice(20);
  assert.ok(late.filter((t) => t.params.c === "b").length >= 15, `late choices: ${late.map((t) => t.params.c).join("")}`);
  assert.equal(study.bestParams.c, "b");
});

test("GridSampler visits every grid point once, then stops the study; same seed ⇒ same order", async () => {
  const run = async (seed: number): Promise<string[]> => {
    const study = createStudy({ sampler: new GridSampler({ x: [0, 1, 2], opt: ["adam", "sgd"] }, { seed }), verbosity: 0 });
    await study.optimize((t) => (t.suggestInt("x", 0, 2) as number) + (t.suggestCategorical("opt", ["adam", "sgd"]) === "sgd" ? 10 : 0), {
      nTrials: 100,
    });
    return study.trials.map((t) => `${t.params.x}-${t.params.opt}`);
  };
  const order = await run(1);
  assert.equal(order.length, 6, "stops after the 6 grid points although nTrials is 100");
  assert.deepEqual([...order].sort(), ["0-adam", "0-sgd", "1-adam", "1-sgd", "2-adam", "2-sgd"]);
  assert.deepEqual(await run(1), order);
  const study = createStudy({ sampler: new GridSampler({ x: [0, 1] }, { seed: 1 }), verbosity: 0 });
  await assert.rejects(study.optimize((t) => t.suggestFloat("y", 0, 1), { nTrials: 1 }), /"y" is not in the grid/);
});

test("truncated-normal helpers: CDF, inverse, masses and samples agree", () => {
  for (const p of [1e-10, 0.001, 0.2, 0.5, 0.9, 0.999999]) assert.ok(Math.abs(ndtr(ndtri(p)) - p) < 1e-7 * Math.max(p, 1e-3));
  assert.ok(Math.abs(ndtr(1.96) - 0.9750021) < 1e-6);
  assert.ok(Math.abs(Math.exp(logGaussMass(-1, 1)) - 0.6826895) < 1e-6);
  // far tail: Φ(−30) − Φ(−31), via the asymptotic log Φ
  assert.ok(Number.isFinite(logGaussMass(-31, -30)) && logGaussMass(-31, -30) < -400);
  // density integrates to ~1 over the truncation interval
  let integral = 0;
  for (let x = 0; x <= 3; x += 0.001) integral += Math.exp(truncnormLogPdf(x, 0.5, 2, 0, 3)) * 0.001;
  assert.ok(Math.abs(integral - 1) < 0.01, `integral ${integral}`);
  for (let i = 0; i < 200; i++) {
    const x = truncnormSample(i / 200, 0.5, 2, 0, 3);
    assert.ok(x >= 0 && x <= 3);
  }
});
