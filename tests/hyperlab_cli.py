"""The two ways the tests call the `hyperlab` command (the root conftest puts this folder on sys.path):

    hyperlab_in_process("plan", "study.toml", "--json")   # typer's CliRunner isolation + cli.app.main
    hyperlab_subprocess("run", "study.toml", "--jsonl")    # a real `python -m hyperlab` process

In this process wherever a subprocess is not the point of the test: the same `main` (exit codes and
one-line errors as the command gives them), without paying a fresh interpreter's imports (seconds
each on the 2-core CI machine). A subprocess where it is the point: signals and SIGKILL, what a
command imports, a process's own environment, concurrency between processes.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ONE_THREAD = {"OMP_NUM_THREADS": "1"}  # a subprocess's torch threads: the test machine is shared


@dataclass(frozen=True)
class CliResult:
    """What a command did in this process (named as `subprocess.CompletedProcess` names it)."""

    returncode: int
    stdout: str
    stderr: str


def hyperlab_in_process(*args: str, input: str | None = None, env: dict[str, str] | None = None,
                        cwd: Path | None = None) -> CliResult:
    """`hyperlab ARGS` through `hyperlab.cli.app.main` in this process, with stdin, stdout and
    stderr isolated by typer's CliRunner, and `env` set for the call (the rest of the environment
    is the test's: use pytest's monkeypatch to change it)."""
    from typer.testing import CliRunner

    from hyperlab.cli.app import main

    code = 0
    isolation = CliRunner().isolation(input=input, env=env)
    with isolation as (out, err, _), contextlib.chdir(cwd or Path.cwd()):
        try:
            main(list(args))
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        sys.stdout.flush()
        sys.stderr.flush()
        stdout, stderr = out.getvalue().decode(), err.getvalue().decode()
    return CliResult(code, stdout, stderr)


def subprocess_env(env: dict[str, str] | None = None) -> dict[str, str]:
    """This process's environment without a workspace, unbuffered, plus `env` (e.g. ONE_THREAD)."""
    full = {k: v for k, v in os.environ.items() if k != "HYPERLAB_WORKSPACE"}
    return {**full, "PYTHONUNBUFFERED": "1", **(env or {})}


def hyperlab_command(*args: str) -> list[str]:
    """The command line of a real `hyperlab ARGS` process (this interpreter)."""
    return [sys.executable, "-m", "hyperlab", *args]


def hyperlab_subprocess(*args: str, cwd: Path | None = None, input: str | None = None,
                        env: dict[str, str] | None = None, timeout: float = 300,
                        ) -> subprocess.CompletedProcess:
    """`hyperlab ARGS` as a real process, run to its end."""
    return subprocess.run(hyperlab_command(*args), capture_output=True, text=True, cwd=cwd, input=input,
                          env=subprocess_env(env), timeout=timeout)


def hyperlab_started(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen:
    """`hyperlab ARGS` as a real process, started (text pipes): for signals and kills."""
    return subprocess.Popen(hyperlab_command(*args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=subprocess_env(env))
