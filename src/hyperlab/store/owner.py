"""Who runs a trial: host + pid + process start time, and whether that process is still alive.

A `running` trial records its owner. When the owner is gone (killed, power cut), the trial is
dead and any runner may reclaim it. The start time guards against pid reuse: a new process with
the recycled pid of a killed runner is not mistaken for it.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Owner:
    """One runner process. Its text form `host/pid/start` is what the store's `owner` column holds."""

    host: str
    pid: int
    start: str  # process start time in clock ticks since boot (Linux), "" where unknown

    def __str__(self) -> str:
        return f"{self.host}/{self.pid}/{self.start}"

    @classmethod
    def current(cls) -> Owner:
        """The calling process."""
        pid = os.getpid()
        return cls(socket.gethostname(), pid, _start_time(pid) or "")

    @classmethod
    def parse(cls, text: str) -> Owner:
        """Inverse of `str(owner)`; a malformed value gives an owner that is never alive."""
        host, _, rest = text.rpartition("/")
        host, _, pid = host.rpartition("/")
        try:
            return cls(host, int(pid), rest)
        except ValueError:
            return cls(host or text, -1, "")

    def is_alive_here(self) -> bool:
        """True when this owner is a live process on this host (zombies count as dead)."""
        if self.pid <= 0:
            return False
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:  # exists, owned by another user
            pass
        stat = _proc_stat(self.pid)
        if stat is None:  # no /proc (macOS): the pid check is all we have
            return True
        state, start = stat
        if state in ("Z", "X"):  # killed but not yet reaped by its parent
            return False
        return not self.start or start == self.start


def _proc_stat(pid: int) -> tuple[str, str] | None:
    """(state, start time) from /proc/<pid>/stat, or None where /proc is not available."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may hold spaces and parentheses: split after the last ')'.
    fields = text[text.rfind(")") + 2 :].split()
    return fields[0], fields[19]  # fields 3 and 22 of proc(5)


def _start_time(pid: int) -> str | None:
    stat = _proc_stat(pid)
    return None if stat is None else stat[1]
