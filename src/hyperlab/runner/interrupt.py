"""Ctrl-C handling: the first SIGINT (or SIGTERM) asks the trial to stop after its current epoch,
which is stored and checkpointed; a second SIGINT aborts at once (KeyboardInterrupt)."""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager


class StopFlag:
    """`should_stop` for the engine: true once a stop was requested or the watched parent is gone."""

    def __init__(self, parent_pid: int | None = None) -> None:
        self._event = threading.Event()
        self._parent_pid = parent_pid  # a worker stops when the process that started it dies

    def set(self) -> None:
        self._event.set()

    @property
    def requested(self) -> bool:
        return self._event.is_set()

    def __call__(self) -> bool:
        if self._parent_pid is not None and os.getppid() != self._parent_pid:
            self._event.set()
        return self._event.is_set()

    def wait(self, seconds: float) -> bool:
        """Sleep up to `seconds`, waking early when a stop is requested; returns the flag."""
        self._event.wait(seconds)
        return self()


@contextmanager
def graceful_interrupts(flag: StopFlag) -> Iterator[StopFlag]:
    """Within the block, SIGINT and SIGTERM set `flag`; a second SIGINT raises KeyboardInterrupt.
    Outside the main thread (where signals cannot be caught) the block runs unchanged."""
    if threading.current_thread() is not threading.main_thread():
        yield flag
        return

    def on_signal(signum: int, frame: object) -> None:
        if flag.requested and signum == signal.SIGINT:
            raise KeyboardInterrupt
        flag.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield flag
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
