"""`--executor ray` on this machine: scaling over 1, 2 and 3 Ray nodes of 1 CPU, the driver's commit
throughput, and the bytes one epoch sends back to the driver (docs/distributed.md quotes the output).

    .venv/bin/python benchmarks/ray_scaling.py                      # all three (a few minutes)
    .venv/bin/python benchmarks/ray_scaling.py --only bytes         # needs CIFAR-10 in the data cache

scaling: the same digits study (12 trials) on a fresh `ray.cluster_utils.Cluster` of 1, 2 and 3
nodes with 1 CPU each, driven from this process through the Python API; wall time from the run's
start to its end (Ray's worker processes start inside it, as in any run) and trials per minute.
throughput: the driver's commit path alone (store.record_epoch, then the checkpoint verified and
written atomically: what the driver does per epoch received), replayed for many tiny trials from one
really trained trial's records and checkpoints; then many tiny trials end to end on 3 nodes.
bytes: what one epoch of the notebook-004 net (studies/cifar10-164k-fast.toml) sends: its record (JSON)
and its checkpoint (tensors + state), trained for 3 epochs on a 2,048-image subset (the checkpoint's
size does not depend on the data; its state grows with the epoch history).

Results are printed and saved as JSON in benchmarks/results/ (git-ignored). Nothing asserts a time.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path

SCALING_STUDY = """
name = "ray-scaling"
seeds = 3

[data]
dataset = "digits"

[model]
kind = "mlp"
hidden = [64]

[train]
epochs = 20
batch_size = 32
optimizer = { name = "sgd", lr = 0.05, momentum = 0.9 }

[[factor]]
name = "lr"
path = "train.optimizer.lr"
levels = [0.01, 0.02, 0.1]
"""

TINY_STUDY = """
name = "ray-tiny-{trials}"
seeds = 1

[data]
dataset = "digits"
subset = 200
test_subset = 100

[model]
kind = "mlp"
hidden = [8]

[train]
epochs = {epochs}
batch_size = 64
optimizer = {{ name = "sgd", lr = 0.05 }}

[[factor]]
name = "lr"
path = "train.optimizer.lr"
levels = {levels}
"""


def tiny_study(folder: Path, trials: int, epochs: int) -> Path:
    path = folder / f"tiny-{trials}.toml"
    levels = [round(0.001 * (i + 1), 6) for i in range(trials - 1)]  # + the baseline = `trials`
    path.write_text(TINY_STUDY.format(trials=trials, epochs=epochs, levels=levels))
    return path


def run_on_cluster(nodes: int, study: Path, workspace: Path) -> dict:
    """A fresh cluster of `nodes` 1-CPU nodes; the study run from this process; the cluster removed."""
    from ray.cluster_utils import Cluster

    import ray
    from hyperlab.api import Study

    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "include_dashboard": False})
    for _ in range(nodes - 1):
        cluster.add_node(num_cpus=1)
    cluster.wait_for_nodes()
    ray.init(address=cluster.address, log_to_driver=False, logging_level="WARNING")
    try:
        started = time.perf_counter()
        summary = Study.load(study).run(workspace, executor="ray", progress="events", report=False)
        seconds = time.perf_counter() - started
    finally:
        ray.shutdown()
        cluster.shutdown()
    trials = sum(1 for e in summary.events if e["event"] == "trial_finished" and e["status"] == "completed")
    epochs = sum(1 for e in summary.events if e["event"] == "epoch")
    nodes_used = len({e["node"] for e in summary.events if e["event"] == "trial_started"})
    return {"nodes": nodes, "nodes_used": nodes_used, "trials": trials, "epochs": epochs,
            "seconds": round(seconds, 1), "trials_per_min": round(60 * trials / seconds, 1),
            "epochs_per_s": round(epochs / seconds, 1)}


def scaling(folder: Path) -> list[dict]:
    study = folder / "scaling.toml"
    study.write_text(SCALING_STUDY)
    rows = []
    for nodes in (1, 2, 3):
        row = run_on_cluster(nodes, study, folder / f"scaling-{nodes}")
        print(f"scaling: {row}", flush=True)
        rows.append(row)
    return rows


def trained_epochs(study: Path) -> tuple[list[dict], list[tuple[bytes, bytes]]]:
    """One tiny trial trained for real: its epoch records and the checkpoint bytes of each epoch."""
    from hyperlab.api import Study
    from hyperlab.engine import train_trial
    from hyperlab.engine.checkpoint import STATE_FILE, TENSORS_FILE

    task = Study.load(study).plan().trials[0]
    records, checkpoints = [], []
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)

        def should_stop() -> bool:  # polled after each epoch's checkpoint (as runner/ray_node.py)
            if len(checkpoints) < len(records):
                files = (workdir / TENSORS_FILE).read_bytes(), (workdir / STATE_FILE).read_bytes()
                checkpoints.append(files)
            return False

        train_trial(task.config, task.seed, workdir=workdir, on_epoch=records.append, should_stop=should_stop)
        should_stop()
    return records, checkpoints


def commit_throughput(folder: Path, trials: int = 200, epochs: int = 5) -> dict:
    """The driver's per-epoch work, replayed: record_epoch + install_checkpoint, trial after trial."""
    from hyperlab.api import Study
    from hyperlab.engine.checkpoint import install_checkpoint
    from hyperlab.runner import register
    from hyperlab.store import Owner, Store

    study = tiny_study(folder, trials, epochs)
    records, checkpoints = trained_epochs(study)
    loaded = Study.load(study)
    plan = loaded.plan()
    owner = Owner.current()
    with Store.open(folder / "commits") as store:
        store.register_study(register.study_row(loaded.spec, plan), register.variant_rows(plan),
                             register.trial_rows(plan))
        tasks = register.tasks(plan)
        started = time.perf_counter()
        for task in tasks:
            store.claim(task.key, owner)
            for record, (tensors, state) in zip(records, checkpoints, strict=True):
                store.record_epoch(task.key, owner, record)
                install_checkpoint(store.trial_dir(task.key), tensors, state)
            store.finish_trial(task.key, owner, status="completed", epochs=records)
        seconds = time.perf_counter() - started
    commits = len(tasks) * len(records)
    row = {"trials": len(tasks), "epochs_per_trial": len(records), "epoch_commits": commits,
           "seconds": round(seconds, 2), "epoch_commits_per_s": round(commits / seconds, 1),
           "checkpoint_bytes": len(checkpoints[-1][0]) + len(checkpoints[-1][1])}
    print(f"commit path: {row}", flush=True)
    return row


