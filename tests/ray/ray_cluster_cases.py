"""The Ray executor on a real 3-node Ray cluster (a head and two worker nodes of 1 CPU each).

Not collected on its own (no test_ prefix): test_ray_cluster.py runs this file in a private network
and PID namespace, where 127.0.0.1 is the only address, and checks that it passes. One cluster
serves every case; the case that removes a node runs last but one, and the pruned search then
runs on the two nodes left. This process is the driver of most cases
(the Python API, `executor="ray"`, one Ray connection: the nodes' worker processes start once, not
once per case); the driver the kill-and-resume case SIGKILLs is a real `hyperlab run` (RAY_ADDRESS).
"""

from __future__ import annotations

import os
import signal
from collections import Counter
from pathlib import Path

import pytest
from ray_cluster_helpers import (
    FAILING_STUDY,
    NETNS_FLAG,
    driver_env,
    numbers,
    read_until,
    search_toml,
    start_driver,
    study_toml,
    trained,
)
from ray_factories import ON_NODE

if os.environ.get(NETNS_FLAG) != "1":
    pytest.skip("runs only inside the private network namespace test_ray_cluster.py sets up",
                allow_module_level=True)

NAME, EPOCHS = "ray-digits", 40


@pytest.fixture(scope="module")
def cluster():
    from ray.cluster_utils import Cluster

    # The nodes' processes inherit these, the drivers started later do not: ON_NODE makes the
    # failing factory fail on nodes only; on PYTHONPATH, its module imports on every node.
    saved = dict(os.environ)
    os.environ.update({ON_NODE: "1", "PYTHONPATH": driver_env(None)["PYTHONPATH"]})
    try:
        cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "include_dashboard": False})
        workers = [cluster.add_node(num_cpus=1) for _ in range(2)]
        cluster.wait_for_nodes()
    finally:
        os.environ.clear()
        os.environ.update(saved)
    cluster.test_workers = workers
    import ray

    ray.init(address=cluster.address, log_to_driver=False)
    yield cluster
    ray.shutdown()
    cluster.shutdown()


