"""CPU seconds of a command and of every process it starts, also those it leaves behind (a forkserver and
its workers): this process becomes a child subreaper (Linux), so orphans are reparented to it and their
time is counted when it reaps them. Wall time beside it; on a loaded machine the CPU time is the figure
that compares.

    .venv/bin/python benchmarks/cpu_time.py .venv/bin/hyperlab report quickstart
"""

from __future__ import annotations

import ctypes
import os
import resource
import subprocess
import sys
import time

PR_SET_CHILD_SUBREAPER = 36


def main(argv: list[str]) -> int:
    ctypes.CDLL(None).prctl(PR_SET_CHILD_SUBREAPER, 1)
    started = time.perf_counter()
    code = subprocess.run(argv, stdout=subprocess.DEVNULL).returncode
    wall = time.perf_counter() - started
    while True:  # reap what the command left running (its processes end once it has exited)
        try:
            os.wait()
        except ChildProcessError:
            break
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(f"cpu {usage.ru_utime + usage.ru_stime:.2f} s, wall {wall:.1f} s, exit {code}: {' '.join(argv)}")
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
