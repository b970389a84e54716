"""Each stored trial records the numerics it trained under (device, dtype, torch, threads,
deterministic); a trial resumed under other numerics records the epoch where they changed, and
`status`, the results tables, the report's analysis and `compare` say so."""

from __future__ import annotations

import os
import signal
import time

import torch
from runner_helpers import forked_run

import hyperlab
from devices import DEVICE
from hyperlab.analysis import analyze
from hyperlab.analysis.compare import compare_studies
from hyperlab.cli.app import main
from hyperlab.report.compare import comparison_rows, summary_line


def numerics(threads: int) -> str:
    return f"{DEVICE} float32 torch {torch.__version__} threads={threads} deterministic"


def test_trials_record_their_numerics_and_a_resume_under_other_threads_is_shown(write_study, tmp_path,
                                                                                 capsys):
    path = write_study(seeds=1, epochs=6, levels=(0.1,), subset=120)
    study = hyperlab.Study.load(path)
    one = tmp_path / "one"
    assert study.run(one, progress="quiet", report=False, threads=1).exit_code == 0
    trials = study.results(one).trials
    assert list(trials["numerics"]) == [numerics(1)] * len(trials)
    assert trials["numerics_changed_at"].isna().all()

    # killed after 2 stored epochs under one thread, resumed under two: the trials record where
    mixed = tmp_path / "mixed"
    pid, stdout = forked_run(["run", str(path), "--workspace", str(mixed), "--jsonl", "--threads", "1",
                              "--no-report"])
    epochs = 0
    for line in stdout:
        epochs += '"event": "epoch"' in line
        if epochs >= 2:
            break
    # an epoch is committed before its checkpoint (which a stack's writer thread writes after): wait for
    # one, so the rerun resumes part way rather than starting over under the new numerics
    deadline = time.monotonic() + 30
    while not any((mixed / "artifacts" / "trials").glob("*/checkpoint.json")) and time.monotonic() < deadline:
        time.sleep(0.01)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    stdout.close()
    assert study.run(mixed, progress="quiet", report=False, threads=2).exit_code == 0
    frame = study.results(mixed).trials
    resumed = frame[frame["numerics_changed_at"].notna()]
    assert len(resumed) >= 1
    for row in resumed.itertuples(index=False):
        assert row.numerics.startswith(f"{numerics(1)} (epochs 1-")
        assert row.numerics.endswith(f"{numerics(2)} (from epoch {row.numerics_changed_at})")
    assert any("mixed numerics" in w for w in analyze(study.results(mixed)).warnings)

    capsys.readouterr()
    main(["status", str(path), "--workspace", str(mixed)])
    shown = capsys.readouterr().out
    assert "mixed numerics (resumed under other numerics)" in shown and "from epoch" in shown

    main(["results", str(path), "--workspace", str(one), "--format", "csv", "--table", "trials",
          "--out", "-"])
    csv = capsys.readouterr().out
    assert csv.splitlines()[0].split(",").count("numerics") == 1 and numerics(1) in csv

    # the same study trained under two threads: compare says the paired variants' numerics differ
    two = tmp_path / "two"
    assert study.run(two, progress="quiet", report=False, threads=2).exit_code == 0
    comparison = compare_studies(study.results(one), study.results(two))
    assert all(row.numerics_differ for row in comparison.rows)
    assert all("different numerics" in row["verdict"] for row in comparison_rows(comparison))
    assert "trained under different numerics" in summary_line(comparison)
