"""The fault-injection campaign at full size (not a test): inject each fault many times and print
the table of tries, clean tries and failures (docs/reliability.md).

    nice -n 10 .venv/bin/python benchmarks/faults.py                  # 100+ kills, ~1 h on 2 cores
    .venv/bin/python benchmarks/faults.py --scale 0.2 --seed 7        # a smaller campaign

A try is clean when no environment fault became a stored trial outcome, no number differs from an
undisturbed run, and nothing but one line (no traceback) was printed. The campaign's functions are
those of tests/faults/campaign.py, which the CI suite runs a few times each.
"""

from __future__ import annotations

import argparse
import random
import signal
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "faults"))

import campaign  # noqa: E402

# Tries of each kind at --scale 1 (kills: 40 + 30 + 30 = 100 processes killed or interrupted).
FULL = {"SIGKILL --workers 2": 40, "SIGKILL one process": 30, "Ctrl-C in the first 1.5 s": 30,
        "damaged checkpoint": 36, "disk full": 10, "-wal lost mid-run": 10, "read-only workspace": 1}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of the full campaign's tries")
    parser.add_argument("--seed", type=int, default=None, help="replay a campaign (default: random)")
    parser.add_argument("--only", default=None, help="run only the kinds whose name contains this")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # `kill` stops it with the table too
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(2**32)
    rng = random.Random(seed)
    print(f"fault campaign, seed {seed} (replay with --seed {seed}), scale {args.scale}", flush=True)
    mountable = campaign.can_mount()
    results: dict[str, list[campaign.Try]] = defaultdict(list)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="hyperlab-faults-") as root:
        tmp = Path(root)
        ref = campaign.Reference(tmp / "reference")
        splits = campaign.digits_splits()
        todo = {kind: max(1, round(full * args.scale)) for kind, full in FULL.items()
                if not (args.only and args.only not in kind)}
        for kind in ("disk full", "read-only workspace"):
            if kind in todo and not mountable:
                print(f"{kind}: skipped (needs `unshare -r -m`)", flush=True)
                del todo[kind]
        # Round robin over the kinds, so a campaign stopped early still covers every fault.
        order = [kind for i in range(max(todo.values(), default=0)) for kind in todo if i < todo[kind]]
        try:
            for kind in order:
                where = tmp / f"{len(results[kind])}-{kind.split()[0].strip('-')}"
                where.mkdir(parents=True, exist_ok=True)
                try:
                    result = _one(kind, rng, where, ref, splits, len(results[kind]))
                except Exception as exc:  # the campaign's own trouble (a timeout): count it
                    result = campaign.Try(kind, False, f"campaign error: {type(exc).__name__}: {exc}")
                results[kind].append(result)
                mark = "clean" if result.clean else "FAULT"
                print(f"  {kind}: {mark}: {result.detail}", flush=True)
        except KeyboardInterrupt:  # stopped early (Ctrl-C or SIGTERM): the table of what ran
            print("stopped early")
    print()
    print("| fault | tries | clean | failures |\n| --- | ---: | ---: | --- |")
    for kind, tries in results.items():
        bad = [t.detail for t in tries if not t.clean]
        print(f"| {kind} | {len(tries)} | {len(tries) - len(bad)} | {'; '.join(bad) or '-'} |")
    total = sum(len(t) for t in results.values())
    clean = sum(t.clean for tries in results.values() for t in tries)
    print(f"\n{clean}/{total} clean in {time.monotonic() - started:.0f} s (seed {seed})")
    return 0 if clean == total else 1


def _one(kind: str, rng: random.Random, tmp: Path, ref: campaign.Reference, splits: object,
         index: int) -> campaign.Try:
    if kind == "SIGKILL --workers 2":
        return campaign.try_kill_workers(rng, tmp, ref)
    if kind == "SIGKILL one process":
        return campaign.try_kill_one(rng, tmp, ref)
    if kind == "Ctrl-C in the first 1.5 s":
        return campaign.try_early_interrupt(rng, tmp, ref)
    if kind == "damaged checkpoint":  # every corruption in turn, the rest random
        how = campaign.CORRUPTIONS[index % len(campaign.CORRUPTIONS)]
        return campaign.try_corrupt_checkpoint(rng, tmp, splits, how)
    if kind == "disk full":
        return campaign.try_disk_full(rng, tmp, ref)
    if kind == "-wal lost mid-run":
        return campaign.try_wal_lost(rng, tmp, ref)
    return campaign.try_read_only(tmp, ref)


if __name__ == "__main__":
    sys.exit(main())
