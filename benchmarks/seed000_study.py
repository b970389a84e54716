"""The whole notebook-000 study (studies/cifar10-mlp-ablation.toml: 15 variants, 1 seed) through the
real `hyperlab run`, for N epochs per trial, timed from outside; projected to the notebook's 500.

    .venv/bin/python benchmarks/seed000_study.py --epochs 4,12 --workers 2 --threads 1
    .venv/bin/python benchmarks/seed000_study.py --epochs 20 --workers 1 --threads 2

Every trial of this study trains for a fixed number of epochs (no early stopping), so an epoch costs
the same at epoch 20 and at epoch 500. With two or more epoch counts the study runs once per count
and the projection is the least-squares line through (epochs, wall time): the one-off part (start-up,
data loading, planning, final evaluations) once plus the per-epoch slope x 500. With one count it is
the wall time x 500/N, an upper bound (it multiplies the one-off part too). The
per-variant table (seconds per epoch, from each trial's own epoch records; a stacked trial's share
of its stack) shows where the time goes. Needs CIFAR-10 in
hyperlab's cache (`hyperlab datasets import cifar10 FILE.npz`). Not a test: nothing asserts a time.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import scipy.stats

ROOT = Path(__file__).resolve().parents[1]
STUDY = ROOT / "studies" / "cifar10-mlp-ablation.toml"
NOTEBOOK_EPOCHS = 500


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", default="20", help="epochs per trial, or a comma-separated list "
                        "of counts to fit the per-epoch line through (projected to 500)")
    parser.add_argument("--workers", type=int, default=1, help="hyperlab run --workers")
    parser.add_argument("--threads", type=int, default=None, help="hyperlab run --threads")
    parser.add_argument("--no-vectorize", action="store_true", help="hyperlab run --no-vectorize")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    args = parser.parse_args(argv)


    counts = sorted({int(n) for n in args.epochs.split(",")})
    walls = {}
    for n in counts:
        walls[n], epochs = run_once(n, args)
        print(f"{n} epochs: wall {walls[n]:.1f} s", flush=True)
    per_variant = epochs.groupby("variant")["seconds"].agg(["mean", "sum"])
    per_variant = per_variant.sort_values("sum", ascending=False)
    epoch_part = float(epochs["seconds"].sum())  # trial-epochs' time (stacked trials: their share)
    n = counts[-1]
    if len(counts) > 1:
        fit = scipy.stats.linregress(counts, [walls[c] for c in counts])
        one_off, per_epoch = float(fit.intercept), float(fit.slope)
        projected = one_off + per_epoch * NOTEBOOK_EPOCHS
        how = (f"one-off {one_off:.1f} s + {per_epoch:.2f} s per epoch x {NOTEBOOK_EPOCHS} "
               f"(least squares through {len(counts)} runs)")
    else:
        one_off, per_epoch = None, None
        projected = walls[n] * NOTEBOOK_EPOCHS / n
        how = f"wall x {NOTEBOOK_EPOCHS}/{n}, an upper bound"
    print(f"notebook-000 study, 15 variants x 1 seed, --workers {args.workers}, "
          f"--threads {args.threads or 'default'}{', --no-vectorize' if args.no_vectorize else ''}")
    print(f"{n} epochs: wall {walls[n]:.1f} s; sum of trial-epoch seconds {epoch_part:.1f} s "
          f"(over {args.workers} worker(s))")
    print(f"projected to {NOTEBOOK_EPOCHS} epochs ({how}): {projected / 60:.1f} min")
    print(f"\n{'variant':<40} {'s/epoch':>8} {'share':>7}")
    for name, row in per_variant.iterrows():
        print(f"{name:<40} {row['mean']:8.2f} {100 * row['sum'] / epoch_part:6.1f}%")
    result = {"epochs": counts, "workers": args.workers, "threads": args.threads,
              "vectorize": not args.no_vectorize, "wall_s": walls, "trial_epoch_seconds": epoch_part,
              "one_off_s": one_off, "per_epoch_s": per_epoch,
              "projected_500_epochs_s": projected, "load_average_after": os.getloadavg(),
              "per_variant_s_per_epoch": per_variant["mean"].to_dict()}
    args.out.mkdir(parents=True, exist_ok=True)
    out = args.out / f"seed000-study-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.with_suffix(".tmp").write_text(json.dumps(result, indent=2))
    os.replace(out.with_suffix(".tmp"), out)
    print(f"\nsaved {out}")
    return 0


def run_once(epochs: int, args: argparse.Namespace) -> tuple[float, Any]:
    """`hyperlab run` of the study at `epochs` in a fresh workspace: (wall seconds, its epochs frame)."""
    import hyperlab

    overrides = [f"train.epochs={epochs}", "seeds=1"]
    with tempfile.TemporaryDirectory(prefix="hl-seed000-") as tmp:
        workspace = Path(tmp) / "ws"
        command = [sys.executable, "-m", "hyperlab", "run", str(STUDY), "--workspace", str(workspace),
                   "--no-report", "--quiet", "--workers", str(args.workers)]
        for item in overrides:
            command += ["--set", item]
        if args.threads:
            command += ["--threads", str(args.threads)]
        if args.no_vectorize:
            command.append("--no-vectorize")
        started = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True)
        wall = time.perf_counter() - started
        if done.returncode != 0:
            raise SystemExit(f"hyperlab run failed ({done.returncode}): {done.stderr[-2000:]}")
        return wall, hyperlab.Study.load(STUDY, overrides=overrides).results(workspace).epochs


if __name__ == "__main__":
    raise SystemExit(main())
