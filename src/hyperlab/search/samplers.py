"""Optuna's samplers by the names a study file uses, each seeded; one line per sampler.

Infeasible configurations reach the samplers as constraint values on each trial
(`Trial.set_constraint`, Optuna 5's replacement for `constraints_func`): TPE and GP learn from
them; random, CMA-ES and QMC see only the (penalty) value.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import optuna


def _cma_es(seed: int) -> optuna.samplers.BaseSampler:
    # Optuna imports the cmaes package only when the sampler first samples: import it here so that a
    # missing package fails as the search starts, not after its first trials have trained.
    import cmaes  # noqa: F401

    return optuna.samplers.CmaEsSampler(seed=seed, warn_independent_sampling=False)


SAMPLERS: dict[str, Callable[[int], optuna.samplers.BaseSampler]] = {
    "random": lambda seed: optuna.samplers.RandomSampler(seed=seed),
    "tpe": lambda seed: optuna.samplers.TPESampler(seed=seed),
    "cmaes": _cma_es,
    "gp": lambda seed: optuna.samplers.GPSampler(seed=seed),
    "qmc": lambda seed: optuna.samplers.QMCSampler(seed=seed, warn_independent_sampling=False),
}


CONSTRAINED = frozenset({"tpe", "gp"})  # samplers that read trials' constraint values


def make_sampler(name: str, seed: int) -> optuna.samplers.BaseSampler:
    """The sampler `name` (one of SAMPLERS, checked by the spec), seeded with `seed`."""
    with warnings.catch_warnings():  # QMC and GP are marked experimental by Optuna; said in the docs
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        return SAMPLERS[name](seed)
