"""Small search studies on digits for the search tests."""

from __future__ import annotations


def search_toml(name: str = "search", *, sampler: str = "random", trials: int = 6, pruner: str = "none",
                top: int = 0, confirm_seeds: int = 2, epochs: int = 3, subset: int = 300,
                lr: tuple[float, float] = (0.01, 0.5), widths: str = "[[8], [16]]",
                budget: str = "", seed: int = 0, extra: str = "") -> str:
    return f"""\
name = "{name}"
design = "search"
seeds = [0]

[search]
sampler = "{sampler}"
trials = {trials}
pruner = "{pruner}"
seed = {seed}
confirm = {{ top = {top}, seeds = {confirm_seeds} }}

[data]
dataset = "digits"
subset = {subset}
scale = "unit"

[model]
kind = "mlp"
hidden = [16]

[train]
epochs = {epochs}
batch_size = 32
optimizer = {{ name = "sgd", lr = 0.05, momentum = 0.9 }}
divergence_factor = 1e6
{budget}
[[factor]]
name = "lr"
path = "train.optimizer.lr"
range = [{lr[0]}, {lr[1]}]
log = true

[[factor]]
name = "width"
path = "model.hidden"
choices = {widths}
{extra}"""