@pytest.fixture(scope="module")
def study(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("study") / "study.toml"
    path.write_text(study_toml(NAME, EPOCHS))
    return path


def run_here(study: Path, workspace: Path, sink: object = None, **options) -> tuple[object, list[dict]]:
    """Run `study` in this process through the Python API: (summary, events)."""
    from hyperlab.api import Study
    from hyperlab.runner.events import ListSink

    events = sink if sink is not None else ListSink()
    summary = Study.load(study).run(workspace, progress=events, report=False, **options)
    return summary, events.events


@pytest.fixture(scope="module")
def local(study, tmp_path_factory) -> dict:
    """The study trained by the local executor, one trial at a time, one thread."""
    workspace = tmp_path_factory.mktemp("local")
    summary, _ = run_here(study, workspace, executor="local", threads=1)
    assert summary.exit_code == 0
    return trained(workspace, NAME)


@pytest.fixture(scope="module")
def stacked(study, tmp_path_factory) -> dict:
    """The study trained by the default (stacked) executor, one thread."""
    workspace = tmp_path_factory.mktemp("stacked")
    summary, _ = run_here(study, workspace, threads=1)
    assert summary.exit_code == 0
    return trained(workspace, NAME)


@pytest.fixture(scope="module")
def on_cluster(cluster, study, tmp_path_factory) -> tuple[object, list[dict], dict]:
    """The study trained on the cluster without interruption: (summary, events, stored)."""
    workspace = tmp_path_factory.mktemp("ray")
    summary, events = run_here(study, workspace, executor="ray")
    return summary, events, trained(workspace, NAME)


def test_study_on_three_nodes_matches_the_local_executor_each_trial_trained_once(on_cluster, local, stacked):
    summary, events, stored = on_cluster
    assert summary.exit_code == 0
    assert len(stored) == 4 and {t["status"] for t in stored.values()} == {"completed"}
    assert numbers(stored) == numbers(local) == numbers(stacked)  # one numerical path, bit for bit
    starts = [e for e in events if e["event"] == "trial_started"]
    assert sorted(e["key"] for e in starts) == sorted(stored)  # one submission per trial
    assert all(e["submission"] == 1 and e["checkpoint"] == 0 for e in starts)
    per_epoch = Counter((e["key"], e["epoch"]) for e in events if e["event"] == "epoch")
    assert sorted(per_epoch) == sorted((key, n) for key in stored for n in range(1, EPOCHS + 1))
    assert set(per_epoch.values()) == {1}
    assert len({e["node"] for e in starts}) >= 2  # 1 CPU per node: trials in flight spread out
    # the store says where each trial trained (`status` shows it while the trial runs)
    assert {key: stored[key]["placement"] for key in stored} == {e["key"]: str(e["node"]) for e in starts}
    assert all(t["placement"] is None for t in local.values())  # the local executor places nothing


def test_a_model_factory_raising_on_a_node_fails_its_trial_and_the_study_goes_on(cluster, tmp_path):
    study = tmp_path / "failing.toml"
    study.write_text(FAILING_STUDY)
    summary, events = run_here(study, tmp_path / "ws", executor="ray")
    assert summary.exit_code == 0
    stored = trained(tmp_path / "ws", "ray-failing-factory")
    statuses = sorted(t["status"] for t in stored.values())
    assert statuses == ["completed", "failed"], [t["error"] for t in stored.values()]
    failed = next(t for t in stored.values() if t["status"] == "failed")
    assert "boom on a Ray node" in failed["error"]
    finished = [e for e in events if e["event"] == "trial_finished" and e["status"] == "failed"]
    assert len(finished) == 1 and "boom on a Ray node" in finished[0]["error"]


def test_driver_killed_mid_study_then_run_again_completes_with_identical_numbers(cluster, study, on_cluster,
                                                                                  tmp_path):
    workspace = tmp_path / "ws"
    driver = start_driver(study, workspace, cluster.address)
    seen: list[dict] = []
    read_until(driver, lambda e: e["event"] == "epoch" and e["epoch"] >= 5, seen)
    driver.send_signal(signal.SIGKILL)
    driver.wait()
    before = trained(workspace, NAME)
    assert any(0 < len(t["epoch_numbers"]) < EPOCHS for t in before.values())  # killed mid-trial
    summary, events = run_here(study, workspace, executor="ray")  # any driver resumes from the store
    assert summary.exit_code == 0
    after = trained(workspace, NAME)
    assert numbers(after) == numbers(on_cluster[2])
    assert all(t["epoch_numbers"] == list(range(1, EPOCHS + 1)) for t in after.values())
    resumed = [e for e in events if e["event"] == "trial_started" and e["checkpoint"] > 0]
    assert resumed, "no trial resumed from a checkpoint the killed driver had committed"
    for start in resumed:
        first = next(e for e in events if e["event"] == "epoch" and e["key"] == start["key"])
        assert first["epoch"] == start["checkpoint"] + 1


class RemoveNodeMidTrial:
    """A run's event sink that removes the node of the first trial on a worker node to reach epoch 3.
    While it does, the driver consumes nothing more, so that task pauses a few epochs ahead (Ray's
    generator backpressure): the node is surely lost mid-trial, however fast the machine."""

    def __init__(self, cluster) -> None:
        self.cluster, self.events, self.victim = cluster, [], None
        self.workers = {node.node_id[:8]: node for node in cluster.test_workers}

    def emit(self, event: dict) -> None:
        self.events.append(event)
        if (self.victim is None and event["event"] == "epoch" and event.get("node") in self.workers
                and event["epoch"] >= 3):
            self.victim = event
            self.cluster.remove_node(self.workers[event["node"]])

    def close(self) -> None:
        pass


def test_a_node_removed_mid_study_its_trials_resume_from_checkpoints_elsewhere(cluster, study, on_cluster,
                                                                               tmp_path):
    sink = RemoveNodeMidTrial(cluster)
    summary, seen = run_here(study, tmp_path / "ws", sink=sink, executor="ray")
    assert summary.exit_code == 0 and sink.victim is not None
    stored = trained(tmp_path / "ws", NAME)
    assert numbers(stored) == numbers(on_cluster[2])  # the same numbers as an uninterrupted run
    assert all(t["epoch_numbers"] == list(range(1, EPOCHS + 1)) for t in stored.values())  # none twice
    requeued = [e for e in seen if e["event"] == "trial_requeued"]
    assert sink.victim["key"] in {e["key"] for e in requeued}
    assert all(e["node"] == sink.victim["node"] for e in requeued)
    for event in requeued:
        later = seen[seen.index(event):]
        start = next(e for e in later if e["event"] == "trial_started" and e["key"] == event["key"])
        assert start["submission"] == 2 and start["node"] != event["node"]
        assert start["checkpoint"] >= 1  # resumed from a checkpoint, not from scratch
        first = next(e for e in later if e["event"] == "epoch" and e["key"] == event["key"])
        assert first["epoch"] == start["checkpoint"] + 1  # the first retrained epoch follows it


def test_a_pruned_tpe_search_on_two_nodes_prunes_on_the_nodes_and_proposes_what_a_local_run_proposes(
        cluster, tmp_path):
    # After the node removal above, the cluster is a head and one worker node. The driver decides
    # each pruning from the store after every epoch (as every executor does) and the trial's node
    # obeys: no searched trial falls back to the driver's process. TPE's first 10 proposals are its
    # seeded random start-up, so the configurations match a local run's whatever the outcomes; the
    # statuses may not (a median pruner compares with the trials completed so far, and two trials
    # train at once on the cluster, one at a time locally).
    assert len(cluster.list_all_nodes()) == 2
    study = tmp_path / "search.toml"
    study.write_text(search_toml("ray-search"))
    summary, events = run_here(study, tmp_path / "ray", executor="ray")
    assert summary.exit_code == 0
    notes = [e["message"] for e in events if e["event"] == "search_note"]
    assert not any("one at a time in this process" in n for n in notes), notes
    assert any("the driver decides from the store" in n for n in notes), notes
    stored = trained(tmp_path / "ray", "ray-search")
    assert len(stored) == 10
    pruned = {k: t for k, t in stored.items() if t["status"] == "pruned"}
    assert pruned, {k: t["status"] for k, t in stored.items()}
    starts = [e for e in events if e["event"] == "trial_started"]
    assert sorted(e["key"] for e in starts) == sorted(stored)
    assert all(e.get("node") and e.get("submission") == 1 for e in starts)  # each trained on a Ray node
    for trial in pruned.values():
        stopped = len(trial["epoch_numbers"])
        assert trial["epoch_numbers"] == list(range(1, stopped + 1)) and stopped < 8
        assert trial["final"] == {}  # ended by the engine on its node, as a local pruned trial ends
    local_summary, _ = run_here(study, tmp_path / "local", executor="local", threads=1)
    assert local_summary.exit_code == 0
    assert sorted(trained(tmp_path / "local", "ray-search")) == sorted(stored)  # the same configurations
