"""Optuna 3.1's storage overhead per trial, the reference for bench/tune/storage.ts (same trial, same measure).

Usage: /usr/bin/python3 bench/tune/storage_ref.py --trials 200 --sqlite sqlite:///x.db [--postgres postgresql://...]
Prints one JSON object: memory_ms_per_trial, sqlite_overhead_ms, postgresql_overhead_ms (null without --postgres).
"""
import argparse
import json
import math
import time

import optuna


def objective(trial):
    lr = trial.suggest_float("lr", 1e-5, 1e-1, log=True)
    dropout = trial.suggest_float("dropout", 0, 0.5, step=0.05)
    layers = trial.suggest_int("layers", 1, 8)
    units = trial.suggest_int("units", 16, 256, step=16)
    activation = trial.suggest_categorical("activation", ["relu", "tanh", "gelu"])
    value = math.log10(lr) + dropout + layers + units / 256 + len(activation)
    for step in range(3):
        trial.report(value / (step + 1), step)
    trial.set_user_attr("units", units)
    return value


def time_study(storage, trials):
    study = optuna.create_study(storage=storage, sampler=optuna.samplers.RandomSampler(seed=0))
    started = time.perf_counter()
    study.optimize(objective, n_trials=trials)
    return (time.perf_counter() - started) * 1000 / trials


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--trials", type=int, default=200)
    parser.add_argument("--sqlite", required=True)
    parser.add_argument("--postgres")
    args = parser.parse_args()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    memory = time_study(None, args.trials)
    sqlite = time_study(args.sqlite, args.trials)
    pg = time_study(args.postgres, args.trials) if args.postgres else None
    memory_after = time_study(None, args.trials)
    base = (memory + memory_after) / 2
    print(json.dumps({
        "memory_ms_per_trial": round(base, 2),
        "sqlite_overhead_ms": round(sqlite - base, 2),
        "postgresql_overhead_ms": None if pg is None else round(pg - base, 2),
    }))


if __name__ == "__main__":
    main()
