"""`hyperlab export --mlflow`: a real tiny study into a real local MLflow tracking store, read back."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from report_helpers import hyperlab

from hyperlab.analysis.analyze import flatten_config
from hyperlab.store import Store

mlflow = pytest.importorskip("mlflow")


def test_mlflow_export_matches_the_store_and_re_export_updates(tiny_study, tmp_path, monkeypatch):
    from mlflow.tracking import MlflowClient

    from hyperlab.report.mlflow import export_mlflow

    study, workspace = tiny_study
    monkeypatch.chdir(tmp_path)  # MLflow's default artifact root for a sqlite store is ./mlruns
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    index = workspace / "reports" / "tiny" / "index.html"
    if not index.is_file():  # written by test_report_end_to_end when the whole file runs first
        assert hyperlab("report", str(study), "--workspace", str(workspace)).returncode == 0
    with Store.open(workspace, create=False) as store:
        frames = store.frames("tiny")

    # An export taken while the study was half way: 2 epochs per trial, every trial still running.
    early = replace(frames, epochs=frames.epochs[frames.epochs["epoch"] <= 2],
                    trials=frames.trials.assign(status="running"), study={**frames.study, "running": True})
    first = export_mlflow(early, uri)
    assert (first.created, first.updated) == (len(frames.trials), 0)

    proc = hyperlab("export", "tiny", "--workspace", str(workspace), "--mlflow", uri, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert f"0 runs created, {len(frames.trials)} updated" in proc.stdout
    again = export_mlflow(frames, uri, report=index)
    assert (again.created, again.updated) == (0, len(frames.trials))

    client = MlflowClient(tracking_uri=uri)
    experiment = client.get_experiment_by_name("tiny")
    runs = client.search_runs([experiment.experiment_id], max_results=1000)
    trial_runs = [r for r in runs if r.data.tags.get("hyperlab.kind") == "trial"]
    (parent,) = [r for r in runs if r.data.tags.get("hyperlab.kind") == "study"]
    assert len(trial_runs) == len(frames.trials) == 9  # re-exports updated, never duplicated
    assert [a.path for a in client.list_artifacts(parent.info.run_id)] == ["index.html"]
    for trial in frames.trials.to_dict("records"):
        (run,) = [r for r in trial_runs if r.data.tags["trial_key"] == trial["trial_key"]
                  and r.data.tags["variant"] == trial["variant"]]
        tags = run.data.tags
        assert run.info.run_name == f"{trial['variant']}/seed-{trial['seed']}"
        assert tags["mlflow.parentRunId"] == parent.info.run_id
        assert (tags["study"], tags["seed"], tags["status"]) == ("tiny", str(trial["seed"]), "completed")
        expected = ("", "") if trial["variant"] == "baseline" else (trial["factor"], trial["level"])
        assert (tags["factor"], tags["level"]) == expected
        assert run.info.status == "FINISHED"
        # the trial's own start and end, not the export's (issue 29)
        assert run.info.start_time == int(trial["started"] * 1000)
        assert run.info.end_time == int(trial["finished"] * 1000)
        flat = flatten_config(json.loads(trial["config"]))
        assert run.data.params == {**{k: v if isinstance(v, str) else json.dumps(v) for k, v in flat.items()},
                                   "seed": str(trial["seed"])}
        stored = frames.epochs[(frames.epochs["trial_key"] == trial["trial_key"])
                               & (frames.epochs["variant"] == trial["variant"])]
        for metric in ("val_loss", "val_accuracy", "train_loss", "lr"):
            history = client.get_metric_history(run.info.run_id, metric)
            assert [(m.step, m.value) for m in history] == list(zip(stored["epoch"], stored[metric],
                                                                    strict=True))
        final = frames.finals[(frames.finals["trial_key"] == trial["trial_key"])
                              & (frames.finals["variant"] == trial["variant"])].iloc[0]
        assert run.data.metrics["test_accuracy"] == final["test_accuracy"]
        assert len(client.get_metric_history(run.info.run_id, "test_accuracy")) == 1


def test_mlflow_export_into_a_new_store_prints_only_its_own_line(tiny_study, tmp_path):
    """A first export creates the tracking store's tables; MLflow's INFO lines about that are not shown."""
    study, workspace = tiny_study
    uri = f"sqlite:///{tmp_path / 'fresh.db'}"
    proc = hyperlab("export", "tiny", "--workspace", str(workspace), "--mlflow", uri, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "MLflow experiment 'tiny'" in proc.stdout and "runs created" in proc.stdout
    assert "INFO" not in proc.stderr and "database tables" not in proc.stderr, proc.stderr
