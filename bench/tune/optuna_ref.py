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


FUNCTIONS = {"branin": branin, "rosenbrock5": rosenbrock5, "mixed3": mixed3}


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
