"""Model factories for the Ray tests (a `kind = "python"` model, imported on every node)."""

from __future__ import annotations

import os

from torch import nn

ON_NODE = "HYPERLAB_RAY_TEST_NODE"  # set in the environment of the test cluster's nodes only


def mlp_failing_on_nodes(input_shape: tuple[int, ...], n_outputs: int, explode: bool = False) -> nn.Module:
    """A small MLP; with `explode`, raises when built on a cluster node (the driver, which plans the
    study and counts its parameters, builds it fine)."""
    if explode and os.environ.get(ON_NODE) == "1":
        raise RuntimeError("boom on a Ray node")
    width = 1
    for size in input_shape:
        width *= size
    return nn.Sequential(nn.Flatten(), nn.Linear(width, 16), nn.ReLU(), nn.Linear(16, n_outputs))
