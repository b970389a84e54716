"""Which trials the stacked executor trains together: every compatible trial of the run in as few
stacks as the device's memory allows, across seeds and variants."""

from __future__ import annotations

from runner_helpers import without_timing

import hyperlab
import hyperlab.runner.stacked as stacked_module
from hyperlab.runner import LocalExecutor, VectorizedExecutor, run_study
from hyperlab.runner.events import ListSink
from hyperlab.runner.stacked import stack_groups
from hyperlab.store import Store
from hyperlab.vectorized.memory import stack_capacity, trial_footprint

DEPTH = '[[factor]]\nname = "depth"\npath = "model.hidden"\nlevels = [[16, 16]]\n'


def test_compatible_trials_of_every_seed_and_variant_share_one_stack(write_study):
    plan = hyperlab.Study.load(write_study(seeds=3, epochs=2, extra=DEPTH)).plan()
    groups = stack_groups(list(plan.trials), max_group=None, device="cpu")
    described = sorted(sorted((t.variant, t.seed) for t in group) for group in groups)
    assert described == [
        [("baseline", 0), ("baseline", 1), ("baseline", 2), ("lr=0.1", 0), ("lr=0.1", 1), ("lr=0.1", 2)],
        [("depth=[16, 16]", 0), ("depth=[16, 16]", 1), ("depth=[16, 16]", 2)],
    ]
    # in the plan's order of first trials, so worker i still starts with groups i, i+N, ...
    firsts = [min(plan.trials.index(t) for t in group) for group in groups]
    assert firsts == sorted(firsts)


def test_stacks_are_cut_where_memory_ends_keeping_seeds_together(write_study):
    plan = hyperlab.Study.load(write_study(seeds=3, epochs=2, extra=DEPTH)).plan()
    trials = [t for t in plan.trials if not t.variant.startswith("depth")]
    footprint = trial_footprint(trials[0].config, shared=False).bytes
    # memory for 2 trials per stack (stack_capacity takes half of what is free): 3 stacks of 2, one seed each
    groups = stack_groups(trials, max_group=None, device="cpu", free=4 * footprint + 1)
    assert sorted(sorted((t.seed, t.variant) for t in g) for g in groups) == [
        [(seed, "baseline"), (seed, "lr=0.1")] for seed in range(3)]
    assert [len(g) for g in stack_groups(trials, max_group=4, device="cpu")] == [3, 3]  # even cuts
    # several workers: the largest stacks are halved until each worker has one
    assert sorted(len(g) for g in stack_groups(trials, max_group=None, device="cpu", workers=2)) == [3, 3]


def test_a_trial_footprint_grows_with_its_model_batch_and_optimizer(write_study):
    plan = hyperlab.Study.load(write_study(seeds=1, epochs=2, extra=DEPTH)).plan()
    small, deep = (next(t.config for t in plan.trials if t.variant == name) for name in ("baseline",
                                                                                         "depth=[16, 16]"))
    assert trial_footprint(deep).bytes > trial_footprint(small).bytes
    assert trial_footprint(small, shared=True).bytes < trial_footprint(small).bytes  # no own input batch
    bigger_batch = small.model_copy(update={"train": small.train.model_copy(update={"batch_size": 256})})
    assert small.train.batch_size < 256
    assert trial_footprint(bigger_batch).activation_bytes > trial_footprint(small).activation_bytes
    train = type(small.train).model_validate({**small.train.model_dump(), "optimizer": {"name": "adam"}})
    adam = small.model_copy(update={"train": train})
    # Adam keeps two state tensors per weight, SGD with momentum one
    assert trial_footprint(adam).state_bytes - trial_footprint(small).state_bytes == small_params(small) * 4
    assert stack_capacity(10, 100) == 5 and stack_capacity(10**9, 100) == 1


def small_params(config):
    return trial_footprint(config).params


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


def test_on_cuda_trials_that_draw_each_step_stack_apart_so_the_rest_can_be_captured(write_study, monkeypatch):
    dropout = '[[factor]]\nname = "dropout"\npath = "model.dropout"\nlevels = [0.2]\n'
    plan = hyperlab.Study.load(write_study(seeds=2, epochs=2, extra=dropout)).plan()
    on_cpu = stack_groups(list(plan.trials), max_group=None, device="cpu")
    assert [len(g) for g in on_cpu] == [6]  # baseline, lr=0.1 and dropout=0.2 of both seeds
    monkeypatch.setattr(stacked_module, "_captures", lambda device: True)  # as on a CUDA machine
    on_cuda = stack_groups(list(plan.trials), max_group=None, device="cpu")
    assert sorted(sorted(t.variant for t in g) for g in on_cuda) == [
        ["baseline", "baseline", "lr=0.1", "lr=0.1"], ["dropout=0.2", "dropout=0.2"]]
