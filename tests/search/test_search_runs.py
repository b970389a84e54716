"""Real search runs on digits: pruning stops trials that must be stopped, over-budget configurations
never train, and the confirmation stage trains the top configurations x seeds with paired tests."""

from __future__ import annotations

import json
import re

import hyperlab
from hyperlab.analysis import SearchAnalysis, analyze
from hyperlab.runner import LocalExecutor, run_study
from hyperlab.runner.stacked import VectorizedExecutor
from hyperlab.store import Store


def searched(store: Store, name: str) -> list[dict]:
    rows = [r for r in store.study_trials(name) if r["seed"] == 0 and r["variant"] != "baseline"]
    return [store.trial(r["key"]) | {"variant": r["variant"]} for r in rows]


def test_pruning_stops_trials_whose_learning_rate_cannot_learn(write_search, tmp_path) -> None:
    # A learning-rate range from hopeless (1e-6: chance accuracy after every epoch) to useful:
    # the median pruner must stop some trials after an epoch, and store them as pruned results.
    path = write_search(trials=12, pruner="median", lr=(1e-6, 0.5), epochs=4, seed=1)
    summary = hyperlab.Study.load(path).run(tmp_path / "ws", progress="quiet", report=False, threads=1)
    assert summary.exit_code == 0
    with Store.open(tmp_path / "ws") as store:
        rows = searched(store, "search")
        assert len(rows) == 12 and len({r["key"] for r in rows}) == 12
        assert [r for r in store.study_trials("search") if r["seed"] != 0] == []  # confirm.top = 0
        pruned = [r for r in rows if r["status"] == "pruned"]
        assert pruned, [(r["variant"], r["status"]) for r in rows]
        for row in pruned:
            stopped = int(re.match(r"pruned at epoch (\d+): val_accuracy", row["stop_reason"])[1])
            assert [e["epoch"] for e in store.epochs(row["key"])] == list(range(1, stopped + 1))
            assert stopped < 4 and not store.final(row["key"])  # no final metrics
        lrs = {r["variant"]: float(re.match(r"lr=([^,]+)", r["variant"])[1]) for r in rows}
        assert max(lrs[r["variant"]] for r in pruned) < max(lrs.values())  # the best rates were kept
    status = hyperlab.Study.load(path).status(tmp_path / "ws")  # `hyperlab status`: pruned is done
    assert len(status) == 13 and status["done"].sum() == 12 and status["pending"].sum() == 0
    assert status.set_index("variant").loc["baseline", "trials"] == 0  # confirm.top = 0: never trained


def test_over_budget_configurations_never_train_and_the_best_are_confirmed(write_search, tmp_path) -> None:
    # width [64] has 4,810 parameters, over max_params; [8] and [16] are within it.
    path = write_search(trials=6, top=2, confirm_seeds=3, widths="[[8], [16], [64]]",
                        budget="[budget]\nmax_params = 2000\n", seed=1)
    summary = hyperlab.Study.load(path).run(tmp_path / "ws", progress="events", threads=1)
    assert summary.exit_code == 0 and summary.report is not None
    started = {e["key"] for e in summary.events if e["event"] == "trial_started"}
    with Store.open(tmp_path / "ws") as store:
        rows = searched(store, "search")
        assert len(rows) == 6
        infeasible = [r for r in rows if r["status"] == "infeasible"]
        assert infeasible and all("width=[64]" in r["variant"] for r in infeasible)
        for row in infeasible:
            assert row["key"] not in started and store.epochs(row["key"]) == []
            assert row["stop_reason"] == "over budget: params 4,810 > max_params 2,000"
        assert all(r["status"] == "completed" for r in rows if r not in infeasible)
        confirm = [r for r in store.study_trials("search") if r["seed"] in (1, 2, 3)]
        by_variant: dict[str, set[int]] = {}
        for r in confirm:
            by_variant.setdefault(r["variant"], set()).add(r["seed"])
        assert len(by_variant) == 3 and by_variant["baseline"] == {1, 2, 3}
        assert all(seeds == {1, 2, 3} for seeds in by_variant.values())
        assert all(store.trial(r["key"])["status"] == "completed" for r in confirm)
        # selection-honest: each confirmation seed validates on a split of its own, never the search's
        # (split_seed 0), and baseline and configurations share it at a given seed (matched pairs)
        split = {(r["variant"], r["seed"]): json.loads(r["config"])["data"]["split_seed"] for r in confirm}
        assert {s for (_, seed), s in split.items()} == {1, 2, 3}
        assert all(s == seed for (_, seed), s in split.items())  # search seed 0: split_seed 0 + seed - 0
        assert all(json.loads(r["config"])["data"]["split_seed"] == 0 for r in rows)
        analysis = analyze(store.frames("search"))
    assert isinstance(analysis, SearchAnalysis)
    assert analysis.counts["infeasible"] == len(infeasible)
    ranked = sorted((t for t in analysis.trials if t.value is not None), key=lambda t: (-t.value, t.number))
    assert list(analysis.top) == [t.variant for t in ranked[:2]]
    assert set(analysis.top) == set(by_variant) - {"baseline"}
    tests = [c for c in analysis.confirmation.comparisons if c.metric == "test_accuracy"]
    assert {c.variant for c in tests} == set(analysis.top) and all(len(c.seeds) == 3 for c in tests)
    assert analysis.verdict.startswith(("Yes:", "No:", "Not shown:", "Not testable:"))
    assert analysis.top[0] in analysis.verdict and "paired t-test" not in analysis.verdict
    # the family counts both metrics of every eligible searched configuration, confirmed or not
    assert {c.family for c in analysis.confirmation.comparisons} == {2 * analysis.eligible}
    assert analysis.optimism is not None and analysis.optimism.n == 3
    report = (summary.report.parent / "report.md").read_text()
    assert "## Confirmation: the best configurations against the baseline" in report
    assert analysis.verdict in report and "p (Holm)" in report
    assert (summary.report.parent / "confirmation" / "index.html").is_file()


