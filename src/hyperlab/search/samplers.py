"""Optuna's samplers by the names a study file uses, each seeded; one line per sampler.

Infeasible configurations reach the samplers as constraint values on each trial
(`Trial.set_constraint`, Optuna 5's replacement for `constraints_func`): TPE and GP learn from
them; random, CMA-ES and QMC see only the (penalty) value.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import optuna

SAMPLERS: dict[str, Callable[[int], optuna.samplers.BaseSampler]] = {
    "random": lambda seed: optuna.samplers.RandomSampler(seed=seed),
    "tpe": lambda seed: optuna.samplers.TPESampler(seed=seed),
    "cmaes": lambda seed: optuna.samplers.CmaEsSampler(seed=seed, warn_independent_sampling=False),
    "gp": lambda seed: optuna.samplers.GPSampler(seed=seed),
    "qmc": lambda seed: optuna.samplers.QMCSampler(seed=seed, warn_independent_sampling=False),
}


CONSTRAINED = frozenset({"tpe", "gp"})  # samplers that read trials' constraint values


def make_sampler(name: str, seed: int) -> optuna.samplers.BaseSampler:
    """The sampler `name` (one of SAMPLERS, checked by the spec), seeded with `seed`."""
    with warnings.catch_warnings():  # QMC and GP are marked experimental by Optuna; said in the docs
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        return SAMPLERS[name](seed)
