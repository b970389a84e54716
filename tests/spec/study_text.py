"""A small valid study (digits, a tiny MLP, three factors) that the spec tests break in many ways."""

from __future__ import annotations

BASE = """\
name = "tiny"
description = "a small study the tests edit"
design = "ablation"
seeds = 2

[data]
dataset = "digits"
subset = 200

[model]
kind = "mlp"
hidden = [16, 16]
activation = "relu"

[train]
epochs = 2
batch_size = 32
optimizer = { name = "sgd", lr = 0.05, momentum = 0.9 }

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
    """`text` with each (old, new) replaced once; fails loudly when `old` is not there (a test that
    edits nothing would pass for the wrong reason)."""
    for old, new in replacements:
        assert old in text, f"test setup: {old!r} is not in the study text"
        text = text.replace(old, new, 1)
    return text