def test_workers_n_asks_n_configurations_at_a_time(write_search, tmp_path) -> None:
    # --workers 2: each batch of 2 is registered (so a kill loses none) before any of it trains;
    # trained here by the local executor to keep the test cheap; 5 trials: the last batch is 1.
    path = write_search(trials=5, epochs=1)
    study = hyperlab.Study.load(path)
    registered_at_start: list[int] = []

    class Watch:
        def emit(self, event: dict) -> None:
            if event["event"] == "trial_started":
                with Store.open(tmp_path / "ws") as store:
                    registered_at_start.append(len(searched(store, "search")))

        def close(self) -> None:
            pass

    summary = run_study(study.spec, study.plan(), workspace=tmp_path / "ws", workers=2, threads=1,
                        executor=LocalExecutor(), events=Watch(), report=False)
    assert summary.exit_code == 0
    assert registered_at_start == [2, 2, 4, 4, 5]
    with Store.open(tmp_path / "ws") as store:
        rows = searched(store, "search")
        assert len(rows) == 5 and len({r["key"] for r in rows}) == 5
        assert all(r["status"] == "completed" for r in rows)


def test_an_absurdly_small_max_seconds_makes_every_configuration_infeasible_untrained(write_search,
                                                                                      tmp_path) -> None:
    # 1 microsecond: no trial of any size can be estimated under it, so none trains; each is stored
    # infeasible with its estimate in the reason.
    path = write_search(trials=4, budget="[budget]\nmax_seconds = 1e-6\n")
    summary = hyperlab.Study.load(path).run(tmp_path / "ws", progress="events", report=False, threads=1)
    assert summary.exit_code == 0
    assert not [e for e in summary.events if e["event"] == "trial_started"]
    with Store.open(tmp_path / "ws") as store:
        rows = searched(store, "search")
        assert len(rows) == 4 and all(r["status"] == "infeasible" for r in rows)
        for row in rows:
            assert re.fullmatch(r"over budget: estimated [\d.e+-]+ s > max_seconds 1e-06", row["stop_reason"])
            assert store.epochs(row["key"]) == []


def test_a_huge_max_seconds_trains_every_configuration(write_search, tmp_path) -> None:
    path = write_search(trials=3, epochs=1, budget="[budget]\nmax_seconds = 1e9\n")
    summary = hyperlab.Study.load(path).run(tmp_path / "ws", progress="quiet", report=False, threads=1)
    assert summary.exit_code == 0
    with Store.open(tmp_path / "ws") as store:
        rows = searched(store, "search")
        assert len(rows) == 3 and all(r["status"] == "completed" for r in rows)


def test_workers_2_prune_in_their_own_processes_and_train_each_configuration_once(write_search,
                                                                                   tmp_path) -> None:
    # Two real worker processes decide to prune from the store after every epoch (the pruner's
    # view rebuilt from the stored epochs), as the runner's process does with one.
    path = write_search(trials=6, pruner="asha", lr=(1e-6, 0.5), epochs=3, seed=1)
    summary = hyperlab.Study.load(path).run(tmp_path / "ws", progress="events", report=False, threads=1,
                                            workers=2)
    assert summary.exit_code == 0
    started = [e for e in summary.events if e["event"] == "trial_started"]
    assert {e["worker"] for e in started} == {0, 1}  # trained in the worker processes
    assert len(started) == len({e["key"] for e in started}) == 6  # each trained once, none resumed
    notes = [e["message"] for e in summary.events if e["event"] == "search_note"]
    assert any("2 worker processes train the searched trials" in n for n in notes)
    with Store.open(tmp_path / "ws") as store:
        rows = searched(store, "search")
        assert len(rows) == 6 and len({r["key"] for r in rows}) == 6
        pruned = [r for r in rows if r["status"] == "pruned"]
        assert pruned, [(r["variant"], r["status"]) for r in rows]
        assert {r["status"] for r in rows} <= {"completed", "pruned"}
        for row in pruned:
            stopped = int(re.match(r"pruned at epoch (\d+): val_accuracy", row["stop_reason"])[1])
            assert [e["epoch"] for e in store.epochs(row["key"])] == list(range(1, stopped + 1))
            assert stopped < 3 and not store.final(row["key"])  # no final metrics


