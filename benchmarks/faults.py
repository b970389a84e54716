"""The fault-injection campaign at full size (not a test): inject each fault many times and print
the table of tries, signals delivered, clean tries and failures (docs/reliability.md).

    nice -n 10 .venv/bin/python benchmarks/faults.py                  # 100+ kills
    .venv/bin/python benchmarks/faults.py --scale 0.2 --seed 7        # a smaller campaign
    .venv/bin/python benchmarks/faults.py --seed S --only "bad input" --index 26   # replays one try

A try is clean when no environment fault became a stored trial outcome, no number differs from an
undisturbed run, and nothing but one line (no traceback) was printed. The campaign's functions are
those of tests/faults/campaign.py, which the CI suite runs a few times each.

Tries run `--jobs` at a time (each in its own workspace; they share nothing but the undisturbed
reference, computed first). Each try draws from its own random source, seeded by the campaign's
seed, its kind and its index, so `--seed S --only KIND` replays a try whatever ran beside it.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import sys
import tempfile
import threading
import time
from collections import defaultdict
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "faults"))

import campaign  # noqa: E402

# Tries of each kind at --scale 1, sized for a 2-core machine shared with other work (every
# `hyperlab` process costs ~5 s of CPU to start: imports, planning). A signal try kills (or
# interrupts) the same run 2 to 4 times, each resumed run again, before the last rerun is
# compared: 20 such tries give ~60 signals, and 50 Ctrl-Cs in the first 1.5 s make 100+.
FULL = {"SIGKILL --workers 2": 6, "SIGKILL one process": 10, "Ctrl-C in the first 1.5 s": 50,
        "Ctrl-C / SIGTERM mid-run": 4, "damaged checkpoint": 6, "disk full": 2, "-wal lost mid-run": 2,
        "read-only workspace": 1, "4 concurrent runners, one killed": 2,
        "bad input": len(campaign.BAD_STUDIES) + len(campaign.BAD_DATA),
        # issue 30: resources and running studies
        "out of memory": 6, "--workers 50 to 1000": 3, "SIGKILL while workers start": 6,
        "studies rm while it runs": 4}
CHAIN = (2, 4)  # signals per signal try
IN_PROCESS = {"damaged checkpoint"}  # trains in this process: one at a time (warnings are global)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of the full campaign's tries")
    parser.add_argument("--seed", type=int, default=None, help="replay a campaign (default: random)")
    parser.add_argument("--only", default=None,
                        help="run only the kinds whose name contains this (or one of these, comma-separated)")
    parser.add_argument("--index", default=None, help="run only these tries of each kind (e.g. 0,3)")
    parser.add_argument("--jobs", type=int, default=4, help="tries at a time (default 4)")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # `kill` stops it with the table too
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(2**32)
    print(f"fault campaign, seed {seed} (replay with --seed {seed}), scale {args.scale}, "
          f"{args.jobs} tries at a time, {os.cpu_count()} CPUs", flush=True)
    import torch

    torch.set_num_threads(1)  # the in-process tries: one thread, like `--threads 1`
    mountable = campaign.can_mount()
    results: dict[str, list[campaign.Try]] = defaultdict(list)
    loads: list[float] = []
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="hyperlab-faults-") as root:
        tmp = Path(root)
        ref = campaign.Reference(tmp / "reference")
        ref.numbers  # noqa: B018 - the undisturbed run, before any try needs it
        splits = campaign.digits_splits()
        todo = {kind: max(1, round(full * args.scale)) for kind, full in FULL.items()
                if not args.only or any(part in kind for part in args.only.split(","))}
        for kind in ("disk full", "read-only workspace"):
            if kind in todo and not mountable:
                print(f"{kind}: skipped (needs `unshare -r -m`)", flush=True)
                del todo[kind]
        # Round robin over the kinds, so a campaign stopped early still covers every fault.
        order = [(kind, i) for i in range(max(todo.values(), default=0)) for kind in todo if i < todo[kind]]
        if args.index is not None:  # replay single tries: --seed S --only KIND --index I
            chosen = {int(i) for i in args.index.split(",")}
            order = [(kind, i) for kind, i in order if i in chosen]
        in_process = threading.Lock()

        def one(kind: str, index: int) -> campaign.Try:
            rng = random.Random(f"{seed}/{kind}/{index}")
            where = tmp / f"{kind.split()[0].strip('-')}-{index}"
            where.mkdir(parents=True, exist_ok=True)
            try:
                if kind in IN_PROCESS:
                    with in_process:
                        return _one(kind, rng, where, ref, splits, index)
                return _one(kind, rng, where, ref, splits, index)
            except Exception as exc:  # the campaign's own trouble (a timeout): count it
                return campaign.Try(kind, False, f"campaign error: {type(exc).__name__}: {exc}")

        pool = ThreadPoolExecutor(max(1, args.jobs))
        running: dict = {}
        try:
            pending = iter(order)
            for kind, index in pending:
                running[pool.submit(one, kind, index)] = (kind, index)
                if len(running) < args.jobs:
                    continue
                _collect(running, results, loads)
            while running:
                _collect(running, results, loads)
        except KeyboardInterrupt:  # stopped early (Ctrl-C or SIGTERM): the table of what ran
            print("stopped early: the tries still running are not counted", flush=True)
            pool.shutdown(wait=False, cancel_futures=True)
        else:
            pool.shutdown()
    elapsed = time.monotonic() - started
    print()
    print("| fault | tries | signals | clean | failures |\n| --- | ---: | ---: | ---: | --- |")
    for kind in FULL:
        tries = results.get(kind)
        if not tries:
            continue
        bad = [t.detail for t in tries if not t.clean]
        kills = sum(t.kills for t in tries) or "-"
        print(f"| {kind} | {len(tries)} | {kills} | {len(tries) - len(bad)} | {'; '.join(bad) or '-'} |")
    total = sum(len(t) for t in results.values())
    clean = sum(t.clean for tries in results.values() for t in tries)
    kills = sum(t.kills for tries in results.values() for t in tries)
    load = f"{min(loads):.1f}-{max(loads):.1f}, mean {sum(loads) / len(loads):.1f}" if loads else "-"
    print(f"\n{clean}/{total} tries clean, {kills} signals delivered, in {elapsed:.0f} s "
          f"(seed {seed}, {args.jobs} at a time; 1-minute load average {load} on {os.cpu_count()} CPUs)")
    return 0 if clean == total else 1


def _collect(running: dict, results: dict, loads: list[float]) -> None:
    """Wait for one try to end; record and print it (with the machine's load at that moment)."""
    done, _ = wait(running, return_when=FIRST_COMPLETED)
    for future in done:
        kind, _index = running.pop(future)
        result = future.result()
        results[kind].append(result)
        loads.append(os.getloadavg()[0])
        mark = "clean" if result.clean else "FAULT"
        print(f"  {kind}: {mark}: {result.detail}", flush=True)


def _one(kind: str, rng: random.Random, tmp: Path, ref: campaign.Reference, splits: object,
         index: int) -> campaign.Try:
    if kind == "SIGKILL --workers 2":
        return campaign.try_kill_workers(rng, tmp, ref, rng.randint(*CHAIN))
    if kind == "SIGKILL one process":
        return campaign.try_kill_one(rng, tmp, ref, rng.randint(*CHAIN))
    if kind == "Ctrl-C in the first 1.5 s":
        return campaign.try_early_interrupt(rng, tmp, ref)
    if kind == "Ctrl-C / SIGTERM mid-run":
        return campaign.try_interrupt(rng, tmp, ref, rng.randint(*CHAIN))
    if kind == "damaged checkpoint":  # every corruption in turn, the rest random
        how = campaign.CORRUPTIONS[index % len(campaign.CORRUPTIONS)]
        return campaign.try_corrupt_checkpoint(rng, tmp, splits, how)
    if kind == "disk full":
        return campaign.try_disk_full(rng, tmp, ref)
    if kind == "-wal lost mid-run":
        return campaign.try_wal_lost(rng, tmp, ref)
    if kind == "4 concurrent runners, one killed":
        return campaign.try_concurrent(rng, tmp, ref)
    if kind == "out of memory":
        return campaign.try_out_of_memory(rng, tmp)
    if kind == "--workers 50 to 1000":
        return campaign.try_many_workers(rng, tmp, ref)
    if kind == "SIGKILL while workers start":
        return campaign.try_kill_starting_workers(rng, tmp, ref)
    if kind == "studies rm while it runs":
        return campaign.try_remove_running(rng, tmp, ref)
    if kind == "bad input":  # every bad input once, in turn
        inputs = [*campaign.BAD_STUDIES, *campaign.BAD_DATA]
        return campaign.try_bad_input(rng, tmp, ref, inputs[index % len(inputs)])
    return campaign.try_read_only(tmp, ref)


if __name__ == "__main__":
    sys.exit(main())
