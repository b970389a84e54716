"""Out of memory is an environment fault, never a trial's outcome: a model that cannot fit is refused
before anything is claimed (the plan's estimate against the memory here), and one that runs out
while training ends the run with exit 2, `out of memory training <variant>: needs about X GB`, the
trial left to resume. On main, under `ulimit -v 4000000`, such a trial was stored `failed` (exit 0)
and a rerun with enough memory reused the failure: torch's allocator errors were not recognised."""

from __future__ import annotations

import re
import resource
import sqlite3
import subprocess
import sys

import pytest
import torch
from campaign import env, one_line

from hyperlab.faults import environment_fault

LIMIT = 4_000_000 * 1024  # `ulimit -v 4000000`: KB of address space

STUDY = """
name = "oom"
seeds = 1
[data]
dataset = "npz:{data}"
[model]
kind = "mlp"
hidden = [{width}, {width}]
[train]
epochs = 1
batch_size = 32
optimizer = {{ name = "sgd", lr = 0.01 }}
"""


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (LIMIT, LIMIT))


def _run(tmp_path, width: int) -> tuple[subprocess.CompletedProcess, dict[str, str]]:
    study = tmp_path / "oom.toml"
    study.write_text(STUDY.format(data=_digits(tmp_path), width=width))
    workspace = tmp_path / "ws"
    done = subprocess.run([sys.executable, "-m", "hyperlab", "run", str(study), "--workspace", str(workspace),
                           "--threads", "1", "--no-report", "--no-vectorize"], capture_output=True, text=True,
                          env=env(), preexec_fn=_limit_memory, timeout=600)
    statuses = {}
    if (workspace / "hyperlab.db").exists():
        with sqlite3.connect(f"file:{workspace / 'hyperlab.db'}?mode=ro", uri=True) as db:
            statuses = dict(db.execute("SELECT key, status FROM trials"))
    return done, statuses


def _digits(tmp_path):
    import numpy as np

    rng = np.random.default_rng(0)
    path = tmp_path / "data.npz"
    np.savez(path, x_train=rng.normal(size=(64, 16)).astype(np.float32), y_train=rng.integers(0, 4, 64))
    return path


def test_torch_allocator_and_cuda_errors_are_out_of_memory_faults():
    with pytest.raises(RuntimeError) as host:  # the CPU allocator's own error, as a trial meets it
        torch.empty(2**62, dtype=torch.uint8)
    fault = environment_fault(host.value)
    assert fault is not None and fault.exit_code == 2 and "out of memory" in str(fault), host.value
    cuda = torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB (GPU 0; 15.7 GiB "
                                       "total capacity)")
    assert environment_fault(RuntimeError("mat1 and mat2 shapes cannot be multiplied")) is None  # the trial's
    fault = environment_fault(cuda)
    assert fault is not None and "GPU" in str(fault), fault
    named = str(fault.training("b", 2 * 10**10))
    assert "out of memory training b on the GPU: needs about 20 GB" in named, named
    assert "--device cpu" in named, named
    assert environment_fault(MemoryError()) is not None


@pytest.mark.timeout(900)
def test_a_model_that_cannot_fit_is_refused_before_any_trial_is_claimed(tmp_path):
    done, statuses = _run(tmp_path, 1_000_000_000)  # 10**18 parameters: 8 billion GB
    assert done.returncode == 2 and one_line(done.stderr), done.stderr
    assert "oom.toml: training baseline needs about" in done.stderr, done.stderr
    assert "ulimit -v" in done.stderr, done.stderr
    assert statuses == {}, statuses  # refused before the workspace is touched


@pytest.mark.timeout(900)
def test_running_out_of_memory_while_training_ends_the_run_and_leaves_the_trial_resumable(tmp_path):
    # 16,000 x 16,000: 1 GB of weights, about 2.1 GB to train by the estimate, under the 3.3 GB this
    # process has left of its 4 GB limit: refused by none, yet torch's allocator runs out.
    done, statuses = _run(tmp_path, 16_000)
    assert done.returncode == 2 and one_line(done.stderr), done.stderr
    assert re.search(r"out of memory training baseline: needs about 2(\.\d)? GB", done.stderr), done.stderr
    assert set(statuses.values()) == {"interrupted"}, statuses  # resumable, never `failed`
