"""The CLI end to end: `hyperlab run` (a real process, with the report), then `status` and `results`,
and the exit codes of the run / status / results commands for user errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from hyperlab.cli.app import main

STUDY = """
name = "e2e"
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
name = "dropout"
path = "model.dropout"
levels = [0.2]
"""



@pytest.fixture
def study_file(tmp_path: Path) -> Path:
    path = tmp_path / "e2e.toml"
    path.write_text(STUDY)
    return path


def report_installed() -> bool:
    try:
        from hyperlab.analysis import analyze  # noqa: F401
        from hyperlab.report import write_report  # noqa: F401
    except ImportError:
        return False
    return True


def cli(capsys, *args: str) -> tuple[int, str, str]:
    """Run the CLI in this process: (exit code, stdout, stderr)."""
    try:
        main(list(args))
        code = 0
    except SystemExit as exc:
        code = exc.code or 0
    out, err = capsys.readouterr()
    return code, out, err


def test_run_status_results(study_file, tmp_path, capsys):
    workspace = tmp_path / "ws"
    env = {k: v for k, v in os.environ.items() if k != "HYPERLAB_WORKSPACE"}
    command = [sys.executable, "-m", "hyperlab", "run", str(study_file), "--workspace", str(workspace),
               "--threads", "1"]
    proc = subprocess.run(command, capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stderr
    assert "4 trials planned, 4 to train, 0 reused" in proc.stdout
    if report_installed():  # the run ends with the report; without the module it is skipped
        report = Path(proc.stdout.split("report:")[1].split()[0])
        assert report.is_file() and report.is_relative_to(workspace / "reports" / "e2e")
    else:
        assert "report:" not in proc.stdout

    code, out, _ = cli(capsys, "status", str(study_file), "--workspace", str(tmp_path / "elsewhere"))
    assert code == 0 and "0/4 done, 0 running, 4 pending" in out
    assert not (tmp_path / "elsewhere").exists()  # looking does not create a workspace
    code, out, _ = cli(capsys, "status", str(study_file), "--workspace", str(workspace))
    assert code == 0 and "4/4 done" in out and "dropout=0.2" in out
    code, out, _ = cli(capsys, "status", "e2e", "--workspace", str(workspace), "--json")
    assert code == 0 and [row["done"] for row in json.loads(out)] == [2, 2]

    code, out, _ = cli(capsys, "results", "e2e", "--format", "csv", "--out", str(tmp_path / "csv"),
                       "--workspace", str(workspace))
    assert code == 0
    assert sorted(Path(line).name for line in out.split()) == [
        "epochs.csv", "finals.csv", "study.json", "trials.csv", "variants.csv"]
    epochs = pd.read_csv(tmp_path / "csv" / "epochs.csv")
    assert len(epochs) == 4 * 3 and {"trial_key", "variant", "seed", "epoch", "val_accuracy"} <= set(epochs)
    finals = pd.read_csv(tmp_path / "csv" / "finals.csv")
    assert len(finals) == 4 and len(json.loads(finals.confusion_test.iloc[0])) == 10
    assert list(pd.read_csv(tmp_path / "csv" / "variants.csv").variant) == ["baseline", "dropout=0.2"]

    code, out, _ = cli(capsys, "results", str(study_file), "--format", "json", "--workspace", str(workspace))
    assert code == 0
    trials = json.loads((workspace / "results" / "e2e" / "trials.json").read_text())
    assert len(trials) == 4 and {t["status"] for t in trials} == {"completed"}

    code, out, _ = cli(capsys, "run", str(study_file), "--workspace", str(workspace), "--quiet",
                       "--no-report")
    assert code == 0 and out == ""  # everything reused, nothing to say


@pytest.mark.parametrize("args, message", [
    (["run", "missing.toml"], "no such study file"),
    (["run", "{study}", "--quiet", "--jsonl"], "choose one"),
    (["run", "{study}", "--workers", "0"], "--workers"),
    (["run", "{study}", "--device", "tpu"], "--device"),
    (["run", "{study}", "--set", "train.epochs=0"], "train.epochs"),
    (["status", "no-such-study"], "not a hyperlab workspace"),
    (["results", "{study}", "--format", "xml"], "--format"),
    (["results", "{study}"], "not a hyperlab workspace"),
])
def test_user_errors_exit_2_with_one_line(args, message, study_file, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("HYPERLAB_WORKSPACE", raising=False)
    code, _, err = cli(capsys, *[a.replace("{study}", str(study_file)) for a in args], "--workspace",
                       str(tmp_path / ("ws" if args[0] != "results" else "none")))
    assert code == 2, err
    assert message in err and "Traceback" not in err
    assert err.startswith("hyperlab: error:") and err.strip().count("\n") == 0
