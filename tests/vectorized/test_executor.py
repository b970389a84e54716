"""The executor in a real study run: same stored results as the one-by-one executor, and resumable."""

from __future__ import annotations

import json

import hyperlab
from hyperlab.runner import ListSink, LocalExecutor, VectorizedExecutor, run_study
from hyperlab.store import Store

TIMING = ("seconds", "examples_per_s")
STUDY = """
name = "tiny-vectorized"
seeds = 2

[data]
dataset = "digits"
subset = 300
test_subset = 100

[model]
kind = "mlp"
hidden = [16, 8]

[train]
epochs = 3
batch_size = 32
optimizer = { name = "sgd", lr = 0.05, momentum = 0.5 }

[[factor]]
name = "lr"
path = "train.optimizer.lr"
levels = [0.01, 0.2]

[[factor]]
name = "dropout"
path = "model.dropout"
levels = [0.2]

[[factor]]
name = "optimizer"
path = "train.optimizer"
levels = [{ name = "adam", lr = 0.01 }]
"""


def stored(workspace, keys) -> dict:
    with Store.open(workspace) as store:
        return {key: ([{k: v for k, v in r.items() if k not in TIMING} for r in store.epochs(key)],
                      store.trial(key)["status"], store.final(key)) for key in keys}


def close(a, b) -> bool:
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(close(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple):
        return len(a) == len(b) and all(close(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and isinstance(b, float):
        return abs(a - b) <= 1e-5 * max(abs(b), 1e-9)
    return a == b


def test_a_study_run_vectorized_stores_what_the_engine_stores(tmp_path):
    path = tmp_path / "study.toml"
    path.write_text(STUDY)
    study = hyperlab.Study.load(path)
    plan = study.plan()
    keys = sorted({t.key for t in plan.trials})
    events = ListSink()
    summary = run_study(study.spec, plan, workspace=tmp_path / "vec", executor=VectorizedExecutor(),
                        events=events, report=False)
    assert summary.exit_code == 0 and summary.statuses == {"completed": len(keys)}
    started = [e for e in events.events if e["event"] == "trial_started"]
    assert sorted(e["key"] for e in started) == keys  # each trial trained once
    # the four SGD variants of both seeds stack as one; adam (another optimizer) across its two seeds
    assert sorted(e.get("vectorized", 1) for e in started) == [2, 2, 8, 8, 8, 8, 8, 8, 8, 8]
    run_study(study.spec, plan, workspace=tmp_path / "one", executor=LocalExecutor(), report=False)
    assert close(stored(tmp_path / "vec", keys), stored(tmp_path / "one", keys))
    with Store.open(tmp_path / "vec") as store, Store.open(tmp_path / "one") as one:
        for key in keys:
            kinds = {"checkpoint", "checkpoint_state", "predictions"}
            assert {a["kind"] for a in store.artifacts(key)} == kinds
            assert {a["kind"] for a in one.artifacts(key)} == kinds
            stacked, alone = (json.loads((s.workspace / next(a["path"] for a in s.artifacts(key)
                                                              if a["kind"] == "predictions")).read_text())
                              for s in (store, one))
            assert stacked["test_samples"]["truth"] == alone["test_samples"]["truth"]
            assert stacked["confusion_test"] == store.final(key)["confusion_test"]


def test_an_interrupted_vectorized_run_resumes_trial_by_trial(tmp_path):
    path = tmp_path / "study.toml"
    path.write_text(STUDY)
    study = hyperlab.Study.load(path)
    plan = study.plan()
    keys = sorted({t.key for t in plan.trials})
    stop = {}

    class StopAfterFourEpochs(ListSink):
        """Requests a stop (as Ctrl-C does) once 4 epochs are stored: mid-group, after epoch 1."""

        def emit(self, event):
            super().emit(event)
            if event["event"] == "epoch" and sum(e["event"] == "epoch" for e in self.events) == 4:
                stop["flag"].set()

    class Executor(VectorizedExecutor):
        def run(self, trials, ctx):
            stop["flag"] = ctx.should_stop  # the runner's StopFlag
            super().run(trials, ctx)

    sink = StopAfterFourEpochs()
    executor = Executor()
    first = run_study(study.spec, plan, workspace=tmp_path / "ws", executor=executor, events=sink,
                      report=False)
    assert first.interrupted
    with Store.open(tmp_path / "ws") as store:
        statuses = store.trial_statuses(keys)
    assert "interrupted" in statuses.values()
    second = run_study(study.spec, plan, workspace=tmp_path / "ws", executor=VectorizedExecutor(),
                       report=False)
    assert second.exit_code == 0 and second.statuses == {"completed": len(keys)}
    run_study(study.spec, plan, workspace=tmp_path / "one", executor=LocalExecutor(), report=False)
    assert close(stored(tmp_path / "ws", keys), stored(tmp_path / "one", keys))
