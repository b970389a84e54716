"""The fault-injection campaign: each `try_*` function injects one fault into real hyperlab runs
(real subprocesses, a real SQLite file, real signals, real full and read-only file systems) and
returns a `Try`: clean when no environment fault became a stored outcome, no number came out wrong
and nothing but a one-line message (no traceback) was printed.

tests/faults/ runs a few tries of each kind; benchmarks/faults.py runs many and prints the table.
Random choices (kill points, corruptions, sizes) come from the `random.Random` passed in.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import random
import re
import resource
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

TIMING_KEYS = ("seconds", "examples_per_s")
FINISHED = {"completed", "early_stopped"}


@dataclass
class Try:
    kind: str
    clean: bool
    detail: str  # what was done, and what went wrong when not clean
    kills: int = 0  # signals that reached a live run (SIGKILL, SIGINT, SIGTERM)


# --- studies and processes -----------------------------------------------------------------------

def study_toml(name: str, dataset: str = "digits", seeds: int = 2, epochs: int = 6, subset: int = 400) -> str:
    """Digits, an MLP baseline and one learning-rate level: 2 x seeds trials, a second each."""
    return f"""
name = "{name}"
seeds = {seeds}

[data]
dataset = "{dataset}"
subset = {subset}
test_subset = 200

[model]
kind = "mlp"
hidden = [32]

[train]
epochs = {epochs}
batch_size = 32
optimizer = {{ name = "sgd", lr = 0.05, momentum = 0.9 }}

