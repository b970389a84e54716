"""A real `hyperlab run` of a search study (3 configurations) SIGKILLed mid-trial, then run again:
exactly `trials` configurations in the end, none trained twice, the killed one resumed rather than
asked again."""

from __future__ import annotations

import sys
from pathlib import Path

from runner_helpers import events_of, read_until, run_cli, start_cli

from hyperlab.store import Store

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "search"))
from search_text import search_toml  # noqa: E402  (the search tests' study text)


def test_sigkill_mid_search_then_rerun_gives_exactly_trials_configurations(tmp_path: Path) -> None:
    path = tmp_path / "search.toml"
    path.write_text(search_toml(trials=3, epochs=25, subset=300, sampler="tpe"))
    workspace = tmp_path / "ws"
    args = ["run", str(path), "--workspace", str(workspace), "--jsonl", "--threads", "1", "--no-report"]

    proc = start_cli(*args)
    seen: list[dict] = []
    starts: list[str] = []
    killed = read_until(proc, lambda e: e["event"] == "trial_started" and starts.append(e["key"]) is None
                        and len(starts) == 2, seen)
    read_until(proc, lambda e: e["event"] == "epoch" and e["key"] == killed["key"], seen)
    proc.kill()  # SIGKILL: the second configuration stays `running` under a dead owner
    proc.wait(timeout=30)
    with Store.open(workspace) as store:
        before = [r for r in store.study_trials("search") if r["seed"] == 0 and r["variant"] != "baseline"]
        assert [store.trial(r["key"])["status"] for r in before].count("running") == 1
        assert killed["key"] in {r["key"] for r in before}

    rerun = run_cli(*args)
    assert rerun.returncode == 0, rerun.stderr
    events = events_of(rerun.stdout)
    resumed = next(e for e in events if e["event"] == "trial_started" and e["key"] == killed["key"])
    assert resumed["resumed_from"] >= 1
    with Store.open(workspace) as store:
        rows = [r for r in store.study_trials("search") if r["seed"] == 0 and r["variant"] != "baseline"]
        keys = [r["key"] for r in rows]
        assert len(rows) == 3 and len(set(keys)) == 3 and len({r["variant"] for r in rows}) == 3
        assert {r["key"] for r in before} <= set(keys)
        assert all(store.trial(k)["status"] == "completed" for k in keys)
        assert store.trial(killed["key"])["attempts"] == 2
        assert all(store.trial(k)["attempts"] == 1 for k in keys if k != killed["key"])
        assert [e["epoch"] for e in store.epochs(killed["key"])] == list(range(1, 26))
    trained_again = [e["key"] for e in events if e["event"] == "trial_started" and e["key"] in set(keys)]
    assert killed["key"] in trained_again and starts[0] not in trained_again
