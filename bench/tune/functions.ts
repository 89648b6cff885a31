import type { Trial } from "../../lib/tune";

/**
 * Benchmark objectives (all minimised, optimum 0 or known), identical to bench/tune/optuna_ref.py:
 * same formulas, same parameter names, ranges and scales.
 */
export interface BenchFunction {
  name: string;
  /** Global minimum value. */
  optimum: number;
  objective(trial: Trial): number;
}

/** Branin–Hoo, x1 ∈ [−5, 10], x2 ∈ [0, 15]; minimum 0.397887 at three points. */
export const branin: BenchFunction = {
  name: "branin",
  optimum: 0.397887357729738,
  objective(trial) {
    const x1 = trial.suggestFloat("x1", -5, 10);
    const x2 = trial.suggestFloat("x2", 0, 15);
    const b = 5.1 / (4 * Math.PI ** 2);
    const c = 5 / Math.PI;
    const t = 1 / (8 * Math.PI);
    return (x2 - b * x1 ** 2 + c * x1 - 6) ** 2 + 10 * (1 - t) * Math.cos(x1) + 10;
  },
};

/** 5-D Rosenbrock on [−2.048, 2.048]⁵ (De Jong's domain); minimum 0 at (1, …, 1). */
export const rosenbrock5: BenchFunction = {
  name: "rosenbrock5",
  optimum: 0,
  objective(trial) {
    const x = [0, 1, 2, 3, 4].map((i) => trial.suggestFloat(`x${i}`, -2.048, 2.048));
    let sum = 0;
    for (let i = 0; i < 4; i++) sum += 100 * (x[i + 1] - x[i] ** 2) ** 2 + (1 - x[i]) ** 2;
    return sum;
  },
};

/**
 * A hyper-parameter-like mixed space: a log-scale float, an integer and a categorical.
 * f = (log10(lr) + 2)² + 0.25·(layers − 3)² + penalty[activation]; minimum 0 at lr = 0.01, layers = 3, "relu".
 */
export const ACTIVATION_PENALTY: Record<string, number> = { relu: 0, tanh: 0.5, sigmoid: 1.5 };
export const mixed3: BenchFunction = {
  name: "mixed3",
  optimum: 0,
  objective(trial) {
    const lr = trial.suggestFloat("lr", 1e-5, 1, { log: true });
    const layers = trial.suggestInt("layers", 1, 8);
    const activation = trial.suggestCategorical("activation", ["relu", "tanh", "sigmoid"]);
    return (Math.log10(lr) + 2) ** 2 + 0.25 * (layers - 3) ** 2 + ACTIVATION_PENALTY[activation];
  },
};

export const BENCH_FUNCTIONS: Record<string, BenchFunction> = { branin, rosenbrock5, mixed3 };
