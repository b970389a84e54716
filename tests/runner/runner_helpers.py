"""Tiny real studies on digits (a few hundred examples, a few epochs) and helpers to run them,
in this process through the Python API or as real `hyperlab` subprocesses."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from hyperlab_cli import hyperlab_started, hyperlab_subprocess, subprocess_env

TIMING_KEYS = ("seconds", "examples_per_s")  # the only epoch values that differ between equal runs


def study_toml(name: str = "tiny", seeds: int = 2, epochs: int = 3, levels: tuple = (0.1,), subset: int = 200,
               hidden: tuple = (16,), extra: str = "") -> str:
    """A study on digits: an MLP baseline and one learning-rate factor."""
    return f"""
name = "{name}"
seeds = {seeds}

[data]
dataset = "digits"
subset = {subset}
test_subset = 200

[model]
kind = "mlp"
hidden = {list(hidden)}

[train]
epochs = {epochs}
batch_size = 32
optimizer = {{ name = "sgd", lr = 0.02 }}
{extra}
[[factor]]
name = "lr"
path = "train.optimizer.lr"
levels = {list(levels)}
"""


def cli_env() -> dict[str, str]:
    return subprocess_env()


def run_cli(*args: str, timeout: float = 240) -> subprocess.CompletedProcess:
    return hyperlab_subprocess(*args, timeout=timeout)


def start_cli(*args: str) -> subprocess.Popen:
    return hyperlab_started(*args)


def events_of(stdout: str) -> list[dict]:
    return [json.loads(line) for line in stdout.splitlines() if line.strip()]


def read_until(proc: subprocess.Popen, predicate, seen: list[dict]) -> dict:
    """Read JSON-lines events from `proc` until one satisfies `predicate`; returns it."""
    for line in proc.stdout:
        event = json.loads(line)
        seen.append(event)
        if predicate(event):
            return event
    raise AssertionError(f"the runner ended (rc={proc.wait()}) before the awaited event: "
                         f"{proc.stderr.read()[-2000:]}")


def without_timing(records: list[dict]) -> list[dict]:
    return [{k: v for k, v in r.items() if k not in TIMING_KEYS} for r in records]


def forked_run(args: list[str]) -> tuple[int, object]:
    """`hyperlab ARGS` in a forked child of this process (hyperlab and torch already imported, so a
    run costs its training, not seconds of imports); returns its pid and its stdout (JSON lines).
    Once this process has started CUDA a fork cannot use it: then a fresh `python -m hyperlab`."""
    import torch

    if torch.cuda.is_initialized():
        proc = subprocess.Popen([sys.executable, "-m", "hyperlab", *args], stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, text=True, env=cli_env())
        return proc.pid, proc.stdout
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        code = 1
        try:
            os.close(read_end)
            os.dup2(write_end, 1)
            os.dup2(os.open(os.devnull, os.O_WRONLY), 2)
            sys.stdout = open(1, "w", buffering=1, closefd=False)  # noqa: SIM115
            from hyperlab.cli.app import main

            main(args)
            code = 0
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else 1
        finally:
            os._exit(code)
    os.close(write_end)
    return pid, os.fdopen(read_end)