def test_a_pruned_search_trains_its_batches_stacked_and_prunes_within_a_stack(write_search, tmp_path) -> None:
    # One width, so every batch of 4 proposals is one compatible stack; the prune hook stops some
    # of a stack's trials after an epoch while the others go on, each configuration trained once.
    path = write_search(trials=8, pruner="asha", lr=(1e-6, 0.5), epochs=3, widths="[[16]]", seed=1)
    study = hyperlab.Study.load(path)
    started: list[dict] = []

    class Started:
        def emit(self, event: dict) -> None:
            if event["event"] == "trial_started":
                started.append(event)

        def close(self) -> None:
            pass

    # workers=4 with an explicit in-process executor: batches of 4 proposals, stacked here.
    summary = run_study(study.spec, study.plan(), workspace=tmp_path / "ws", workers=4, threads=1,
                        executor=VectorizedExecutor(), events=Started(), report=False)
    assert summary.exit_code == 0
    assert len(started) == len({e["key"] for e in started}) == 8  # each trained once, none resumed
    assert all(e.get("vectorized", 1) > 1 for e in started), started  # every searched trial stacked
    with Store.open(tmp_path / "ws") as store:
        rows = searched(store, "search")
        assert len(rows) == 8 and {r["key"] for r in rows} == {e["key"] for e in started}
        pruned = [r for r in rows if r["status"] == "pruned"]
        assert pruned and len(pruned) < 8, [(r["variant"], r["status"]) for r in rows]
        assert {r["status"] for r in rows} <= {"completed", "pruned"}
        for row in pruned:
            stopped = int(re.match(r"pruned at epoch (\d+): val_accuracy \S+ \(asha pruner\)$",
                                   row["stop_reason"])[1])
            assert [e["epoch"] for e in store.epochs(row["key"])] == list(range(1, stopped + 1))
            assert stopped < 3 and not store.final(row["key"])  # no final metrics


def test_an_executor_that_cannot_prune_leaves_searched_trials_to_this_process(write_search, tmp_path) -> None:
    # An executor the search does not know to honour the prune hook (as Ray's): the searched trials
    # train one at a time in the runner's process, with the hook; the executor trains only the
    # confirmation stage (its trials are never pruned).
    path = write_search(trials=4, pruner="asha", lr=(1e-6, 0.5), epochs=2, top=1, confirm_seeds=2, seed=1)
    study = hyperlab.Study.load(path)
    given: list[tuple[str, bool]] = []
    notes: list[str] = []

    class Remote:
        def run(self, trials, ctx) -> None:
            given.extend((t.key, ctx.prune is not None) for t in trials)
            LocalExecutor().run(trials, ctx)

    class Notes:
        def emit(self, event: dict) -> None:
            if event["event"] == "search_note":
                notes.append(event["message"])

        def close(self) -> None:
            pass

    summary = run_study(study.spec, study.plan(), workspace=tmp_path / "ws", threads=1, executor=Remote(),
                        events=Notes(), report=False)
    assert summary.exit_code == 0
    assert any("searched trials train one at a time in this process: Remote cannot stop" in n for n in notes)
    with Store.open(tmp_path / "ws") as store:
        searched_keys = {r["key"] for r in searched(store, "search")}
        assert len(searched_keys) == 4
        confirm = {r["key"] for r in store.study_trials("search") if r["seed"] != 0}
    assert given and {key for key, _ in given} <= confirm and not searched_keys & {key for key, _ in given}
    assert not any(pruning for _, pruning in given)  # the confirmation stage is never pruned


def test_results_have_one_column_per_factor_for_searched_trials(write_search, tmp_path) -> None:
    # A range, a choice with a path, and a choice of tables without a path (several keys at once).
    activation = """
[[factor]]
name = "activation"
choices = [{ "model.activation" = "relu" }, { "model.activation" = "tanh", "model.init" = "glorot_uniform" }]
labels = ["relu", "tanh"]
"""
    path = write_search(trials=4, epochs=1, extra=activation)
    study = hyperlab.Study.load(path)
    assert study.run(tmp_path / "ws", progress="quiet", report=False, threads=1).exit_code == 0
    trials = study.results(tmp_path / "ws").trials
    searched_rows = trials[~trials.is_baseline & (trials.seed == 0)]
    assert len(searched_rows) == 4
    for name in ("lr", "width", "activation"):
        assert searched_rows[f"level:{name}"].notna().all() and searched_rows[f"label:{name}"].notna().all()
    for _, row in searched_rows.iterrows():
        config = json.loads(row["config"])
        assert row["level:lr"] == config["train"]["optimizer"]["lr"]
        assert f"lr={row['label:lr']}" in row["variant"]
        assert row["level:width"] == tuple(config["model"]["hidden"])
        assert row["label:activation"] in ("relu", "tanh")
        keys = json.loads(row["level:activation"])
        model = config["model"]
        assert keys == {"model.activation": model["activation"], "model.init": model["init"]}
        assert keys["model.activation"] == row["label:activation"]
