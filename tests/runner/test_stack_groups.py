"""Which trials the stacked executor trains together: same-seed stacks first (shared batches), then
the trials left alone stack with their own configuration's other seeds (each its own batches)."""

from __future__ import annotations

from runner_helpers import without_timing

import hyperlab
from hyperlab.runner import LocalExecutor, VectorizedExecutor, run_study
from hyperlab.runner.events import ListSink
from hyperlab.runner.stacked import stack_groups
from hyperlab.store import Store

DEPTH = '[[factor]]\nname = "depth"\npath = "model.hidden"\nlevels = [[16, 16]]\n'


def test_a_variant_alone_in_each_seed_stacks_across_its_seeds(write_study):
    plan = hyperlab.Study.load(write_study(seeds=3, epochs=2, extra=DEPTH)).plan()
    groups = stack_groups(list(plan.trials), max_group=16, device="cpu")
    described = sorted(sorted((t.variant, t.seed) for t in group) for group in groups)
    assert described == [
        [("baseline", 0), ("lr=0.1", 0)], [("baseline", 1), ("lr=0.1", 1)], [("baseline", 2), ("lr=0.1", 2)],
        [("depth=[16, 16]", 0), ("depth=[16, 16]", 1), ("depth=[16, 16]", 2)],
    ]
    # in the plan's order of first trials, so worker i still starts with groups i, i+N, ...
    firsts = [min(plan.trials.index(t) for t in group) for group in groups]
    assert firsts == sorted(firsts)


def test_trials_stacked_across_seeds_store_what_they_store_one_by_one(write_study, tmp_path):
    study = hyperlab.Study.load(write_study(seeds=2, epochs=3, extra=DEPTH))
    plan = study.plan()
    depth_keys = {t.key for t in plan.trials if t.variant.startswith("depth")}
    stored = {}
    for name, executor in (("stacked", VectorizedExecutor()), ("alone", LocalExecutor())):
        events = ListSink()
        summary = run_study(study.spec, plan, workspace=tmp_path / name, executor=executor, events=events,
                            report=False)
        assert summary.exit_code == 0 and summary.statuses == {"completed": 6}, name
        if name == "stacked":
            sizes = {e["key"]: e.get("vectorized", 1) for e in events.events if e["event"] == "trial_started"}
            assert {sizes[key] for key in depth_keys} == {2}  # the two seeds of depth trained as one stack
        with Store.open(tmp_path / name) as store:
            stored[name] = {key: (without_timing(store.epochs(key)), store.final(key)) for key in depth_keys}
    for key in depth_keys:
        (epochs, final), (epochs_alone, final_alone) = stored["stacked"][key], stored["alone"][key]
        assert [r["epoch"] for r in epochs] == [1, 2, 3]
        for mine, theirs in zip(epochs + [final], epochs_alone + [final_alone], strict=True):
            for metric, value in theirs.items():
                if isinstance(value, float):
                    assert abs(mine[metric] - value) <= 1e-5 * max(abs(value), 1e-9), (key, metric)
