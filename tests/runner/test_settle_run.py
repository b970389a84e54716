"""Seeds until settled, run for real: `seeds = { min, max, target }` adds matched seeds to the variants
whose comparison is not settled, records why in the store, and resumes from the store alone."""

from __future__ import annotations

from collections import defaultdict

import hyperlab
from hyperlab.runner.run import run_study
from hyperlab.store import Store

RULE = "{ min = 3, max = 5, target = 0.1 }"  # a 0.1-point half-width: only a constant difference settles


def seeds_by_variant(store: Store, name: str) -> dict[str, set[int]]:
    out: dict[str, set[int]] = defaultdict(set)
    for row in store.study_trials(name):
        out[row["variant"]].add(int(row["seed"]))
    return dict(out)


def test_unsettled_variants_get_matched_seeds_up_to_max_with_the_reason_stored(write_study, tmp_path):
    path = write_study(seeds=RULE, levels=(0.005, 0.5), epochs=2, extra="", subset=150)
    study = hyperlab.Study.load(path)
    summary = study.run(tmp_path / "ws", progress="events", threads=1)
    assert summary.exit_code == 0
    with Store.open(tmp_path / "ws") as store:
        seeds = seeds_by_variant(store, study.name)
        added = store.seed_additions(study.name)
        assert all(3 <= len(s) <= 5 for s in seeds.values())
        grown = [v for v, s in seeds.items() if v != "baseline" and len(s) > 3]
        assert grown  # 2 epochs on 150 examples: a 0.1-point half-width is not reached at 3 seeds
        for variant in grown:
            assert seeds["baseline"] >= seeds[variant]  # matched: the baseline has every seed they have
            reasons = {r["seed"]: r["reason"] for r in added if r["variant"] == variant}
            assert set(reasons) == seeds[variant] - {0, 1, 2}
            assert all(r.startswith("not settled") for r in reasons.values())
        assert all(store.trial(r["key"])["status"] == "completed" for r in store.study_trials(study.name))
    events = [e for e in summary.events if e["event"] == "seeds_added"]
    assert {(e["variant"], e["seed"]) for e in events} == {(r["variant"], r["seed"]) for r in added}
    report = (summary.report.parent / "report.md").read_text()
    assert "Seeds until settled (min 3, max 5" in report
    again = study.run(tmp_path / "ws", progress="events", threads=1)  # rebuilt from the store: done
    assert sum(again.trained.values()) == 0 and again.planned == sum(len(s) for s in seeds.values())


def test_a_run_killed_after_recording_a_seed_trains_it_on_resume_and_keeps_pairs_matched(write_study,
                                                                                           tmp_path):
    path = write_study(seeds=RULE, levels=(0.5,), epochs=2, subset=150)
    study = hyperlab.Study.load(path)
    # The first seeds only (no rule given to the runner), then the addition a killed run had recorded
    # before registering it: the next run must register and train it from the store alone.
    run_study(study.spec, study.plan(), workspace=tmp_path / "ws", report=False)
    with Store.open(tmp_path / "ws") as store:
        store.add_seeds(study.name, [("lr=0.5", 3, "not settled: recorded before the kill")])
    summary = study.run(tmp_path / "ws", progress="events", threads=1)
    assert summary.exit_code == 0
    with Store.open(tmp_path / "ws") as store:
        seeds = seeds_by_variant(store, study.name)
        reasons = {(r["variant"], r["seed"]): r["reason"] for r in store.seed_additions(study.name)}
    assert 3 in seeds["lr=0.5"] and seeds["baseline"] >= seeds["lr=0.5"]
    assert reasons[("lr=0.5", 3)] == "not settled: recorded before the kill"  # the first reason stays
    assert reasons[("baseline", 3)].startswith("matched seed for lr=0.5")