[[factor]]
name = "lr"
path = "train.optimizer.lr"
levels = [0.02]
"""


def env() -> dict[str, str]:
    out = dict(os.environ)
    out.pop("HYPERLAB_WORKSPACE", None)
    out["PYTHONUNBUFFERED"] = "1"
    return out


# Generous limits: a campaign runs on a loaded machine, at low priority. They only keep a hung
# process from stopping the campaign; a try that hits one counts as not clean.
LIMIT = 900


def cli(*args: str, timeout: float = LIMIT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "hyperlab", *args], capture_output=True, text=True,
                          timeout=timeout, env=env())


def start(*args: str) -> subprocess.Popen:
    """A `hyperlab` in its own session (so killing its process group hits it and its group only),
    with Ctrl-C handled as in a terminal even when the campaign runs as a background job (which
    inherits SIGINT ignored)."""
    return subprocess.Popen([sys.executable, "-m", "hyperlab", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env(), start_new_session=True,
                            preexec_fn=_default_sigint)


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def run_args(study: Path, workspace: Path, *extra: str) -> list[str]:
    # --no-vectorize: one trial at a time (a resumed trial trains as a stack of one either way, and
    # the stacked executor stores the same numbers: tests/runner/test_one_numerical_path.py).
    return ["run", str(study), "--workspace", str(workspace), "--threads", "1", "--no-report",
            "--no-vectorize", *extra]


def wait_for_epochs(proc: subprocess.Popen, count: int, workers: int = 0) -> list[dict]:
    """Read JSON-lines events until `count` epoch events were seen, and one from each of `workers`
    worker processes (or the run ended)."""
    seen: list[dict] = []
    for line in proc.stdout:
        try:
            seen.append(json.loads(line))
        except json.JSONDecodeError:
            continue
        epochs = [e for e in seen if e.get("event") == "epoch"]
        if len(epochs) >= count and len({e.get("worker") for e in epochs}) >= workers:
            break
    return seen


def one_line(stderr: str) -> bool:
    """At most one non-empty line and no traceback."""
    lines = [line for line in stderr.splitlines() if line.strip()]
    return "Traceback" not in stderr and len(lines) <= 1


# --- the database, read directly (the campaign must not trust the code it checks) --------------

def statuses(workspace: Path) -> dict[str, str]:
    db = workspace / "hyperlab.db"
    if not db.exists():
        return {}
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        return dict(conn.execute("SELECT key, status FROM trials"))


def numbers(workspace: Path) -> dict[str, object]:
    """Per trial: its epochs without timing and its final results."""
    with sqlite3.connect(f"file:{workspace / 'hyperlab.db'}?mode=ro", uri=True) as conn:
        epochs: dict[str, list] = {}
        for key, metrics in conn.execute("SELECT trial_key, metrics FROM epochs ORDER BY trial_key, epoch"):
            record = {k: v for k, v in json.loads(metrics).items() if k not in TIMING_KEYS}
            epochs.setdefault(key, []).append(record)
        finals = dict(conn.execute("SELECT trial_key, final FROM results"))
    return {key: (epochs.get(key), json.loads(finals[key]) if key in finals else None)
            for key in set(epochs) | set(finals)}


def outcome_faults(workspace: Path) -> list[str]:
    """Trials stored as failed: in this campaign every trial is healthy, so a failure is a fault."""
    return [f"{key[:10]} {status}" for key, status in statuses(workspace).items()
            if status in ("failed", "diverged")]


TRIALS = 4  # study_toml's: two variants x two seeds


class Reference:
    """The numbers of an undisturbed run of a study, computed once.

    The study reads scikit-learn's digits from an npz written once: a run then spends its time in
    hyperlab, not in importing scikit-learn (a second of CPU per process, and a try starts several).
    Six epochs: what a kill try checks does not depend on how long a trial is, only on where the
    kill lands, which is drawn over the whole run (every trial, every epoch but the last).

    Several processes may share one `root` (pytest-xdist's): a file lock lets the first write the
    study and run it; the others read what it left.
    """

    def __init__(self, root: Path, epochs: int = 6) -> None:
        self.root = root
        self.epochs = epochs
        self.study = root / "study.toml"
        self.data = root / "digits.npz"
        self._numbers: dict | None = None

    @property
    def events(self) -> int:
        """Epoch events of a whole run of the study."""
        return TRIALS * self.epochs

    def write(self) -> Path:
        if not self.study.exists():
            with self._lock():
                if not self.study.exists():
                    _write_digits_npz(self.data)
                    self.study.write_text(study_toml("faults", f"npz:{self.data}", epochs=self.epochs))
        return self.study

    @contextlib.contextmanager
    def _lock(self):
        self.root.mkdir(parents=True, exist_ok=True)
        with (self.root / ".lock").open("w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            yield

    def finished_copy(self, dest: Path) -> Path:
        """A copy of the undisturbed run's workspace (every trial finished)."""
        self.numbers  # noqa: B018 - runs the reference once
        shutil.copytree(self.root / "reference", dest)
        return dest

    @property
    def numbers(self) -> dict:
        if self._numbers is None:
            workspace, finished = self.root / "reference", self.root / "reference.finished"
            study = self.write()
            with self._lock():
                if not finished.exists():
                    done = cli(*run_args(study, workspace, "--quiet"))
                    if done.returncode != 0:
                        raise RuntimeError(f"the reference run failed: {done.stderr}")
                    finished.touch()
            self._numbers = numbers(workspace)
        return self._numbers


def _write_digits_npz(path: Path) -> None:
    from sklearn.datasets import load_digits

    x, y = load_digits(return_X_y=True)
    x = x.reshape(-1, 8, 8).astype(np.uint8)  # as the digits source has them (grey, no channel axis)
    temp = path.with_suffix(".tmp.npz")
    np.savez(temp, x_train=x[:1200], y_train=y[:1200].astype(np.int64), x_test=x[1200:],
             y_test=y[1200:].astype(np.int64))
    os.replace(temp, path)


def finish_and_compare(kind: str, ref: Reference, workspace: Path, detail: str, *extra: str) -> Try:
    """Run the study again to the end; clean when it exits 0 and every number equals the reference."""
    problems = outcome_faults(workspace)
    if problems:
        return Try(kind, False, f"{detail}: stored outcomes after the fault: {problems}")
    again = cli(*run_args(ref.study, workspace, "--quiet", *extra))
    if again.returncode != 0:
        return Try(kind, False, f"{detail}: the rerun exited {again.returncode}: {again.stderr[-300:]}")
    got = numbers(workspace)
    if got != ref.numbers:
        differ = sorted(k[:10] for k in set(got) | set(ref.numbers) if got.get(k) != ref.numbers.get(k))
        return Try(kind, False, f"{detail}: numbers differ from the undisturbed run for {differ}")
    if set(statuses(workspace).values()) - FINISHED:
        return Try(kind, False, f"{detail}: statuses after the rerun: {statuses(workspace)}")
    return Try(kind, True, detail)


# --- the faults -----------------------------------------------------------------------------------

def try_kill_workers(rng: random.Random, tmp: Path, ref: Reference, chain: int | None = None,
                     busy_workers: bool = False) -> Try:
    """SIGKILL a `--workers 2` run's process group at random epochs, 1 to 3 times (each rerun is
    killed again): no trial may be stored as failed (the workers die with their parent), and the
    last rerun (with 1 or 2 workers: the numbers do not depend on it) ends with the same numbers.
    `busy_workers`: each kill waits until both workers have reported an epoch (both are in a trial)."""
    return _signal_chain("SIGKILL --workers 2", rng, tmp, ref, ["2"], [signal.SIGKILL], ["1", "2"], chain,
                         busy_workers)


def try_kill_one(rng: random.Random, tmp: Path, ref: Reference, chain: int | None = None) -> Try:
    """SIGKILL a one-process run at random epochs, 1 to 3 times; the rerun ends with the same numbers."""
    return _signal_chain("SIGKILL one process", rng, tmp, ref, ["1"], [signal.SIGKILL], ["1"], chain)


def try_interrupt(rng: random.Random, tmp: Path, ref: Reference, chain: int | None = None) -> Try:
    """Ctrl-C (SIGINT to the process group, as a terminal sends it) or `kill` (SIGTERM to the runner)
    at random epochs of a 1- or 2-worker run, 1 to 3 times: each exits 130 with one line, no trial
    is stored as failed, and the last rerun ends with the same numbers."""
    return _signal_chain("Ctrl-C / SIGTERM mid-run", rng, tmp, ref, ["1", "2"],
                         [signal.SIGINT, signal.SIGTERM], ["1", "2"], chain)


def _signal_chain(kind: str, rng: random.Random, tmp: Path, ref: Reference, workers: list[str],
                  signals: list[signal.Signals], rerun_workers: list[str], chain: int | None,
                  busy_workers: bool = False) -> Try:
    """Start the study, signal it after a random number of epoch events, check that no outcome
    was stored, and again (`chain` signals, 1 to 3 at random: a resumed run is hit again); then
    finish and compare.

    The kill points of a chain split the run's epoch events between them, so the last signal still
    lands before the study is done; a run that ended before its signal (possible at the very end)
    counts no kill."""
    workspace = tmp / f"sig-{rng.getrandbits(32):08x}"
    chain = chain or rng.randint(1, 3)
    steps, kills = [], 0
    for _ in range(chain):
        count, sig, n = rng.randint(1, (ref.events - 1) // chain), rng.choice(signals), rng.choice(workers)
        proc = start(*run_args(ref.write(), workspace, "--workers", n, "--jsonl"))
        wait_for_epochs(proc, count, int(n) if busy_workers else 0)
        alive = proc.poll() is None
        if sig == signal.SIGINT:
            os.killpg(proc.pid, sig)  # a terminal's Ctrl-C reaches the whole foreground group
        elif sig == signal.SIGTERM:
            proc.send_signal(sig)
        else:
            os.killpg(proc.pid, sig)
        _, err = proc.communicate(timeout=LIMIT)
        kills += alive
        steps.append(f"{signal.Signals(sig).name} --workers {n} after {count} epochs")
        detail = "; ".join(steps)
        if sig != signal.SIGKILL:
            if proc.returncode not in (130, 0) or (proc.returncode == 130 and not one_line(err)):
                return Try(kind, False, f"{detail}: exit {proc.returncode}: {err[-600:]}", kills)
        elif "Traceback" in err:
            return Try(kind, False, f"{detail}: a traceback before the kill: {err[-600:]}", kills)
        if n == "2":  # orphaned workers (before the fix) wrote their failures here
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and _live_owners(workspace):
                time.sleep(0.1)
        if problems := outcome_faults(workspace):
            return Try(kind, False, f"{detail}: stored outcomes after the signal: {problems}", kills)
    rerun = rng.choice(rerun_workers)
    result = finish_and_compare(kind, ref, workspace, f"{detail}; rerun --workers {rerun}",
                                "--workers", rerun)
    result.kills = kills
    return result


def _live_owners(workspace: Path) -> list[int]:
    """Processes named as owners of `running` trials that are still alive (not zombies)."""
    db = workspace / "hyperlab.db"
    if not db.exists():
        return []
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        owners = [r[0] for r in conn.execute("SELECT owner FROM trials WHERE status = 'running'")]
    pids = []
    for owner in owners:
        try:
            pid = int(str(owner).split("/")[1])
            stat = Path(f"/proc/{pid}/stat").read_text() if Path("/proc/self").exists() else "(x) R"
            os.kill(pid, 0)
        except (IndexError, ValueError, OSError):
            continue
        if stat[stat.rfind(")") + 2:].split()[0] not in ("Z", "X"):  # a zombie writes nothing more
            pids.append(pid)
    return pids


def try_early_interrupt(rng: random.Random, tmp: Path, ref: Reference) -> Try:
    """Ctrl-C (one SIGINT to the runner, as a terminal sends it) in its first 1.5 s, with 1 or 2
    workers (the workers may still be importing): exit 130, at most one line, no stored failure."""
    workspace = tmp / f"int-{rng.getrandbits(32):08x}"
    # From 0.25 s: before that the interpreter itself is still starting (site, .pth files) and no
    # hyperlab code has run that could catch the signal; no person presses Ctrl-C that fast.
    delay, workers = rng.uniform(0.25, 1.5), rng.choice(["1", "2"])
    proc = start(*run_args(ref.write(), workspace, "--workers", workers, "--quiet"))
    time.sleep(delay)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=LIMIT)
    detail = f"SIGINT after {delay:.2f} s, --workers {workers}"
    kind = "Ctrl-C in the first 1.5 s"
    if proc.returncode != 130:
        return Try(kind, False, f"{detail}: exit {proc.returncode}: {err[-400:]}", kills=1)
    if not one_line(err):
        return Try(kind, False, f"{detail}: stderr is not one line: {err[-600:]}", kills=1)
    problems = outcome_faults(workspace)
    return Try(kind, not problems, f"{detail}" + (f": stored {problems}" if problems else ""), kills=1)


CORRUPTIONS = ("truncate tensors", "64 random bytes in tensors", "one flipped bit in tensors",
               "garbled json", "tensors deleted", "both checkpoints damaged")


def try_corrupt_checkpoint(rng: random.Random, tmp: Path, splits: object, how: str | None = None) -> Try:
    """Interrupt a trial after a random epoch, damage its checkpoint, resume: the damaged checkpoint
    is discarded with a warning and the trial ends with exactly the undisturbed numbers."""
    from hyperlab.engine import TrainConfig, fit
    from hyperlab.engine.checkpoint import PREVIOUS_DIR, STATE_FILE, TENSORS_FILE

    how = how or rng.choice(CORRUPTIONS)
    epochs = 6
    cfg = TrainConfig(epochs=epochs, batch_size=64,
                      optimizer={"name": "adam", "lr": 0.01}, schedule="cosine")
    straight = fit(_mlp(), splits, cfg, seed=3)
    workdir = tmp / f"ckpt-{rng.getrandbits(32):08x}"
    stop_at = rng.randint(2, epochs - 1)  # two checkpoints exist, so there is a previous one
    seen: list[dict] = []
    fit(_mlp(), splits, cfg, seed=3, workdir=workdir, on_epoch=seen.append,
        should_stop=lambda: len(seen) >= stop_at)
    targets = [workdir, workdir / PREVIOUS_DIR] if how == "both checkpoints damaged" else [workdir]
    for folder in targets:
        _damage(rng, folder / TENSORS_FILE, folder / STATE_FILE,
                "one flipped bit in tensors" if how == "both checkpoints damaged" else how)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        resumed = fit(_mlp(), splits, cfg, seed=3, workdir=workdir)  # as a fresh process builds it
    detail = f"{how} after epoch {stop_at}"
    kind = "damaged checkpoint"
    if resumed.status != "completed":
        return Try(kind, False, f"{detail}: status {resumed.status}: {resumed.error}")
    if resumed.final != straight.final or _metrics(resumed.epochs) != _metrics(straight.epochs):
        return Try(kind, False, f"{detail}: resumed numbers differ from the undisturbed run")
    if not any("checkpoint discarded" in str(w.message) for w in caught):
        return Try(kind, False, f"{detail}: no warning that the checkpoint was discarded")
    return Try(kind, True, detail)


def _damage(rng: random.Random, tensors: Path, state: Path, how: str) -> None:
    raw = bytearray(tensors.read_bytes())
    if how == "truncate tensors":
        tensors.write_bytes(raw[: rng.randint(0, len(raw) - 1)])
    elif how == "64 random bytes in tensors":
        at = rng.randint(0, len(raw) - 64)
        raw[at:at + 64] = rng.randbytes(64)
        tensors.write_bytes(raw)
    elif how == "one flipped bit in tensors":
        at = rng.randint(len(raw) // 2, len(raw) - 1)  # in the weights, past the header
        raw[at] ^= 1 << rng.randint(0, 7)
        tensors.write_bytes(raw)
    elif how == "garbled json":
        text = bytearray(state.read_bytes())
        at = rng.randint(0, len(text) - 1)
        text[at] = (text[at] + 1 + rng.randint(0, 200)) % 256
        state.write_bytes(text)
    elif how == "tensors deleted":
        tensors.unlink()


def _mlp(seed: int = 0):
    import torch
    from torch import nn

    torch.manual_seed(seed)
    return nn.Sequential(nn.Flatten(), nn.Linear(64, 32), nn.ReLU(), nn.Dropout(0.2), nn.Linear(32, 10))


def _metrics(records: list[dict]) -> list[dict]:
    return [{k: v for k, v in r.items() if k not in TIMING_KEYS} for r in records]


def digits_splits():
    """scikit-learn's digits as Splits (no file, no download)."""
    import torch
    from sklearn.datasets import load_digits

    from hyperlab.data.splits import Splits

    x, y = load_digits(return_X_y=True)
    inputs = torch.tensor(x / 16.0, dtype=torch.float32)
    labels = torch.tensor(y, dtype=torch.int64)
    return Splits("classification", (64,), [str(d) for d in range(10)], inputs[:600], labels[:600],
                  inputs[600:800], labels[600:800], inputs[800:1000], labels[800:1000])


# --- full and read-only file systems (a private mount namespace: real ENOSPC and EROFS) ---------

def can_mount() -> bool:
    """Whether `unshare -r -m` gives this process a private mount namespace to mount tmpfs in."""
    if shutil.which("unshare") is None:
        return False
    probe = subprocess.run(["unshare", "-r", "-m", "sh", "-c", "mount -t tmpfs -o size=64k tmpfs /mnt"],
                           capture_output=True)
    return probe.returncode == 0


def in_namespace(script: str, timeout: float = LIMIT) -> subprocess.CompletedProcess:
    """Run a bash script as (namespace) root in a private mount namespace."""
    return subprocess.run(["unshare", "-r", "-m", "bash", "-c", script], capture_output=True, text=True,
                          timeout=timeout, env=env())


def try_disk_full(rng: random.Random, tmp: Path, ref: Reference, where: str | None = None,
                  stacked: bool | None = None) -> Try:
    """Run with the workspace (or only its checkpoints) on a tmpfs of a random small size: the run
    ends with exit 2 and one line, no trial is stored as failed; with space freed (the tmpfs
    grown), the same command resumes and ends with the same numbers. `stacked`: train with the
    vectorized executor (whose numbers equal the one-by-one reference's: docs/performance.md, the
    numerics contract)."""
    where = where or rng.choice(["checkpoints", "workspace"])
    stacked = rng.random() < 0.5 if stacked is None else stacked
    size_kb = rng.randint(48, 400) if where == "checkpoints" else rng.randint(200, 1200)
    workspace = tmp / f"full-{rng.getrandbits(32):08x}"
    mount_point = workspace / "artifacts" if where == "checkpoints" else workspace
    mount_point.mkdir(parents=True)
    argv = run_args(ref.write(), workspace, "--quiet")
    args = " ".join(a for a in argv if not (stacked and a == "--no-vectorize"))
    python = f"{sys.executable} -m hyperlab"
    script = f"""
mount -t tmpfs -o size={size_kb}k tmpfs {mount_point}
{python} {args} 2> {tmp}/full.err; echo $? > {tmp}/full.rc
mount -o remount,size=64m {mount_point}
{python} {args} 2> {tmp}/again.err; echo $? > {tmp}/again.rc
cp -a {workspace} {workspace}.copy
"""
    done = in_namespace(script)
    detail = f"{where} on a {size_kb} kB tmpfs{', stacked' if stacked else ''}"
    kind = "disk full"
    rc_full = int((tmp / "full.rc").read_text()) if (tmp / "full.rc").exists() else None
    err = (tmp / "full.err").read_text() if (tmp / "full.err").exists() else done.stderr
    copy = Path(f"{workspace}.copy")
    if rc_full not in (0, 2) or (rc_full == 2 and not (one_line(err) and "space" in err)):
        return Try(kind, False, f"{detail}: exit {rc_full}: {err[-400:]}")
    if not copy.exists():
        return Try(kind, False, f"{detail}: the namespace script failed: {done.stderr[-300:]}")
    problems = outcome_faults(copy)
    if problems:
        return Try(kind, False, f"{detail} (exit {rc_full}): stored outcomes {problems}")
    rc_again = int((tmp / "again.rc").read_text())
    if rc_again != 0:
        return Try(kind, False, f"{detail}: the rerun exited {rc_again}: {(tmp / 'again.err').read_text()}")
    if set(statuses(copy).values()) != {"completed"}:
        return Try(kind, False, f"{detail} (exit {rc_full}): statuses after the rerun {statuses(copy)}")
    if numbers(copy) != ref.numbers:
        return Try(kind, False, f"{detail} (exit {rc_full}): numbers differ from the undisturbed run")
    return Try(kind, True, f"{detail}: exit {rc_full}" + (f" ({err.strip()[:80]}...)" if rc_full else ""))


def try_read_only(tmp: Path, ref: Reference) -> Try:
    """A finished workspace on a read-only mount: status, results --out, report --out work (exit 0),
    plan works, run is one line and exit 2."""
    workspace = ref.finished_copy(tmp / "ro")
    python = f"{sys.executable} -m hyperlab"
    study = ref.study
    commands = {
        "status": f"status {study} --workspace {workspace}",
        "results": f"results {study} --workspace {workspace} --out {tmp}/ro-results",
        "report": f"report {study} --workspace {workspace} --out {tmp}/ro-report",
        "plan": f"plan {study} --workspace {workspace}",
        "run": " ".join(run_args(study, workspace, "--quiet", "--rerun")),
    }
    # The five commands run side by side: they only read (or, `run`, are refused), and each
    # spends its time starting Python and importing.
    started = "\n".join(f"({python} {args} > /dev/null 2> {tmp}/ro-{name}.err; echo {name} $?) &"
                         for name, args in commands.items())
    script = f"""
mount --bind {workspace} {workspace} && mount -o remount,bind,ro {workspace} || exit 99
{started}
wait
"""
    done = in_namespace(script)
    codes = dict(line.split() for line in done.stdout.splitlines() if line.strip())
    expected = {"status": "0", "results": "0", "report": "0", "plan": "0", "run": "2"}
    run_err = (tmp / "ro-run.err").read_text() if (tmp / "ro-run.err").exists() else ""
    if codes != expected or not one_line(run_err):
        files = {n: tmp / f"ro-{n}.err" for n in expected}
        errors = {n: f.read_text()[-200:] for n, f in files.items() if f.exists()}
        return Try("read-only workspace", False, f"exit codes {codes} (expected {expected}); {errors}")
    return Try("read-only workspace", True, "status/results/report/plan 0, run 2 with one line")


def try_wal_lost(rng: random.Random, tmp: Path, ref: Reference) -> Try:
    """Delete or garble the database's -wal file while a run writes: the run must not report
    success unless every commit is in the file; afterwards, the same command finishes the study
    with the same numbers (through `hyperlab doctor --recover` when the file is damaged)."""
    how = rng.choice(["deleted", "garbled"])
    workspace = tmp / f"wal-{rng.getrandbits(32):08x}"
    after = rng.randint(1, ref.events - 2)
    proc = start(*run_args(ref.write(), workspace, "--jsonl"))
    wait_for_epochs(proc, after)
    wal = workspace / "hyperlab.db-wal"
    if how == "deleted":
        wal.unlink(missing_ok=True)
    elif wal.exists():
        with wal.open("r+b") as handle:
            size = wal.stat().st_size
            handle.seek(rng.randint(0, max(0, size - 4096)))
            handle.write(rng.randbytes(4096))
    out, err = proc.communicate(timeout=LIMIT)
    detail = f"-wal {how} after {after} epoch events"
    kind = "-wal lost mid-run"
    finished = [json.loads(line) for line in out.splitlines() if '"run_finished"' in line]
    if proc.returncode == 0:
        # Success is only allowed if a fresh reader sees every trial finished.
        fresh = cli("status", str(ref.study), "--workspace", str(workspace), "--json")
        if fresh.returncode != 0 or any(v["done"] != v["trials"] for v in json.loads(fresh.stdout)):
            return Try(kind, False, f"{detail}: exit 0 ({finished}) but a fresh reader sees: "
                       f"{fresh.stdout[-300:]} {fresh.stderr[-300:]}")
    elif proc.returncode != 2 or not one_line(err):
        return Try(kind, False, f"{detail}: exit {proc.returncode}: {err[-400:]}")
    check = cli("status", str(ref.study), "--workspace", str(workspace))
    if check.returncode != 0:
        if check.returncode != 2 or not one_line(check.stderr) or "doctor" not in check.stderr:
            return Try(kind, False, f"{detail}: status exit {check.returncode}: {check.stderr[-300:]}")
        recovered = cli("doctor", "--workspace", str(workspace), "--recover")
        db = workspace / "hyperlab.db"
        os.replace(db, f"{db}.damaged")
        for suffix in ("-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
        os.replace(f"{db}.recovered", db)
        detail += f"; recovered with doctor (exit {recovered.returncode})"
    return finish_and_compare(kind, ref, workspace, f"{detail}; run exit {proc.returncode}")


# --- concurrent runners ---------------------------------------------------------------------------

def try_concurrent(rng: random.Random, tmp: Path, ref: Reference) -> Try:
    """Four runners on one workspace at once, one of them SIGKILLed at a random epoch: the others
    train every trial, each epoch by one runner only (the killed runner's trial is taken over and
    may repeat the epoch after its checkpoint), all exit 0, and the numbers are the undisturbed run's."""
    kind = "4 concurrent runners, one killed"
    workspace = tmp / f"conc-{rng.getrandbits(32):08x}"
    victim, after = rng.randrange(4), rng.randint(1, ref.epochs - 1)
    procs = [start(*run_args(ref.write(), workspace, "--jsonl")) for _ in range(4)]
    seen = wait_for_epochs(procs[victim], after)
    killed = procs[victim].poll() is None
    os.killpg(procs[victim].pid, signal.SIGKILL)
    procs[victim].wait(timeout=60)
    detail = f"runner {victim} " + (f"killed after {after} of its epochs" if killed else "ended first")
    trained: dict[tuple[str, int], int] = {}  # (trial, epoch) -> how many surviving runners trained it
    for index, proc in enumerate(procs):
        if index == victim:
            continue
        out, err = proc.communicate(timeout=LIMIT)
        if proc.returncode != 0 or err.strip():
            return Try(kind, False, f"{detail}: runner {index} exit {proc.returncode}: {err[-400:]}", killed)
        for line in out.splitlines():
            event = json.loads(line)
            if event.get("event") == "epoch":
                trained[(event["key"], event["epoch"])] = trained.get((event["key"], event["epoch"]), 0) + 1
    twice = sorted(f"{key[:10]} epoch {epoch}" for (key, epoch), n in trained.items() if n > 1)
    if twice:
        return Try(kind, False, f"{detail}: trained by two runners: {twice}", killed)
    victims = {e["key"] for e in seen if e.get("event") == "epoch"}
    if set(statuses(workspace).values()) != {"completed"}:
        return Try(kind, False, f"{detail}: statuses after the runners: {statuses(workspace)}", killed)
    if numbers(workspace) != ref.numbers:
        return Try(kind, False, f"{detail}: numbers differ from the undisturbed run", killed)
    return Try(kind, True, f"{detail}; its trial {sorted(k[:10] for k in victims)} taken over", killed)


# --- bad inputs -----------------------------------------------------------------------------------

def _study_edit(old: str, new: str):
    return lambda text: text.replace(old, new, 1)


# Each bad study file: how it is made from the campaign's study (a function of its text).
BAD_STUDIES = {
    "unknown top-level key": lambda text: 'colour = "red"\n' + text,
    "unknown key in a table": _study_edit("batch_size = 32", "batch_size = 32\nbatchsize = 64"),
    "epochs not a number": _study_edit("epochs = 6", 'epochs = "six"'),
    "negative epochs": _study_edit("epochs = 6", "epochs = -3"),
    "zero batch size": _study_edit("batch_size = 32", "batch_size = 0"),
    "unknown optimizer": _study_edit('name = "sgd"', 'name = "sgdd"'),
    "negative learning rate": _study_edit("lr = 0.05", "lr = -1.0"),
    "unknown dataset": lambda text: text.replace(text.split('dataset = "')[1].split('"')[0], "no-such-set"),
    "missing npz file": lambda text: text.replace(text.split('dataset = "')[1].split('"')[0],
                                                  "npz:/nonexistent/data.npz"),
    "unknown model kind": _study_edit('kind = "mlp"', 'kind = "transformer9"'),
    "hidden not a list": _study_edit("hidden = [32]", 'hidden = "wide"'),
    "zero seeds": _study_edit("seeds = 2", "seeds = 0"),
    "factor path that does not exist": _study_edit('path = "train.optimizer.lr"', 'path = "train.nothing"'),
    "empty factor levels": _study_edit("levels = [0.02]", "levels = []"),
    "TOML syntax error": lambda text: text.replace("[[factor]]", "[[factor"),
    "truncated study file": lambda text: text[: len(text) // 3],
    "binary garbage": lambda text: "\x00\xff\xfe garbage \x01" * 20,
    "empty study file": lambda text: "",

    # hostile files (issue 30): limits, strict types, finite numbers (docs/study-file.md, "Limits")
    "1 MB name": lambda text: re.sub(r'(?m)^name = "[^"]*"', f'name = "{"n" * 2**20}"', text, count=1),
    "1 MB factor label": _study_edit("levels = [0.02]", f'levels = [0.02]\nlabels = ["{"l" * 2**20}"]'),
    "dotted keys 3,000 deep": lambda text: text + "\n[extra]\n" + "k." * 2999 + "k = 1\n",
    "arrays 3,000 deep": lambda text: text.replace(
        "seeds = 2", "seeds = 2\nx = " + "[" * 3000 + "]" * 3000, 1),
    "inline tables 3,000 deep": lambda text: text.replace(
        "seeds = 2", "seeds = 2\nx = " + "{a = " * 3000 + "1" + "}" * 3000, 1),
    "epochs a string": _study_edit("epochs = 6", 'epochs = "6"'),
    "lr = inf": _study_edit("lr = 0.05", "lr = inf"),
    "epochs = 2**63 - 1": _study_edit("epochs = 6", f"epochs = {2**63 - 1}"),
    "seeds = 10**12": _study_edit("seeds = 2", "seeds = 1000000000000"),
    "a grid of 10**12 variants": lambda text: text.replace("seeds = 2", 'seeds = 2\ndesign = "grid"', 1)
    + "".join(f'\n[[factor]]\nname = "f{i}"\npath = "train.batch_size"\nlevels = {list(range(1, 11))}\n'
              for i in range(12)),
}

# Each bad data file: how its arrays are made from the campaign's digits, and what the line names.
BAD_DATA = {
    "label of 10^9": lambda a: {**a, "y_train": _set(a["y_train"], 5, 10**9)},
    "negative label": lambda a: {**a, "y_train": _set(a["y_train"], 9, -1)},
    "label past the declared classes": lambda a: {**a, "classes": np.asarray([str(d) for d in range(9)])},
    "NaN pixel": lambda a: {**a, "x_train": _set(a["x_train"].astype(np.float32), (3, 2, 2), np.nan)},
    "inf pixel": lambda a: {**a, "x_test": _set(a["x_test"].astype(np.float32), (1, 1, 1), np.inf)},
    "empty training split": lambda a: {**a, "x_train": a["x_train"][:0], "y_train": a["y_train"][:0]},
    "one training example": lambda a: {**a, "x_train": a["x_train"][:1], "y_train": a["y_train"][:1]},
    "test shape differs": lambda a: {**a, "x_test": a["x_test"][:, :6, :6]},
    "labels fewer than examples": lambda a: {**a, "y_train": a["y_train"][:-7]},
    "not an npz": None,
    "unexpected array": lambda a: {**a, "weights": np.ones(3)},
    # labels (issue 30): 1-D integers in [0, classes), the splits agreeing on the classes
    "2-D labels": lambda a: {**a, "y_train": np.eye(10, dtype=np.int64)[a["y_train"]]},
    "test label not a train class": lambda a: {**a, "y_test": np.full_like(a["y_test"], 12)},
    "float labels": lambda a: {**a, "y_train": a["y_train"].astype(np.float64)},
    "object labels": lambda a: {**a, "y_train": a["y_train"].astype(object)},
}


def _set(array, index, value):
    out = np.array(array)
    out[index] = value
    return out


def try_bad_input(rng: random.Random, tmp: Path, ref: Reference, what: str | None = None) -> Try:
    """A bad study file or a bad data file, given to `plan` or `run` (at random): exit 2, one line
    naming the file, no traceback, and no trial stored."""
    what = what or rng.choice([*BAD_STUDIES, *BAD_DATA])
    kind = "bad input"
    folder = tmp / f"bad-{rng.getrandbits(32):08x}"
    folder.mkdir(parents=True)
    text = ref.write().read_text()
    named = folder / "study.toml"
    if what in BAD_STUDIES:
        named.write_text(BAD_STUDIES[what](text), errors="surrogateescape")
        command = rng.choice(["plan", "run"])
    else:
        data = folder / "data.npz"
        if BAD_DATA[what] is None:
            data.write_bytes(ref.data.read_bytes()[: rng.randint(0, 2000)])
        else:
            with np.load(ref.data) as arrays:
                np.savez(data, **BAD_DATA[what](dict(arrays)))
        named.write_text(text.replace(f"npz:{ref.data}", f"npz:{data}"))
        named = data
        command = "run"  # `plan` reads only the headers and labels; NaN shows when the data load
    study = folder / "study.toml"
    workspace = folder / "ws"
    args = run_args(study, workspace, "--quiet") if command == "run" else ["plan", str(study)]
    done = cli(*args)
    detail = f"{what}, {command}"
    # One line per problem (a study file with several is told all of them), each naming the file.
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    named_each = bool(lines) and all(line.startswith("hyperlab: error: ") and named.name in line
                                     for line in lines)
    if done.returncode != 2 or "Traceback" in done.stderr or not named_each:
        return Try(kind, False, f"{detail}: exit {done.returncode}: {done.stderr[-400:]}")
    if set(statuses(workspace).values()) - {"pending"}:  # planned trials, but none claimed or ended
        return Try(kind, False, f"{detail}: trials stored: {statuses(workspace)}")
    return Try(kind, True, f"{detail}: {done.stderr.strip()[:90]}")


# --- resources and running studies (issue 30) --------------------------------------------------------

OOM_LIMIT = 4_000_000 * 1024  # `ulimit -v 4000000`
OOM_STUDY = """
name = "oom"
seeds = 1
[data]
dataset = "npz:{data}"
[model]
kind = "mlp"
hidden = [{width}, {width}]
[train]
epochs = 1
optimizer = {{ name = "sgd", lr = 0.01 }}
"""


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (OOM_LIMIT, OOM_LIMIT))


def try_out_of_memory(rng: random.Random, tmp: Path) -> Try:
    """Under `ulimit -v 4000000`, a model that cannot fit (refused before anything is claimed) or
    one that fits the estimate but not the process (torch's allocator fails while training): exit
    2, one line, no trial stored as an outcome (it stays resumable)."""
    kind = "out of memory"
    width = rng.choice([1_000_000_000, 16_000, 17_000])
    folder = tmp / f"oom-{rng.getrandbits(32):08x}"
    folder.mkdir(parents=True)
    data = folder / "data.npz"
    gen = np.random.default_rng(rng.getrandbits(32))
    np.savez(data, x_train=gen.normal(size=(64, 16)).astype(np.float32), y_train=gen.integers(0, 4, 64))
    study = folder / "oom.toml"
    study.write_text(OOM_STUDY.format(data=data, width=width))
    done = subprocess.run([sys.executable, "-m", "hyperlab", *run_args(study, folder / "ws")],
                          capture_output=True, text=True, timeout=LIMIT, env=env(), preexec_fn=_limit_memory)
    detail = f"hidden [{width}, {width}] under ulimit -v 4000000"
    said = "needs about" in done.stderr and ("out of memory training" in done.stderr
                                             or "oom.toml: training" in done.stderr)
    if done.returncode != 2 or not one_line(done.stderr) or not said:
        return Try(kind, False, f"{detail}: exit {done.returncode}: {done.stderr[-400:]}")
    if set(statuses(folder / "ws").values()) - {"pending", "interrupted"}:
        return Try(kind, False, f"{detail}: stored {statuses(folder / 'ws')}")
    return Try(kind, True, f"{detail}: {done.stderr.strip()[17:100]}")


def try_many_workers(rng: random.Random, tmp: Path, ref: Reference) -> Try:
    """`--workers` far over the trials and cores: the run starts a few, says so, exits 0 with the
    undisturbed numbers."""
    kind = "--workers 50 to 1000"
    workers = str(rng.choice([50, 200, 1000]))
    workspace = tmp / f"many-{rng.getrandbits(32):08x}"
    done = cli(*run_args(ref.write(), workspace, "--workers", workers, "--jsonl"))
    detail = f"--workers {workers}"
    notes = [json.loads(line) for line in done.stdout.splitlines() if '"note"' in line]
    if done.returncode != 0 or done.stderr.strip() or len(notes) != 1:
        return Try(kind, False, f"{detail}: exit {done.returncode}, notes {notes}: {done.stderr[-400:]}")
    if numbers(workspace) != ref.numbers:
        return Try(kind, False, f"{detail}: numbers differ from the undisturbed run")
    return Try(kind, True, f"{detail}: {notes[0]['message']}")


def _children(pid: int) -> list[int]:
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                out.append(int(stat.parent.name))
    return out


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except (OSError, IndexError):
        return False


def try_kill_starting_workers(rng: random.Random, tmp: Path, ref: Reference) -> Try:
    """SIGKILL a `--workers 2` runner 0 to 2 s after it started its workers (they are importing
    torch): within 10 s no worker is left, nothing is stored as an outcome, and a rerun gives the
    undisturbed numbers."""
    kind = "SIGKILL while workers start"
    workspace = tmp / f"start-{rng.getrandbits(32):08x}"
    proc = start(*run_args(ref.write(), workspace, "--workers", "2", "--jsonl"))
    deadline = time.monotonic() + LIMIT
    workers: list[int] = []
    while len(workers) < 2 and proc.poll() is None and time.monotonic() < deadline:
        workers = _children(proc.pid)
        time.sleep(0.02)
    delay = rng.uniform(0, 2)
    time.sleep(delay)
    detail = f"killed {delay:.1f} s after its {len(workers)} workers started"
    os.kill(proc.pid, signal.SIGKILL)  # the runner alone: its workers are in sessions of their own
    proc.communicate(timeout=LIMIT)
    deadline = time.monotonic() + 10
    while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    survivors = [pid for pid in workers if _alive(pid)]
    for pid in survivors:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
    if survivors:
        return Try(kind, False, f"{detail}: workers {survivors} outlived it by 10 s", 1)
    result = finish_and_compare(kind, ref, workspace, detail, "--workers", "2")
    result.kills = 1
    return result


def try_remove_running(rng: random.Random, tmp: Path, ref: Reference) -> Try:
    """`studies rm NAME --yes` while NAME runs (1 or 2 workers, after a random number of epochs):
    refused with exit 2 naming the PID; `--force` removes it and the run ends with exit 2 in one
    line, leaving no row and no trial folder of it."""
    kind = "studies rm while it runs"
    workspace = tmp / f"rm-{rng.getrandbits(32):08x}"
    workers = rng.choice(["1", "2"])
    count = rng.randint(1, 20)
    proc = start(*run_args(ref.write(), workspace, "--workers", workers, "--jsonl",
                           "--set", "train.epochs=200"))
    try:
        wait_for_epochs(proc, count)
        detail = f"--workers {workers}, after {count} epochs"
        refused = cli("studies", "rm", "faults", "--yes", "--workspace", str(workspace))
        told = "is running in PID" in refused.stderr and one_line(refused.stderr)
        if refused.returncode != 2 or not told:
            return Try(kind, False, f"{detail}: rm exit {refused.returncode}: {refused.stderr[-300:]}")
        forced = cli("studies", "rm", "faults", "--yes", "--force", "--workspace", str(workspace))
        _, err = proc.communicate(timeout=LIMIT)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    if forced.returncode != 0 or proc.returncode != 2 or not one_line(err):
        return Try(kind, False, f"{detail}: rm --force exit {forced.returncode}, run exit {proc.returncode}: "
                                f"{(forced.stderr + err)[-400:]}")
    left = statuses(workspace)
    trials = workspace / "trials"
    if left or (trials.exists() and list(trials.iterdir())):
        return Try(kind, False, f"{detail}: left behind: {left}, {list(trials.iterdir())}")
    return Try(kind, True, f"{detail}: refused, then forced; the run: {err.strip()[17:80]}")
