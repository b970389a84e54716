"""The Python API: hyperlab.Study.load / plan / run / results / status, as a notebook uses it."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import hyperlab
from hyperlab.errors import UserError

STUDY = """
name = "api"
seeds = 2

[data]
dataset = "digits"
subset = 200
test_subset = 200

[model]
kind = "mlp"
hidden = [16]

[train]
epochs = 3
batch_size = 32

[[factor]]
name = "activation"
path = "model.activation"
levels = ["tanh"]
"""



@pytest.fixture
def study_file(tmp_path: Path) -> Path:
    path = tmp_path / "api.toml"
    path.write_text(STUDY)
    return path


def test_study_is_exported_lazily_from_the_package():
    from hyperlab.api import Study

    assert hyperlab.Study is Study
    assert "Study" in hyperlab.__all__
    with pytest.raises(AttributeError):
        hyperlab.NoSuchThing  # noqa: B018


def test_load_applies_overrides_and_plans(study_file):
    study = hyperlab.Study.load(study_file, overrides=["train.epochs=2", "seeds=3"])
    assert study.name == "api" and "api" in repr(study)
    plan = study.plan()
    assert [v.name for v in plan.variants] == ["baseline", "activation=tanh"]
    assert len(plan.trials) == 6 and {t.config.train.epochs for t in plan.trials} == {2}


def test_load_errors_are_user_errors(study_file, tmp_path):
    with pytest.raises(UserError, match="no such study file"):
        hyperlab.Study.load(tmp_path / "missing.toml")
    with pytest.raises(UserError, match="train.epochs"):
        hyperlab.Study.load(study_file, overrides=["train.epochs=-1"])


def test_run_then_results_as_dataframes(study_file, tmp_path):
    study = hyperlab.Study.load(study_file)
    summary = study.run(tmp_path / "ws", progress="events", report=False)
    assert summary.exit_code == 0 and summary.statuses == {"completed": 4}
    assert [e["event"] for e in summary.events][0] == "run_started"
    assert summary.events[-1]["event"] == "run_finished"
    epochs = [e for e in summary.events if e["event"] == "epoch"]
    assert len(epochs) == 4 * 3 and {"val_accuracy", "train_loss"} <= set(epochs[0]["metrics"])

    frames = study.results(tmp_path / "ws")
    for table in (frames.epochs, frames.finals, frames.trials, frames.variants):
        assert isinstance(table, pd.DataFrame)
    assert len(frames.epochs) == 12 and len(frames.finals) == 4 and len(frames.trials) == 4
    assert frames.epochs.groupby("trial_key").epoch.max().eq(3).all()
    assert frames.finals.test_accuracy.between(0, 1).all()
    assert len(frames.finals.per_class_test.iloc[0]) == 10  # lists stay lists
    assert frames.study["name"] == "api" and frames.study["running"] is False

    status = study.status(tmp_path / "ws")
    assert status.done.tolist() == [2, 2] and status.pending.sum() == 0


def test_run_argument_errors_are_user_errors(study_file, tmp_path):
    study = hyperlab.Study.load(study_file)
    for kwargs, message in (({"workers": 0}, "--workers"), ({"device": "tpu"}, "--device"),
                            ({"threads": 0}, "--threads"), ({"progress": "loud"}, "progress")):
        with pytest.raises(UserError, match=message):
            study.run(tmp_path / "ws", report=False, **kwargs)


def test_results_without_a_workspace_is_a_user_error(study_file, tmp_path):
    with pytest.raises(UserError, match="not a hyperlab workspace"):
        hyperlab.Study.load(study_file).results(tmp_path / "nothing")


def test_a_file_selects_its_plan_a_name_everything_stored(study_file, tmp_path):
    """One rule with the CLI: the same file with other overrides shows its own trials, not the
    trials of the configuration that was run last; the name shows what is stored under it."""
    workspace = tmp_path / "ws"
    short = hyperlab.Study.load(study_file, overrides=["train.epochs=1", "seeds=1"])
    assert short.run(workspace, progress="quiet", report=False).exit_code == 0
    as_run = short.results(workspace)
    assert set(as_run.trials.status) == {"completed"}
    assert "with --set train.epochs=1" in as_run.study["selection"]
    as_written = hyperlab.Study.load(study_file).results(workspace)  # 3 epochs, 2 seeds: never run
    assert len(as_written.trials) == 4 and set(as_written.trials.status) == {"pending"}
    assert as_written.epochs.empty and "planned by" in as_written.study["selection"]
    stored = hyperlab.results("api", workspace)
    assert set(stored.trials.trial_key) == set(as_run.trials.trial_key)
    assert "everything stored under the study name 'api'" in stored.study["selection"]
    with pytest.raises(UserError, match="study name"):
        hyperlab.api.select("api", ["train.epochs=1"], workspace)


def test_factor_columns_and_headline_metrics_make_a_pivot_one_call(tmp_path):
    path = tmp_path / "grid.toml"
    path.write_text(STUDY.replace('seeds = 2', 'seeds = 1\ndesign = "grid"').replace(
        'levels = ["tanh"]', 'levels = ["tanh", "relu"]') + """
[[factor]]
name = "width"
path = "model.hidden"
levels = [[8], [4, 4]]
labels = ["narrow", "two, deep"]
""")
    study = hyperlab.Study.load(path, overrides=["train.epochs=2"])
    study.run(tmp_path / "ws", progress="quiet", report=False)
    trials = study.results(tmp_path / "ws").trials
    assert list(trials["label:width"]) == ["narrow", "two, deep"] * 2  # a ", " in a label stays whole
    assert list(trials["level:width"]) == [(8,), (4, 4)] * 2
    assert set(trials["level:activation"]) == {"tanh", "relu"}
    for column in ("best_val_accuracy", "best_val_loss", "best_epoch"):
        assert trials[column].notna().all()
    epochs = study.results(tmp_path / "ws").epochs
    best = epochs.groupby("trial_key").val_accuracy.max()
    assert trials.set_index("trial_key").best_val_accuracy.to_dict() == best.to_dict()
    table = trials.pivot_table(index="label:activation", columns="label:width", values="best_val_accuracy")
    assert table.shape == (2, 2)


def test_report_export_and_short_reprs(study_file, tmp_path):
    study = hyperlab.Study.load(study_file, overrides=["train.epochs=1", "seeds=1"])
    assert repr(study) == f"<hyperlab.Study 'api' from {study_file}, overrides=['train.epochs=1', 'seeds=1']>"
    assert repr(study.plan()) == "<Plan 'api': 2 variants x 1 seeds = 2 trials, 2 distinct, 2 within budget>"
    study.run(tmp_path / "ws", progress="quiet", report=False)
    frames = study.results(tmp_path / "ws")
    short = repr(frames).replace(str(tmp_path), "TMP")  # the paths it names are as long as tmp_path is
    assert len(short) < 300 and "trials=2x" in short
    index = study.report(tmp_path / "ws")
    assert index == tmp_path / "ws" / "reports" / "api" / "index.html" and index.is_file()
    runs = study.export(tensorboard=tmp_path / "tb", workspace=tmp_path / "ws")
    assert sorted(p.relative_to(tmp_path / "tb").as_posix() for p in runs) == [
        "activation=tanh/seed-0", "baseline/seed-0"]


def test_one_public_study_name():
    import hyperlab.spec

    assert not hasattr(hyperlab.spec, "Study") and hasattr(hyperlab.spec, "StudySpec")
