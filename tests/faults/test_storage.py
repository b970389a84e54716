"""Storage faults: a full disk ends the run (exit 2, one line) with the trials resumable; a read-only
workspace can still be read; a damaged database is named with the command that checks it; a run
whose commits are lost never reports success.

Full and read-only file systems are real: a tmpfs and a read-only bind mount in a private mount
namespace (`unshare -r -m`), so the kernel itself answers ENOSPC and EROFS, even to root. Where
namespaces are not allowed the read-only check still runs with SQLite's `mode=ro` (which proves
that reading commands never write, not that the kernel refuses them).
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys

import pytest
from campaign import can_mount, cli, one_line, try_disk_full, try_read_only, try_wal_lost

from hyperlab.faults import RunFault
from hyperlab.store import Store

needs_mount = pytest.mark.skipif(not can_mount(), reason="needs `unshare -r -m` (a private mount namespace)")


@needs_mount
@pytest.mark.parametrize("where", ["checkpoints", "workspace"])
def test_a_full_disk_ends_the_run_in_one_line_and_the_trials_resume_when_space_is_freed(where, rng, tmp_path,
                                                                                       reference):
    result = try_disk_full(rng, tmp_path, reference, where)  # one-by-one or stacked: at random
    assert result.clean, result.detail


@needs_mount
def test_a_read_only_workspace_can_be_read_but_not_run(tmp_path, reference):
    result = try_read_only(tmp_path, reference)
    assert result.clean, result.detail


def test_reading_commands_open_the_database_read_only(tmp_path, reference):
    workspace = reference.finished_copy(tmp_path / "ws")
    with Store.open(workspace, readonly=True) as store:
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            store._conn.execute("DELETE FROM epochs")
        assert store.trial_statuses(store._conn.execute("SELECT key FROM trials").fetchall()[0])
    # The reading commands go through that read-only open: they work with the files' write bits
    # removed and a read-only folder (which stops a non-root user; root bypasses modes, hence the
    # mount test above).
    for path in [workspace / "hyperlab.db", workspace]:
        path.chmod(0o555 if path.is_dir() else 0o444)
    try:
        assert cli("status", str(reference.study), "--workspace", str(workspace)).returncode == 0
        out = tmp_path / "results"
        assert cli("results", str(reference.study), "--workspace", str(workspace), "--out", str(out)
                   ).returncode == 0
    finally:
        workspace.chmod(0o755)
        (workspace / "hyperlab.db").chmod(0o644)


def test_a_damaged_database_is_one_line_naming_the_file_and_doctor(tmp_path, reference):
    workspace = reference.finished_copy(tmp_path / "ws")
    db = workspace / "hyperlab.db"
    with db.open("r+b") as handle:  # garble pages past the header: tables and indexes
        handle.seek(3 * 4096)
        handle.write(b"\xff" * 4096)
    status = cli("status", str(reference.study), "--workspace", str(workspace))
    assert status.returncode == 2 and one_line(status.stderr), status.stderr
    assert str(db) in status.stderr and "hyperlab doctor" in status.stderr
    doctor = cli("doctor", "--workspace", str(workspace))
    assert doctor.returncode == 2 and "DAMAGED" in doctor.stdout, doctor.stdout + doctor.stderr


def test_doctor_checks_artifacts_against_their_hashes(tmp_path, reference):
    workspace = reference.finished_copy(tmp_path / "ws")
    healthy = cli("doctor", "--workspace", str(workspace))
    assert healthy.returncode == 0 and "no problem found" in healthy.stdout, healthy.stdout
    checkpoint = next(workspace.glob("artifacts/trials/*/checkpoint.safetensors"))
    raw = bytearray(checkpoint.read_bytes())
    raw[-1] ^= 1
    checkpoint.write_bytes(raw)
    sick = cli("doctor", "--workspace", str(workspace))
    assert sick.returncode == 2 and "SHA-256 differs" in sick.stdout
    assert checkpoint.parent.name[:12] in sick.stdout


def test_a_run_whose_wal_is_lost_never_reports_success_it_did_not_have(rng, tmp_path, reference):
    result = try_wal_lost(rng, tmp_path, reference)
    assert result.clean, result.detail


def test_the_faults_module_names_environment_faults_and_nothing_else():
    import errno

    from hyperlab.faults import environment_fault

    assert environment_fault(OSError(errno.ENOSPC, "No space left on device", "/x")).exit_code == 2
    assert "no space" in str(environment_fault(OSError(errno.ENOSPC, "full", "/x")))
    assert environment_fault(BrokenPipeError()).exit_code == 141
    assert environment_fault(sqlite3.OperationalError("database or disk is full")) is not None
    try:
        try:
            raise OSError(errno.EROFS, "Read-only file system")
        except OSError as inner:
            raise RuntimeError("wrapped") from inner
    except RuntimeError as outer:
        assert environment_fault(outer) is not None  # found through the cause chain
    for not_a_fault in (ValueError("bad shape"), FileNotFoundError(errno.ENOENT, "x"), ZeroDivisionError()):
        assert environment_fault(not_a_fault) is None


def test_the_worker_module_asks_to_die_with_its_parent():
    """The kill test above is the behaviour; this pins the mechanism on Linux: a child that set
    PR_SET_PDEATHSIG is gone as soon as its parent is."""
    if not sys.platform.startswith("linux"):
        pytest.skip("PR_SET_PDEATHSIG is Linux-only")
    script = (
        "import os, subprocess, sys, time\n"
        "child = subprocess.Popen([sys.executable, '-c', 'import os, time\\n"
        "from hyperlab.runner.worker import die_with_parent\\n"
        "die_with_parent(os.getppid())\\nprint(os.getpid(), flush=True)\\ntime.sleep(60)'],"
        " stdout=subprocess.PIPE, text=True)\n"
        "print(child.stdout.readline().strip(), flush=True)\n"
        "os._exit(0)\n"
    )
    parent = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    pid = int(parent.stdout.split()[0])
    import os
    import time

    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        try:
            if os.waitpid(pid, os.WNOHANG) != (0, 0):
                return
        except ChildProcessError:
            pass
        time.sleep(0.05)
    raise AssertionError(f"the child {pid} outlived its parent")


def test_a_database_left_by_a_crash_is_checked_when_opened(tmp_path, reference):
    """A -wal file left behind means the last writer did not close cleanly: quick_check runs on open
    and a damaged file is one line naming it and `hyperlab doctor`."""
    source = reference.finished_copy(tmp_path / "source")
    writer = sqlite3.connect(source / "hyperlab.db")  # an open writer: its -wal stays while it lives
    writer.execute("PRAGMA journal_mode = WAL")
    writer.execute("UPDATE trials SET attempts = attempts")
    writer.commit()
    crashed = tmp_path / "crashed"
    crashed.mkdir()
    for name in ("hyperlab.db", "hyperlab.db-wal"):  # the files as a crash leaves them
        (crashed / name).write_bytes((source / name).read_bytes())
    writer.close()
    with (crashed / "hyperlab.db").open("r+b") as handle:
        handle.seek(2 * 4096)
        handle.write(b"\x00" * 4096)
    with pytest.raises(RunFault) as fault:
        Store.open(crashed, create=False, readonly=True)
    message = str(fault.value)
    assert str(crashed / "hyperlab.db") in message and "hyperlab doctor" in message and "\n" not in message