def end_to_end_throughput(folder: Path, trials: int = 60, epochs: int = 5) -> dict:
    row = run_on_cluster(3, tiny_study(folder, trials, epochs), folder / "tiny-e2e")
    print(f"tiny trials on 3 nodes: {row}", flush=True)
    return row


def bytes_per_epoch(root: Path) -> dict:
    """Per epoch of the notebook-004 net: the record and the checkpoint the task sends to the driver."""
    from hyperlab.api import Study
    from hyperlab.engine import RunSettings, train_trial
    from hyperlab.engine.checkpoint import STATE_FILE, TENSORS_FILE

    study = Study.load(str(root / "studies" / "cifar10-164k-fast.toml"),
                       ["data.subset=2048", "train.epochs=3"])
    task = study.plan().trials[0]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        records: list[dict] = []

        def should_stop() -> bool:
            if len(rows) < len(records):
                rows.append({"epoch": records[-1]["epoch"], "record_json": len(json.dumps(records[-1])),
                             "checkpoint_tensors": (workdir / TENSORS_FILE).stat().st_size,
                             "checkpoint_state": (workdir / STATE_FILE).stat().st_size})
            return False

        result = train_trial(task.config, task.seed, workdir=workdir, on_epoch=records.append,
                             should_stop=should_stop, settings=RunSettings(device="cpu", threads=1))
        should_stop()
        predictions = (workdir / "predictions.json").stat().st_size
    out = {"params": result.params, "per_epoch": rows, "predictions_json_at_the_end": predictions}
    print(f"bytes per epoch (notebook-004 net): {out}", flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=("scaling", "throughput", "bytes"))
    args = parser.parse_args()
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    root = Path(__file__).resolve().parents[1]
    results: dict = {"machine": f"{platform.node()}, {os.cpu_count()} CPUs",
                     "python": platform.python_version()}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        if args.only in (None, "bytes"):
            results["bytes"] = bytes_per_epoch(root)
        if args.only in (None, "throughput"):
            results["commit_path"] = commit_throughput(folder)
            results["tiny_end_to_end"] = end_to_end_throughput(folder)
        if args.only in (None, "scaling"):
            results["scaling"] = scaling(folder)
    out = root / "benchmarks" / "results" / f"ray_scaling-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    print(f"saved {out}")


if __name__ == "__main__":
    main()
