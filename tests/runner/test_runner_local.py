"""The runner in this process (Python API): what it trains, what it reuses, what it stores."""

from __future__ import annotations

import hyperlab
from hyperlab.store import Store


def started_keys(summary) -> list[str]:
    return [e["key"] for e in summary.events if e["event"] == "trial_started"]


def test_first_run_trains_each_distinct_trial_once_and_a_second_run_reuses_them(write_study, tmp_path):
    # lr levels 0.1 and 0.02: the second equals the baseline's lr, so it shares the baseline's trials.
    study = hyperlab.Study.load(write_study(levels=(0.1, 0.02)))
    workspace = tmp_path / "ws"
    plan = study.plan()
    assert len(plan.trials) == 6 and len({t.key for t in plan.trials}) == 4

    first = study.run(workspace, progress="events", report=False)
    assert first.exit_code == 0 and not first.interrupted
    assert sorted(started_keys(first)) == sorted({t.key for t in plan.trials})
    assert first.statuses == {"completed": 4} and first.trained == {"completed": 4}

    second = study.run(workspace, progress="events", report=False)
    assert started_keys(second) == [] and second.reused == 4

    frames = study.results(workspace)
    assert len(frames.trials) == 6 and set(frames.trials.status) == {"completed"}
    assert len(frames.epochs) == 6 * 3 and len(frames.finals) == 6
    shared = frames.trials[frames.trials.variant == "lr=0.02"].trial_key.tolist()
    assert shared == frames.trials[frames.trials.variant == "baseline"].trial_key.tolist()
    with Store.open(workspace) as store:
        for key in {t.key for t in plan.trials}:
            row = store.trial(key)
            assert row["attempts"] == 1
            assert [r["epoch"] for r in store.epochs(key)] == [1, 2, 3]
            kinds = {"checkpoint", "checkpoint_state", "predictions"}
            assert {a["kind"] for a in store.artifacts(key)} == kinds
            assert set(row) >= {"versions", "host", "owner"} and '"engine"' in row["versions"]


def test_adding_a_level_trains_only_the_new_trials(write_study, tmp_path):
    workspace = tmp_path / "ws"
    before = hyperlab.Study.load(write_study(levels=(0.1,)))
    before.run(workspace, progress="quiet", report=False)
    with Store.open(workspace) as store:
        started_before = {k: store.trial(k)["started"] for k in {t.key for t in before.plan().trials}}

    after = hyperlab.Study.load(write_study(levels=(0.1, 0.05)))
    summary = after.run(workspace, progress="events", report=False)
    new_keys = {t.key for t in after.plan().trials if t.variant == "lr=0.05"}
    assert sorted(started_keys(summary)) == sorted(new_keys) and len(new_keys) == 2
    with Store.open(workspace) as store:
        assert {k: store.trial(k)["started"] for k in started_before} == started_before
    assert list(after.results(workspace).variants.variant) == ["baseline", "lr=0.1", "lr=0.05"]


def test_more_seeds_train_only_the_new_seeds(write_study, tmp_path):
    workspace = tmp_path / "ws"
    hyperlab.Study.load(write_study(seeds=1)).run(workspace, progress="quiet", report=False)
    summary = hyperlab.Study.load(write_study(seeds=2)).run(workspace, progress="events", report=False)
    assert {e["seed"] for e in summary.events if e["event"] == "trial_started"} == {1}
    assert summary.reused == 2


def test_rerun_trains_every_trial_again(write_study, tmp_path):
    workspace = tmp_path / "ws"
    study = hyperlab.Study.load(write_study(seeds=1))
    first = study.run(workspace, progress="quiet", report=False)
    again = study.run(workspace, progress="events", report=False, rerun=True)
    assert len(started_keys(again)) == first.unique == 2
    with Store.open(workspace) as store:
        assert all(store.trial(k)["attempts"] == 1 for k in started_keys(again))  # reset, then trained


def test_a_diverged_trial_is_a_result_and_the_study_goes_on(write_study, tmp_path):
    workspace = tmp_path / "ws"
    study = hyperlab.Study.load(write_study(seeds=1, levels=(1.0e6, 0.1)))
    summary = study.run(workspace, progress="events", report=False)
    assert summary.exit_code == 0
    assert summary.statuses == {"completed": 2, "diverged": 1}
    trials = study.results(workspace).trials.set_index("variant")
    assert trials.loc["lr=1000000.0", "status"] == "diverged"
    assert "diverged" in trials.loc["lr=1000000.0", "stop_reason"]
    assert study.run(workspace, progress="events", report=False).trained == {}  # a result: reused
    retried = study.run(workspace, progress="events", report=False, retry_failed=True)
    assert retried.trained == {"diverged": 1}


def test_variants_over_budget_are_listed_and_not_trained(write_study, tmp_path):
    workspace = tmp_path / "ws"
    # hidden [16] on 64 inputs: 1,210 params; 0.1 widens nothing, so budget by a wider level.
    path = write_study(seeds=1, extra="[budget]\nmax_params = 1500\n")
    text = path.read_text().replace('name = "lr"\npath = "train.optimizer.lr"\nlevels = [0.1]',
                                    'name = "width"\npath = "model.hidden"\nlevels = [[8], [64]]')
    path.write_text(text)
    study = hyperlab.Study.load(path)
    summary = study.run(workspace, progress="events", report=False)
    assert summary.over_budget == ["width=[64]"] and summary.statuses == {"completed": 2}
    frames = study.results(workspace)
    assert frames.variants.set_index("variant").loc["width=[64]", "budget_ok"] == False  # noqa: E712
    assert "max_params" in frames.variants.set_index("variant").loc["width=[64]", "budget_reason"]
    assert "width=[64]" not in set(frames.trials.variant)


def test_status_counts_per_variant(write_study, tmp_path):
    workspace = tmp_path / "ws"
    hyperlab.Study.load(write_study(seeds=2, levels=(0.1,))).run(workspace, progress="quiet", report=False)
    status = hyperlab.Study.load(write_study(seeds=2, levels=(0.1, 0.05))).status(workspace)
    rows = status.set_index("variant")
    assert list(rows.index) == ["baseline", "lr=0.1", "lr=0.05"]
    assert rows.loc["baseline", "done"] == 2 and rows.loc["lr=0.05", "pending"] == 2
    assert rows[["running", "failed"]].sum().sum() == 0
