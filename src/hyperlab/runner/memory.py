"""Refusing, before anything is claimed, a trial whose model cannot fit: the plan's estimate of what
training it needs (hyperlab.plan.memory, carried by each TrialTask) against what one trial process
may use here: the GPU's memory for cuda; for the CPU, the machine's memory, and under an address-space
limit (`ulimit -v`) what is left of it. One line per variant, exit 2: a model of 10**18 parameters is
not tried, and a run does not die of it after hours of other trials."""

from __future__ import annotations

import contextlib
import os
import resource
from collections.abc import Sequence

from hyperlab.errors import UserError
from hyperlab.faults import OutOfMemory, gigabytes
from hyperlab.runner.task import TrialTask

SHOWN = 3  # variants named in the message


def memory_limit(device: str) -> tuple[int, str] | None:
    """(bytes, what they are) one trial process may use on `device` ("cpu", "cuda", "cuda:1"), or
    None when unknown."""
    if device.startswith("cuda"):
        import torch

        index = torch.device(device).index or 0
        total = torch.cuda.get_device_properties(index).total_memory
        return total, f"the {gigabytes(total)} of GPU {index}"
    limits = []
    with contextlib.suppress(ValueError, OSError, AttributeError):
        physical = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
        limits.append((physical, f"this machine's {gigabytes(physical)}"))
    address_space = resource.getrlimit(resource.RLIMIT_AS)[0]
    if address_space != resource.RLIM_INFINITY:
        left = address_space - _mapped()
        limits.append((left, f"the {gigabytes(max(left, 0))} left of this process's address-space "
                             f"limit (ulimit -v {address_space // 1024})"))
    return min(limits) if limits else None


def _mapped() -> int:
    """Bytes of address space this process has mapped already (torch and all: a worker maps as much)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def check_memory(tasks: Sequence[TrialTask], device: str, source: str) -> None:
    """UserError (one line per variant, at most SHOWN) for the tasks that cannot fit on `device`."""
    limit = memory_limit(device)
    if limit is None:
        return
    most, what = limit
    over: dict[str, int] = {}
    for task in tasks:
        if task.memory is not None and task.memory > most:
            over.setdefault(task.variant, task.memory)
    if not over:
        return
    lines = [f"{source}: training {variant} needs about {gigabytes(needs)} of memory, more than {what}; "
             f"{OutOfMemory.FIX}" for variant, needs in list(over.items())[:SHOWN]]
    if len(over) > SHOWN:
        lines.append(f"{source}: ... and {len(over) - SHOWN} more variants that cannot fit")
    raise UserError("\n".join(lines))
