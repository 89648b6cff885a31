"""Optuna reference for bench/tune: the same objectives and search spaces as functions.ts.

Usage: /usr/bin/python3 bench/tune/optuna_ref.py --fn branin --sampler tpe --trials 50 --seeds 0,1,2
Prints one JSON object per seed (the same fields as `npm run tune:bench`).
Needs Debian's python3-optuna (3.1).
"""
import argparse
import json
import math
import time

import optuna

ACTIVATION_PENALTY = {"relu": 0.0, "tanh": 0.5, "sigmoid": 1.5}


def branin(trial):
    x1 = trial.suggest_float("x1", -5, 10)
    x2 = trial.suggest_float("x2", 0, 15)
    b = 5.1 / (4 * math.pi**2)
    c = 5 / math.pi
    t = 1 / (8 * math.pi)
    return (x2 - b * x1**2 + c * x1 - 6) ** 2 + 10 * (1 - t) * math.cos(x1) + 10


def rosenbrock5(trial):
    x = [trial.suggest_float(f"x{i}", -2.048, 2.048) for i in range(5)]
    return sum(100 * (x[i + 1] - x[i] ** 2) ** 2 + (1 - x[i]) ** 2 for i in range(4))


def mixed3(trial):
    lr = trial.suggest_float("lr", 1e-5, 1, log=True)
    layers = trial.suggest_int("layers", 1, 8)
    activation = trial.suggest_categorical("activation", ["relu", "tanh", "sigmoid"])
    return (math.log10(lr) + 2) ** 2 + 0.25 * (layers - 3) ** 2 + ACTIVATION_PENALTY[activation]


HARTMANN6_ALPHA = [1.0, 1.2, 3.0, 3.2]
HARTMANN6_A = [
    [10, 3, 17, 3.5, 1.7, 8],
    [0.05, 10, 17, 0.1, 8, 14],
    [3, 3.5, 1.7, 10, 17, 8],
    [17, 8, 0.05, 10, 0.1, 14],
]
HARTMANN6_P = [
    [0.1312, 0.1696, 0.5569, 0.0124, 0.8283, 0.5886],
    [0.2329, 0.4135, 0.8307, 0.3736, 0.1004, 0.9991],
    [0.2348, 0.1451, 0.3522, 0.2883, 0.3047, 0.665],
    [0.4047, 0.8828, 0.8732, 0.5743, 0.1091, 0.0381],
]


def hartmann6(trial):
    x = [trial.suggest_float(f"x{i}", 0, 1) for i in range(6)]
    return -sum(
        HARTMANN6_ALPHA[i] * math.exp(-sum(HARTMANN6_A[i][j] * (x[j] - HARTMANN6_P[i][j]) ** 2 for j in range(6)))
        for i in range(4)
    )


def styblinski5(trial):
    x = [trial.suggest_float(f"x{i}", -5, 5) for i in range(5)]
    return sum((v**4 - 16 * v**2 + 5 * v) / 2 for v in x)


OPTIMISER_OFFSET = {"adam": 0.0, "sgd": 1.5, "rmsprop": 0.5}
AUGMENT_PENALTY = {"none": 0.3, "light": 0.0, "heavy": 0.6}


def hpo6(trial):
    lr = trial.suggest_float("lr", 1e-5, 1, log=True)
    weight_decay = trial.suggest_float("weight_decay", 1e-7, 1e-1, log=True)
    dropout = trial.suggest_float("dropout", 0, 0.6)
    epochs = trial.suggest_int("epochs", 2, 30)
    optimiser = trial.suggest_categorical("optimiser", ["adam", "sgd", "rmsprop"])
    augment = trial.suggest_categorical("augment", ["none", "light", "heavy"])
    return (
        (math.log10(lr) + 3 - OPTIMISER_OFFSET[optimiser]) ** 2
        + 0.25 * (math.log10(weight_decay) + 4) ** 2
        + 10 * (dropout - 0.3) ** 2
        + 0.01 * (epochs - 12) ** 2
        + (0.2 if optimiser == "rmsprop" else 0.0)
        + AUGMENT_PENALTY[augment]
    )


FUNCTIONS = {
    "branin": branin,
    "rosenbrock5": rosenbrock5,
    "mixed3": mixed3,
    # Validation functions (see functions.ts): not part of issue 7's bar.
    "hartmann6": hartmann6,
    "styblinski5": styblinski5,
    "hpo6": hpo6,
}


def make_sampler(kind, seed):
    if kind == "tpe":
        return optuna.samplers.TPESampler(seed=seed)
    if kind == "tpe-mv":
        return optuna.samplers.TPESampler(seed=seed, multivariate=True)
    if kind == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    raise ValueError(f"--sampler must be tpe, tpe-mv or random, got {kind!r}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--fn", required=True, choices=sorted(FUNCTIONS))
    parser.add_argument("--sampler", default="tpe")
    parser.add_argument("--trials", type=int, default=50)
    parser.add_argument("--seeds", default="0")
    args = parser.parse_args()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    import warnings

    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    for seed in [int(s) for s in args.seeds.split(",")]:
        started = time.time()
        study = optuna.create_study(direction="minimize", sampler=make_sampler(args.sampler, seed))
        study.optimize(FUNCTIONS[args.fn], n_trials=args.trials)
        print(
            json.dumps(
                {
                    "fn": args.fn,
                    "sampler": args.sampler,
                    "impl": "optuna",
                    "optuna_version": optuna.__version__,
                    "trials": args.trials,
                    "seed": seed,
                    "best_value": study.best_value,
                    "seconds": round(time.time() - started, 3),
                }
            ),
            flush=True,
        )


if __name__ == "__main__":
    main()
