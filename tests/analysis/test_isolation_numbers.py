"""The isolation analysis' own numbers: the expected best score against the budget (Dodge et al.
2019) and the edge warnings."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from hyperlab.analysis.isolation import NuisanceRange, SearchedPoint, edge_warnings, expected_best


@pytest.mark.parametrize("maximize", [True, False])
def test_expected_best_is_the_mean_best_over_every_draw_of_k_trials(maximize: bool):
    values = [0.3, 0.9, 0.5, 0.5, 0.7]
    pick = max if maximize else min
    exact = [np.mean([pick(draw) for draw in itertools.product(values, repeat=k)]) for k in range(1, 6)]
    assert expected_best(values, maximize=maximize) == pytest.approx(exact)
    assert expected_best(values, maximize=maximize)[0] == pytest.approx(np.mean(values))
    assert expected_best([], maximize=maximize) == ()


def _best(lr: float, momentum: float) -> SearchedPoint:
    return SearchedPoint(1, "v", "k", "completed", 0.9, {"lr": lr, "momentum": momentum, "act": "relu"})


RANGES = (NuisanceRange("lr", "float", 0.001, 1.0, True),
          NuisanceRange("momentum", "float", 0.0, 0.95, False),
          NuisanceRange("act", "categorical", None, None, False, ("relu", "tanh")))


def test_a_best_value_at_an_end_of_its_range_is_flagged_in_log_space_for_a_log_range():
    upper = edge_warnings("batch size", "256", _best(0.8, 0.5), RANGES)
    assert upper == ["widen the lr range at batch size=256: the best (0.8) is at the upper bound (1) of the "
                     "searched range, so a better setting may lie beyond it"]
    # 0.0012 is 2.6% of the way up in log space: at the lower end; 0.03 (49%) is not
    assert [w.split(":")[0] for w in edge_warnings("b", "16", _best(0.0012, 0.0), RANGES)] == [
        "widen the lr range at b=16", "widen the momentum range at b=16"]
    assert edge_warnings("b", "16", _best(0.03, 0.5), RANGES) == []
    assert edge_warnings("b", "16", None, RANGES) == []
