"""A real `hyperlab run` of an isolation study SIGKILLed mid-search, then run again, trains exactly
the trials (same keys, same variants) an uninterrupted run of the same file trains, the killed one
resumed rather than proposed again."""

from __future__ import annotations

from pathlib import Path

from runner_helpers import events_of, read_until, run_cli, start_cli

from hyperlab.store import Store

ISOLATION = """\
name = "iso"
design = "isolation"
seeds = [0]

[isolation]
trials_per_level = 3
confirm_seeds = 2

[data]
dataset = "digits"
subset = 300
scale = "unit"

[model]
kind = "mlp"
hidden = [16]

[train]
epochs = 20
batch_size = 32
optimizer = { name = "sgd", lr = 0.05, momentum = 0.9 }
divergence_factor = 1e6

[[factor]]
name = "batch"
role = "scientific"
path = "train.batch_size"
levels = [16, 64]

[[factor]]
name = "lr"
role = "nuisance"
path = "train.optimizer.lr"
range = [0.01, 0.5]
log = true
"""


def _trials(workspace: Path) -> set[tuple[str, int, str]]:
    with Store.open(workspace) as store:
        rows = store.study_trials("iso")
        assert all(store.trial(r["key"])["status"] == "completed" for r in rows)
        return {(r["variant"], r["seed"], r["key"]) for r in rows}


def _check_report(workspace: Path) -> None:
    """The report of the finished study: what was re-tuned per level, the isolation figures."""
    from hyperlab.cli.app import main

    try:
        main(["report", "iso", "--workspace", str(workspace)])
    except SystemExit as exit_info:
        assert exit_info.code in (0, None)
    folder = workspace / "reports" / "iso"
    markdown = (folder / "report.md").read_text()
    assert "## Isolation: what was re-tuned at each level" in markdown
    assert "Re-tuned at each level of batch: lr (the baseline has lr = 0.05;" in markdown
    assert "batch = 16: 3 of 3 searched configurations have a value; the best" in markdown
    assert "batch 64 vs 16 (validation accuracy, new validation splits): at the baseline's lr, " in markdown
    for figure in ("isolation", "landscape", "expected-best"):
        assert (folder / "figures" / f"{figure}.svg").read_text().lstrip().startswith("<?xml")


def test_sigkill_mid_isolation_search_then_rerun_trains_what_an_uninterrupted_run_trains(tmp_path: Path):
    path = tmp_path / "iso.toml"
    path.write_text(ISOLATION)
    common = ["run", str(path), "--jsonl", "--threads", "1", "--no-report"]
    whole = run_cli(*common, "--workspace", str(tmp_path / "whole"))
    assert whole.returncode == 0, whole.stderr
    expected = _trials(tmp_path / "whole")
    assert len(expected) == 2 * 3 + 2 * 2 * 2  # searched + (re-tuned and fixed) x confirmation seeds
    _check_report(tmp_path / "whole")

    workspace = tmp_path / "killed"
    args = [*common, "--workspace", str(workspace)]
    proc = start_cli(*args)
    seen: list[dict] = []
    starts: list[str] = []
    killed = read_until(proc, lambda e: e["event"] == "trial_started" and starts.append(e["key"]) is None
                        and len(starts) == 4, seen)  # the second level's first searched trial
    read_until(proc, lambda e: e["event"] == "epoch" and e["key"] == killed["key"], seen)
    proc.kill()  # SIGKILL: that trial stays `running` under a dead owner
    proc.wait(timeout=30)
    with Store.open(workspace) as store:
        assert store.trial(killed["key"])["status"] == "running"

    rerun = run_cli(*args)
    assert rerun.returncode == 0, rerun.stderr
    assert _trials(workspace) == expected
    events = events_of(rerun.stdout)
    resumed = next(e for e in events if e["event"] == "trial_started" and e["key"] == killed["key"])
    assert resumed["resumed_from"] >= 1
    trained_again = {e["key"] for e in events if e["event"] == "trial_started"}
    assert not trained_again & set(starts[:3])  # the finished ones are never trained again
