"""`hyperlab plan` says, per variant, why the stacked path declines its trials (they then train one
at a time through the engine), and names no reason for the variants it stacks."""

from __future__ import annotations

import json
from pathlib import Path

STUDY = """
name = "stacking"
seeds = 1
[data]
dataset = "digits"
[model]
kind = "mlp"
hidden = [8]
[train]
epochs = 1
[[factor]]
name = "opt"
path = "train.optimizer"
levels = [{name = "rmsprop", lr = 0.001}, {name = "sgd", lr = 0.5}]
labels = ["rmsprop", "sgd"]
"""


def test_plan_names_why_a_variant_is_not_stacked(tmp_path: Path, hyperlab_cli) -> None:
    study = tmp_path / "study.toml"
    study.write_text(STUDY)
    args = ("plan", str(study), "--workspace", str(tmp_path / "ws"))
    as_json = hyperlab_cli(*args, "--json")
    assert as_json.returncode == 0, as_json.stderr
    reasons = {v["name"]: v["not_stacked"] for v in json.loads(as_json.stdout)["variants"]}
    assert reasons["baseline"] is None and reasons["opt=sgd"] is None
    assert "rmsprop" in reasons["opt=rmsprop"]
    text = hyperlab_cli(*args, env={"COLUMNS": "200"})
    assert "the stacked path declines them" in text.stdout and "opt=rmsprop: train.optimizer" in text.stdout
