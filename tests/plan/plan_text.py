"""A small valid study for the plan tests: digits, an MLP 64-16-16-10, three factors."""

from __future__ import annotations

BASE = """\
name = "plan-tiny"
seeds = 2

[data]
dataset = "digits"

[model]
kind = "mlp"
hidden = [16, 16]

[train]
epochs = 2
optimizer = { name = "sgd", lr = 0.05 }

[[factor]]
name = "lr"
path = "train.optimizer.lr"
levels = [0.01, 0.1]

[[factor]]
name = "width"
path = "model.hidden"
levels = [[8, 8], [32, 32], [64]]

[[factor]]
name = "activation"
levels = [ { "model.activation" = "tanh", "model.init" = "glorot_uniform" },
           { "model.activation" = "linear" } ]
"""


def edit(text: str, *replacements: tuple[str, str]) -> str:
    """`text` with each (old, new) replaced once; fails when `old` is not there."""
    for old, new in replacements:
        assert old in text, f"test setup: {old!r} is not in the study text"
        text = text.replace(old, new, 1)
    return text


def mlp_params(widths: list[int]) -> int:
    """Parameters of dense layers input -> ... -> output, each with a bias (counted by hand)."""
    return sum(a * b + b for a, b in zip(widths, widths[1:], strict=False))
