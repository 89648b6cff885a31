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

/** Parameters x0 … x(n−1), each uniform on [low, high]. */
function suggestVector(trial: Trial, n: number, low: number, high: number): number[] {
  return Array.from({ length: n }, (_, i) => trial.suggestFloat(`x${i}`, low, high));
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
    const x = suggestVector(trial, 5, -2.048, 2.048);
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

/** The functions of issue 7's bar. */
export const BENCH_FUNCTIONS: Record<string, BenchFunction> = { branin, rosenbrock5, mixed3 };

// Validation functions: never used to choose the sampler's defaults, only to check that a choice made on the three
// above carries over to other shapes (more dimensions, many local minima, a hyper-parameter-like mixed space).

const HARTMANN6_ALPHA = [1.0, 1.2, 3.0, 3.2];
const HARTMANN6_A = [
  [10, 3, 17, 3.5, 1.7, 8],
  [0.05, 10, 17, 0.1, 8, 14],
  [3, 3.5, 1.7, 10, 17, 8],
  [17, 8, 0.05, 10, 0.1, 14],
];
const HARTMANN6_P = [
  [0.1312, 0.1696, 0.5569, 0.0124, 0.8283, 0.5886],
  [0.2329, 0.4135, 0.8307, 0.3736, 0.1004, 0.9991],
  [0.2348, 0.1451, 0.3522, 0.2883, 0.3047, 0.665],
  [0.4047, 0.8828, 0.8732, 0.5743, 0.1091, 0.0381],
];

/** Hartmann 6-D on [0, 1]⁶; minimum −3.32237. */
export const hartmann6: BenchFunction = {
  name: "hartmann6",
  optimum: -3.32237,
  objective(trial) {
    const x = suggestVector(trial, 6, 0, 1);
    let sum = 0;
    for (let i = 0; i < 4; i++) {
      let inner = 0;
      for (let j = 0; j < 6; j++) inner += HARTMANN6_A[i][j] * (x[j] - HARTMANN6_P[i][j]) ** 2;
      sum += HARTMANN6_ALPHA[i] * Math.exp(-inner);
    }
    return -sum;
  },
};

/** Styblinski–Tang 5-D on [−5, 5]⁵ (2⁵ local minima); minimum −195.83 at xᵢ = −2.9035. */
export const styblinski5: BenchFunction = {
  name: "styblinski5",
  optimum: -195.830865,
  objective(trial) {
    const x = suggestVector(trial, 5, -5, 5);
    return x.reduce((s, v) => s + (v ** 4 - 16 * v ** 2 + 5 * v) / 2, 0);
  },
};

/**
 * A notebook-06-like space: learning rate and weight decay (log), dropout, epochs (int), optimiser and
 * augmentation (categorical), with an interaction (the best learning rate depends on the optimiser).
 * Minimum 0 at lr = 10^−3 (adam) or 10^−1.5 (sgd), weight decay 10^−4, dropout 0.3, epochs 12, "adam", "light".
 */
export const OPTIMISER_OFFSET: Record<string, number> = { adam: 0, sgd: 1.5, rmsprop: 0.5 };
export const AUGMENT_PENALTY: Record<string, number> = { none: 0.3, light: 0, heavy: 0.6 };
export const hpo6: BenchFunction = {
  name: "hpo6",
  optimum: 0,
  objective(trial) {
    const lr = trial.suggestFloat("lr", 1e-5, 1, { log: true });
    const weightDecay = trial.suggestFloat("weight_decay", 1e-7, 1e-1, { log: true });
    const dropout = trial.suggestFloat("dropout", 0, 0.6);
    const epochs = trial.suggestInt("epochs", 2, 30);
    const optimiser = trial.suggestCategorical("optimiser", ["adam", "sgd", "rmsprop"]);
    const augment = trial.suggestCategorical("augment", ["none", "light", "heavy"]);
    return (
      (Math.log10(lr) + 3 - OPTIMISER_OFFSET[optimiser]) ** 2 +
      0.25 * (Math.log10(weightDecay) + 4) ** 2 +
      10 * (dropout - 0.3) ** 2 +
      0.01 * (epochs - 12) ** 2 +
      (optimiser === "rmsprop" ? 0.2 : 0) +
      AUGMENT_PENALTY[augment]
    );
  },
};

export const VALIDATION_FUNCTIONS: Record<string, BenchFunction> = { hartmann6, styblinski5, hpo6 };
export const ALL_FUNCTIONS: Record<string, BenchFunction> = { ...BENCH_FUNCTIONS, ...VALIDATION_FUNCTIONS };
