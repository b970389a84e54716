"""What a run shows: rich lines for people, strict JSON lines for scripts."""

from __future__ import annotations

import io
import json

from rich.console import Console

import hyperlab
from hyperlab.runner.events import JsonlSink
from hyperlab.runner.progress import RichSink


def test_rich_progress_prints_a_line_per_trial_and_a_summary(write_study, tmp_path):
    out = io.StringIO()
    sink = RichSink(Console(file=out, width=100, force_terminal=False))
    summary = hyperlab.Study.load(write_study(seeds=1, levels=(1.0e6,))).run(
        tmp_path / "ws", progress=sink, report=False)
    text = out.getvalue()
    assert summary.statuses == {"completed": 1, "diverged": 1}
    assert "tiny: 2 trials planned, 2 to train, 0 reused" in text
    assert "completed baseline seed 0" in text
    assert "diverged lr=1000000.0 seed 0" in text and "(diverged at epoch 1" in text
    assert "tiny: done in" in text and "1 completed, 1 diverged" in text
    assert len([line for line in text.splitlines() if "seed 0" in line]) == 2  # no wrapped lines


def test_jsonl_lines_are_strict_json():
    out = io.StringIO()
    JsonlSink(out).emit({"event": "epoch", "metrics": {"train_loss": float("nan"), "lr": 0.1,
                                                       "per_class": [float("inf"), 1.0]}})
    line = out.getvalue()
    assert "NaN" not in line and "Infinity" not in line
    assert json.loads(line)["metrics"] == {"train_loss": None, "lr": 0.1, "per_class": [None, 1.0]}


def test_the_overall_bar_starts_where_the_last_run_stopped_and_never_moves_back():
    sink = RichSink(Console(file=io.StringIO(), width=100, force_terminal=True))
    seen = []

    def emit(event: dict) -> None:
        sink.emit(event)
        seen.append(sink.completed)

    emit({"event": "run_started", "study": "s", "planned": 5, "to_train": 2, "reused": 3, "over_budget": 0,
          "workspace": "ws"})
    assert sink.completed == 3.0  # the 3 trials stored before this run count as done
    # two trials trained as one stack: their epochs interleave; one resumes at epoch 2 of 4
    emit({"event": "trial_started", "key": "a", "variant": "a", "seed": 0, "epochs": 4, "resumed_from": 2})
    emit({"event": "trial_started", "key": "b", "variant": "b", "seed": 0, "epochs": 4, "resumed_from": 0})
    assert sink.completed == 3.5
    for epoch in (3, 4):
        emit({"event": "epoch", "key": "a", "variant": "a", "seed": 0, "epoch": epoch, "epochs": 4,
              "metrics": {}})
        emit({"event": "epoch", "key": "b", "variant": "b", "seed": 0, "epoch": epoch - 2, "epochs": 4,
              "metrics": {}})
    emit({"event": "trial_finished", "key": "a", "variant": "a", "seed": 0, "status": "completed"})
    emit({"event": "epoch", "key": "b", "variant": "b", "seed": 0, "epoch": 3, "epochs": 4, "metrics": {}})
    emit({"event": "trial_finished", "key": "b", "variant": "b", "seed": 0, "status": "completed"})
    sink.close()
    assert seen == sorted(seen) and seen[-1] == 5.0


def test_a_ray_trial_names_its_node_also_in_a_log():
    # issue 29: "on node ..." (docs/distributed.md) was only in the live bar, absent from a pipe or log
    out = io.StringIO()
    sink = RichSink(Console(file=out, width=100, force_terminal=False))
    sink.emit({"event": "trial_started", "key": "k1", "variant": "baseline", "seed": 0, "epochs": 2,
               "resumed_from": 0, "node": "1a2b3c4d"})
    sink.emit({"event": "trial_finished", "key": "k1", "variant": "baseline", "seed": 0,
               "status": "completed", "seconds": 1.5, "final": {"test_accuracy": 0.9}})
    sink.close()
    assert "completed baseline seed 0 on node 1a2b3c4d 1.5s" in out.getvalue()


def test_a_search_does_not_open_with_zero_trials_planned():
    # issue 29: a search run opened with "0 trials planned, 0 to train" (its trials come from the sampler)
    out = io.StringIO()
    sink = RichSink(Console(file=out, width=100, force_terminal=False))
    sink.emit({"event": "run_started", "study": "digits-search", "workspace": "ws", "planned": 0,
               "to_train": 0, "reused": 0})
    sink.close()
    assert "0 trials planned" not in out.getvalue() and "proposed as it runs" in out.getvalue()
