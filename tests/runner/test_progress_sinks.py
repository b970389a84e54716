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
