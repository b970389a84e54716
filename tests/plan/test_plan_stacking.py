"""`hyperlab plan` says, per variant, why the stacked path declines its trials (they then train one
at a time through the engine), and names no reason for the variants it stacks."""

from __future__ import annotations

import json
import subprocess
import sys
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


def test_plan_names_why_a_variant_is_not_stacked(tmp_path: Path) -> None:
    study = tmp_path / "study.toml"
    study.write_text(STUDY)
    command = [sys.executable, "-m", "hyperlab", "plan", str(study), "--workspace", str(tmp_path / "ws")]
    document = json.loads(subprocess.run([*command, "--json"], capture_output=True, text=True, timeout=120,
                                         check=True).stdout)
    reasons = {v["name"]: v["not_stacked"] for v in document["variants"]}
    assert reasons["baseline"] is None and reasons["opt=sgd"] is None
    assert "rmsprop" in reasons["opt=rmsprop"]
    text = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert "the stacked path declines them" in text.stdout and "opt=rmsprop: train.optimizer" in text.stdout
