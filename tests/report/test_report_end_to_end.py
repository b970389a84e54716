"""A real tiny study trained by `hyperlab run`, then `hyperlab report` and `hyperlab export` on its store."""

from __future__ import annotations

import html
import re

from report_helpers import hyperlab, load_in_chromium
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboard.plugins.hparams import plugin_data_pb2

from hyperlab.store import Store

PLACEHOLDERS = re.compile(r"TODO|\b(nan|NaN|None|undefined|inf)\b|\{\{|\}\}|\{%")


def test_report_from_the_real_store(tiny_study, tmp_path):
    study, workspace = tiny_study
    proc = hyperlab("report", str(study), "--workspace", str(workspace))
    assert proc.returncode == 0, proc.stderr
    index = workspace / "reports" / "tiny" / "index.html"
    assert proc.stdout.strip() == str(index)
    page = index.read_text()
    text = html.unescape(re.sub(r'src="data:[^"]*"', 'src=""', page))
    assert not PLACEHOLDERS.findall(text)
    for factor in ("learning rate", "width"):
        assert f">{factor}</h3>" in page
    assert "Lowering the learning rate from 0.05 to 0.005, best validation accuracy: " in text
    assert "Changing the width from [32] to [8]" in text
    assert "exact sign-flip permutation test p" in text and "3 seeds" in text
    figures = {p.stem for p in (index.parent / "figures").glob("*.svg")}
    assert figures >= {"curves-learning-rate", "curves-width", "ranking", "per-class", "confusion", "cost",
                       "predictions"}
    assert "Test predictions of the best variant" in page  # the checkpoints were found and loaded
    with Store.open(workspace, create=False) as store:
        assert f"{len(store.frames('tiny').trials)} usable trials" in text
    console = load_in_chromium(index, tmp_path / "tiny.png", tmp_path / "profile")
    assert console == []


def test_decision_boundaries_for_two_dimensional_data(tiny_2d_study):
    study, workspace = tiny_2d_study
    proc = hyperlab("report", str(study), "--workspace", str(workspace))
    assert proc.returncode == 0, proc.stderr
    folder = workspace / "reports" / "tiny-2d"
    assert (folder / "figures" / "decision-boundaries.svg").stat().st_size > 5000
    page = (folder / "index.html").read_text()
    assert "Decision boundaries" in page
    assert "not enough seeds for a test" in page  # one seed: no verdict


def test_tensorboard_export_reads_back(tiny_study, tmp_path):
    _, workspace = tiny_study
    out = tmp_path / "tb"
    proc = hyperlab("export", "tiny", "--workspace", str(workspace), "--tensorboard", str(out))
    assert proc.returncode == 0, proc.stderr
    with Store.open(workspace, create=False) as store:
        frames = store.frames("tiny")
    runs = sorted(p.parent for p in out.rglob("events.out.tfevents.*") if p.parent != out)
    assert len(set(runs)) == len(frames.trials)
    accumulator = EventAccumulator(str(out / "learning_rate=0.005" / "seed-1"))
    accumulator.Reload()
    stored = frames.epochs[(frames.epochs["variant"] == "learning rate=0.005") & (frames.epochs["seed"] == 1)]
    events = accumulator.Scalars("accuracy/val")
    assert [e.step for e in events] == list(stored["epoch"])
    assert [e.value for e in events] == [float(v) for v in stored["val_accuracy"].astype("float32")]
    content = accumulator.PluginTagToContent("hparams")["_hparams_/session_start_info"]
    session = plugin_data_pb2.HParamsPluginData.FromString(content).session_start_info
    hparams = session.hparams
    assert hparams["variant"].string_value == "learning rate=0.005"
    assert hparams["train.optimizer.lr"].number_value == 0.005
    assert hparams["model.hidden"].string_value == "[32]"
    assert hparams["seed"].string_value == "1" and session.group_name == "learning rate=0.005"
    # one experiment at the root: `differs` marks what varies across the study
    root = EventAccumulator(str(out))
    root.Reload()
    experiment = plugin_data_pb2.HParamsPluginData.FromString(
        root.PluginTagToContent("hparams")["_hparams_/experiment"]).experiment
    differs = {info.name: info.differs for info in experiment.hparam_infos}
    assert differs["variant"] and differs["seed"] and differs["train.optimizer.lr"]
    assert differs["status"] is (frames.trials["status"].nunique() > 1)


def test_cli_user_errors_are_one_line(tmp_path):
    proc = hyperlab("report", "nothing-here", "--workspace", str(tmp_path / "none"))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.count("\n") == 1 and "not a hyperlab workspace" in proc.stderr
    proc = hyperlab("report", str(tmp_path / "missing.toml"))
    assert proc.returncode == 2 and "no such study file" in proc.stderr
    proc = hyperlab("export", "x", "--workspace", str(tmp_path))
    assert proc.returncode == 2 and "--tensorboard" in proc.stderr
