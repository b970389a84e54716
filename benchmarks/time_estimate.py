"""How accurate is `[budget] max_seconds`' estimate? Predicted vs measured training time of a few trials.

    .venv/bin/python benchmarks/time_estimate.py                 # digits cases (bundled data)
    .venv/bin/python benchmarks/time_estimate.py --cifar10       # + CIFAR-10 MLPs (data in the cache)

For each case: hyperlab.plan.timing.estimate_seconds (a few timed steps, before training), then
the trial trained by the engine (hyperlab.engine.train_trial, data already loaded, one torch
thread), and the ratio measured / predicted. The data loading a run also pays is not in either
number. Benchmarks are not tests: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import statistics

import torch

from hyperlab.data import make_splits
from hyperlab.engine import TrialConfig, train_trial
from hyperlab.plan.timing import estimate_seconds


def case(dataset: str, hidden: list[int], batch: int, epochs: int, subset: int | None = None) -> TrialConfig:
    data = {"dataset": dataset, "scale": "unit"} | ({"subset": subset} if subset else {})
    return TrialConfig.model_validate({
        "data": data, "model": {"kind": "mlp", "hidden": hidden},
        "train": {"epochs": epochs, "batch_size": batch, "optimizer": {"name": "sgd", "lr": 0.01,
                                                                       "momentum": 0.9}}})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cifar10", action="store_true", help="also CIFAR-10 MLPs (data in the cache)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    cases = [case("digits", [64], 32, 20), case("digits", [256, 128], 16, 10), case("digits", [16], 128, 40)]
    if args.cifar10:
        cases += [case("cifar10", [32, 16, 64, 32, 16, 64], 256, 3, 10000),
                  case("cifar10", [32, 16, 64, 32, 16, 64], 32, 2, 10000),
                  case("cifar10", [32, 16], 1024, 5, 10000)]
    ratios = []
    print(f"{'case':<48} {'predicted s':>11} {'measured s':>10} {'ratio':>6}")
    for config in cases:
        splits = make_splits(config.data)  # loaded before timing: a run's data loading is not estimated
        predicted = estimate_seconds(config).seconds
        result = train_trial(config, 0, splits=splits)
        ratio = result.seconds / predicted
        ratios.append(ratio)
        name = (f"{config.data.dataset} {config.model.hidden} b{config.train.batch_size} "
                f"x {config.train.epochs} ep")
        print(f"{name:<48} {predicted:>11.2f} {result.seconds:>10.2f} {ratio:>6.2f}")
    print(f"measured / predicted: median {statistics.median(ratios):.2f}, "
          f"range {min(ratios):.2f}-{max(ratios):.2f} over {len(ratios)} trials")


if __name__ == "__main__":
    main()
