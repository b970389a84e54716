"""Planning, budgets and `inspect` measure models on the meta device: a model far larger than this
process may allocate is planned and shown over budget, never built with real weights."""

from __future__ import annotations

import resource
import subprocess
import sys

import torch
from campaign import env

from hyperlab.engine import TrialConfig
from hyperlab.measure import build_on_meta
from hyperlab.plan.cost import variant_cost

HUGE = {"kind": "mlp", "hidden": [40000, 40000]}  # 1.6e9 parameters: 6.4 GB of float32 weights
LIMIT = 4 * 1024**3  # address space of the planning process: less than the model's weights

STUDY = """
name = "huge"
seeds = 1
[data]
dataset = "digits"
[model]
kind = "mlp"
hidden = [40000, 40000]
[train]
epochs = 1
[budget]
max_params = 1000000
"""


def test_models_are_measured_on_the_meta_device():
    model = build_on_meta(HUGE, (1, 8, 8), 10)
    assert {p.device.type for p in model.parameters()} == {"meta"}
    cost = variant_cost(TrialConfig(model=HUGE, data={"dataset": "digits"}))
    assert cost.params == 1_603_040_010


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (LIMIT, LIMIT))


def test_plan_and_inspect_of_a_model_over_budget_never_allocate_it(tmp_path):
    study = tmp_path / "huge.toml"
    study.write_text(STUDY)
    for args in (["plan", str(study)], ["inspect", str(study)]):
        done = subprocess.run([sys.executable, "-m", "hyperlab", *args], capture_output=True, text=True,
                              env=env(), preexec_fn=_limit_memory, timeout=300)
        assert done.returncode == 0, (args, done.stderr)
        if args[0] == "plan":
            assert "max_params" in done.stdout and "1,603,040,010" in done.stdout
    assert torch.empty(0).device.type == "cpu"  # (the global default device is left alone)
