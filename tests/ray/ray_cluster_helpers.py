"""Helpers of the Ray tests: a real 3-node Ray cluster on loopback, `hyperlab run` drivers against it,
and what a workspace holds. Used inside the private network namespace (see test_ray_cluster.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from hyperlab.store import Store

HERE = Path(__file__).resolve().parent
TIMING_KEYS = ("seconds", "examples_per_s")  # the only epoch values that differ between equal runs
NETNS_FLAG = "HYPERLAB_RAY_NETNS"  # set when the test process runs inside the private namespace


def study_toml(name: str, epochs: int, extra_factor: str = "") -> str:
    """Digits, a small MLP, two learning rates x two seeds = 4 trials."""
    return f"""
name = "{name}"
seeds = 2

[data]
dataset = "digits"
subset = 300
test_subset = 200

[model]
kind = "mlp"
hidden = [16]

[train]
epochs = {epochs}
batch_size = 32
optimizer = {{ name = "sgd", lr = 0.02 }}

[[factor]]
name = "lr"
path = "train.optimizer.lr"
levels = [0.1]
{extra_factor}"""


FAILING_STUDY = """
name = "ray-failing-factory"
seeds = 1

[data]
dataset = "digits"
subset = 200
test_subset = 100

[model]
kind = "python"
factory = "ray_factories:mlp_failing_on_nodes"
kwargs = { explode = false }

[train]
epochs = 2
batch_size = 32
optimizer = { name = "sgd", lr = 0.05 }

[[factor]]
name = "explode"
path = "model.kwargs.explode"
levels = [true]
"""


def driver_env(address: str | None) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("HYPERLAB_WORKSPACE", None)
    env["PYTHONUNBUFFERED"] = "1"
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(HERE), env.get("PYTHONPATH")) if p)
    if address:
        env["RAY_ADDRESS"] = address
    return env


def hyperlab_args(study: Path, workspace: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "hyperlab", "run", str(study), "--workspace", str(workspace), "--jsonl",
            "--no-report", *extra]


def run_driver(study: Path, workspace: Path, address: str | None, *extra: str) -> tuple[int, list[dict], str]:
    """`hyperlab run --jsonl` to the end: (exit code, events, stderr)."""
    proc = subprocess.run(hyperlab_args(study, workspace, *extra), capture_output=True, text=True,
                          timeout=150, env=driver_env(address))
    return proc.returncode, events_of(proc.stdout), proc.stderr


def start_driver(study: Path, workspace: Path, address: str) -> subprocess.Popen:
    return subprocess.Popen(hyperlab_args(study, workspace, "--executor", "ray"), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=driver_env(address))


def events_of(stdout: str) -> list[dict]:
    return [json.loads(line) for line in stdout.splitlines() if line.strip()]


def read_until(proc: subprocess.Popen, predicate, seen: list[dict]) -> dict:
    """Read JSON-lines events from `proc` until one satisfies `predicate`; returns it."""
    for line in proc.stdout:
        event = json.loads(line)
        seen.append(event)
        if predicate(event):
            return event
    raise AssertionError(f"the driver ended (rc={proc.wait()}) before the awaited event: "
                         f"{proc.stderr.read()[-3000:]}")


def trained(workspace: Path, study: str) -> dict[str, dict]:
    """Per trial key: status, error, epoch numbers, epoch metrics and final results without timings."""
    out = {}
    with Store.open(workspace, create=False, readonly=True) as store:
        for row in store.study_trials(study):
            key = row["key"]
            epochs = store.epochs(key)
            out[key] = {
                "status": row["status"], "error": store.trial(key)["error"],
                "epoch_numbers": [int(r["epoch"]) for r in epochs],
                "epochs": [{k: v for k, v in r.items() if k not in TIMING_KEYS} for r in epochs],
                "final": {k: v for k, v in (store.final(key) or {}).items() if "seconds" not in k},
                "placement": store.placement(key),  # the node the driver last placed it on (status)
            }
    return out


def numbers(result: dict[str, dict]) -> dict[str, tuple]:
    """What a trial learned (what must not depend on where or how often it was interrupted)."""
    return {key: (t["status"], t["epochs"], t["final"]) for key, t in result.items()}


def search_toml(name: str, trials: int = 10, epochs: int = 8) -> str:
    """A TPE search with a median pruner on digits; the learning rate's range spans hopeless values
    (1e-5) to good ones, so the pruner has trials to stop."""
    return f"""
name = "{name}"
design = "search"
seeds = [0]

[search]
sampler = "tpe"
trials = {trials}
pruner = "median"
seed = 3
confirm = {{ top = 0, seeds = 2 }}

[data]
dataset = "digits"
subset = 300
test_subset = 100

[model]
kind = "mlp"
hidden = [16]

[train]
epochs = {epochs}
batch_size = 32
optimizer = {{ name = "sgd", lr = 0.05, momentum = 0.9 }}

[[factor]]
name = "lr"
path = "train.optimizer.lr"
range = [1e-5, 0.5]
log = true
"""
