"""A trial's numbers depend on its identity and the numerics, never on how it ran: the default
(stacked) executor, one by one (`--executor local`), `--workers 2` and a run SIGKILLed at random
epochs then rerun store exactly the same numbers, bit for bit (CPU, one thread)."""

from __future__ import annotations

import json
import os
import random
import signal

from runner_helpers import forked_run, study_toml, without_timing

import hyperlab
from hyperlab.store import Store

# 3 variants (lr 0.02, 0.1, 0.5: the last one on the edge of chaos, where 1e-7 rounding grows to
# whole points) x 2 seeds, SGD with momentum 0.9 at batch 8, as the reproduction.
EXTRA = 'optimizer = { name = "sgd", lr = 0.02, momentum = 0.9 }'


def numbers_study(write_study, epochs: int = 4, subset: int = 120) -> object:
    text = study_toml(seeds=2, epochs=epochs, levels=(0.1, 0.5), subset=subset, hidden=(16,))
    text = text.replace('optimizer = { name = "sgd", lr = 0.02 }', EXTRA).replace("batch_size = 32",
                                                                                   "batch_size = 8")
    path = write_study()
    path.write_text(text)
    return path


def stored(workspace, keys: list[str]) -> dict:
    with Store.open(workspace) as store:
        return {key: (store.trial(key)["status"], without_timing(store.epochs(key)), store.final(key),
                      store.trial(key)["best_epoch"]) for key in keys}


def keys_of(path) -> list[str]:
    return sorted({t.key for t in hyperlab.Study.load(path).plan().trials})


def test_default_local_and_two_workers_store_bit_identical_numbers(write_study, tmp_path):
    path = numbers_study(write_study)
    study = hyperlab.Study.load(path)
    runs = {"stacked": {}, "local": {"executor": "local"}, "workers": {"workers": 2}}
    for name, options in runs.items():
        summary = study.run(tmp_path / name, progress="quiet", report=False, threads=1, **options)
        assert summary.exit_code == 0, name
    keys = keys_of(path)
    reference = stored(tmp_path / "stacked", keys)
    assert all(status == "completed" for status, *_ in reference.values())
    for name in ("local", "workers"):
        assert stored(tmp_path / name, keys) == reference, f"{name} differs from the stacked executor"


def test_sigkilled_default_runs_resume_to_the_uninterrupted_numbers(write_study, tmp_path):
    path = numbers_study(write_study, epochs=30, subset=80)
    keys = keys_of(path)
    study = hyperlab.Study.load(path)
    assert study.run(tmp_path / "clean", progress="quiet", report=False, threads=1).exit_code == 0
    workspace = tmp_path / "killed"
    args = ["run", str(path), "--workspace", str(workspace), "--jsonl", "--threads", "1", "--no-report"]
    draw = random.Random(24)
    kills = 0
    while kills < 10:
        pid, stdout = forked_run(args)
        wait_for, epochs = draw.randint(1, 8), 0  # epochs this run stores before its SIGKILL
        for line in stdout:
            epochs += json.loads(line)["event"] == "epoch"
            if epochs >= wait_for:
                break
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        stdout.close()
        if epochs < wait_for:  # the study finished before this kill point
            break
        kills += 1
    assert kills >= 10, f"only {kills} kills landed before the study finished"
    with Store.open(workspace) as store:
        assert any(store.trial(key)["status"] != "completed" for key in keys)  # the last kill left work
    assert study.run(workspace, progress="quiet", report=False, threads=1).exit_code == 0
    assert stored(workspace, keys) == stored(tmp_path / "clean", keys)
