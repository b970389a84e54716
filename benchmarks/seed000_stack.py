"""Seconds per epoch of notebook 000's stack (studies/cifar10-mlp-ablation.toml, 1 seed: the 11 trials
that train as one stack), training steps and the per-epoch validation, one torch thread; optionally
two source trees A/B, interleaved.

    .venv/bin/python benchmarks/seed000_stack.py --epochs 3
    .venv/bin/python benchmarks/seed000_stack.py --epochs 3 --pairs 5 --src OLD/src --src NEW/src

Each run trains the stack for --epochs epochs through `hyperlab.vectorized.train_group` and keeps
the median over epochs 2.. of (training + validation) seconds, wall and this thread's CPU time (CPU
time moves less than wall time when other work shares the machine). With two --src trees (e.g. a
`git archive` of the commit before a change), runs alternate old/new --pairs times in fresh
processes (PYTHONPATH=tree) and the medians and their ratio are printed. The trials' one-off final
evaluations are outside the figure. `--subset N` trains on the first N examples' split instead of the
45,000 (the figure is then scaled to 45,000). Needs CIFAR-10 in hyperlab's cache. Not a test.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STUDY = ROOT / "studies" / "cifar10-mlp-ablation.toml"
FULL = 45_000


def measure(epochs: int, subset: int | None) -> dict:
    """One run in this process: per-epoch seconds of the stack (train + validation, wall and CPU)."""
    import torch

    import hyperlab
    from hyperlab.data import make_splits
    from hyperlab.vectorized import train as vtrain
    from hyperlab.vectorized import train_group
    from hyperlab.vectorized.support import group_key

    torch.set_num_threads(1)
    overrides = [f"train.epochs={epochs}", "seeds=1"] + ([f"data.subset={subset}"] if subset else [])
    plan = hyperlab.Study.load(STUDY, overrides=overrides).plan()
    base = next(t for t in plan.trials if t.variant == "baseline")
    stack = [t for t in plan.trials if group_key(t.config, t.seed) == group_key(base.config, base.seed)]
    splits = make_splits(base.config.data)
    spent: dict[str, list[float]] = {"wall": [], "cpu": []}
    phases = {"_train_epoch": 0, "_evaluate_val": 1}  # an epoch = its training + its validation
    parts: list[tuple[float, float]] = []
    for name, order in phases.items():
        original = getattr(vtrain._Group, name)

        def timed(self, original=original, order=order):
            wall, cpu = time.perf_counter(), time.thread_time()
            result = original(self)
            parts.append((time.perf_counter() - wall, time.thread_time() - cpu))
            if order == 1:  # the epoch's validation closes it
                spent["wall"].append(parts[-2][0] + parts[-1][0])
                spent["cpu"].append(parts[-2][1] + parts[-1][1])
            return result

        setattr(vtrain._Group, name, timed)
    train_group([t.config for t in stack], [t.seed for t in stack], splits=splits)
    scale = FULL / len(splits.x_train)
    later = slice(1, None) if epochs > 1 else slice(None)  # epoch 1 warms caches and allocations
    return {"trials": len(stack), "n_train": len(splits.x_train),
            "wall": statistics.median(spent["wall"][later]) * scale,
            "cpu": statistics.median(spent["cpu"][later]) * scale}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--subset", type=int, default=None)
    parser.add_argument("--src", action="append", default=[], help="a source tree (twice: A/B)")
    parser.add_argument("--pairs", type=int, default=5)
    parser.add_argument("--json", action="store_true", help=argparse.SUPPRESS)  # one run, as JSON
    args = parser.parse_args(argv)
    if args.json or not args.src:
        result = measure(args.epochs, args.subset)
        if args.json:
            print(json.dumps(result))
        else:
            print(f"{result['trials']} trials: {result['wall']:.3f} s/epoch wall, {result['cpu']:.3f} s CPU "
                  f"(per {FULL:,} examples)")
        return 0
    if len(args.src) != 2:
        parser.error("--src takes two trees (old, new)")
    runs: dict[str, list[dict]] = {"old": [], "new": []}
    command = [sys.executable, __file__, "--json", "--epochs", str(args.epochs)]
    command += ["--subset", str(args.subset)] if args.subset else []
    for pair in range(args.pairs):
        for side, tree in zip(("old", "new"), args.src, strict=True):
            env = {**os.environ, "PYTHONPATH": str(Path(tree).resolve())}
            out = subprocess.run(command, env=env, capture_output=True, text=True, check=True, cwd="/")
            runs[side].append(json.loads(out.stdout.strip().splitlines()[-1]))
            last = runs[side][-1]
            print(f"pair {pair + 1} {side}: {last['wall']:.3f} s wall, {last['cpu']:.3f} s CPU")
    for key in ("wall", "cpu"):
        old = statistics.median(r[key] for r in runs["old"])
        new = statistics.median(r[key] for r in runs["new"])
        print(f"{key}: old {old:.3f} s/epoch, new {new:.3f} s/epoch, new/old {new / old:.3f} "
              f"(medians of {args.pairs} interleaved pairs)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
