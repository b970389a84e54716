"""Trials per second as a study grows: the quickstart at 2, 8, 32 and 128 seeds and notebook 000's
MLP ablation, stacked (the default executor) and one by one (`--no-vectorize`), on the CPU and, where
there is one, on CUDA, with the GPU's utilisation sampled while each CUDA run trains.

    PYTHONPATH=src python3 benchmarks/scale.py --quick                    # < 3 minutes on an H200 machine
    PYTHONPATH=src python3 benchmarks/scale.py --data /tmp/cifar-sub.npz   # the ablation on an npz subset
    .venv/bin/python benchmarks/scale.py --devices cpu --seeds 2,16 --one-by-one-seeds 2

Every run is a fresh `python -m hyperlab run STUDY --no-report` in a fresh workspace, timed from
outside (start-up, planning, data loading, training, the final evaluations); "done in" is hyperlab's
own figure (training, without start-up), trials/s = trials / done-in. GPU utilisation: `nvidia-smi
--query-gpu=utilization.gpu -lms 500` (or pynvml when importable) sampled during the run: the share
of time a kernel was running, mean and max. Results are printed and saved as JSON in
benchmarks/results/scale-*.json. Not a test: nothing asserts a time. Needs only the repository and
torch (runs with `PYTHONPATH=src` where hyperlab is not installed; no network).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
QUICKSTART = ROOT / "studies" / "quickstart.toml"
ABLATION = ROOT / "studies" / "cifar10-mlp-ablation.toml"
QUICKSTART_VARIANTS, ABLATION_VARIANTS = 9, 15
DONE = re.compile(r"done in ([0-9.]+)s \((\d+) completed")


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    import torch  # after parsing: --help stays fast

    devices = [d for d in args.devices.split(",") if d != "cuda" or torch.cuda.is_available()]
    skipped = [d for d in args.devices.split(",") if d not in devices]
    if skipped:
        print(f"not available here, skipped: {', '.join(skipped)}", flush=True)
    started = time.monotonic()
    rows: list[dict[str, Any]] = []
    cache = Path(tempfile.mkdtemp(prefix="hl-scale-cache-"))
    paths = (str(ROOT / "src"), os.environ.get("PYTHONPATH"))
    env = {**os.environ, "HYPERLAB_CACHE": os.environ.get("HYPERLAB_CACHE", str(cache)),
           "HYPERLAB_OFFLINE": "1", "PYTHONPATH": os.pathsep.join(p for p in paths if p)}
    for case in cases(args):
        for device in devices:
            for side in case["sides"]:
                if time.monotonic() - started > args.budget:
                    rows.append({**describe(case, device, side), "skipped": "budget"})
                    print(f"{case['name']:<28} {device:<5} {side:<11} skipped (budget {args.budget:.0f} s)",
                          flush=True)
                    continue
                row = run_case(case, device, side, env, args)
                rows.append(row)
                print(line(row), flush=True)
    settings = {k: str(v) for k, v in vars(args).items()}
    document = {"machine": machine(torch), "args": settings, "devices_skipped": skipped, "rows": rows,
                "wall_s": round(time.monotonic() - started, 1)}
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"scale-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(document, indent=2))
    print(f"\n{summary(rows)}\nresults: {path}")
    shutil.rmtree(cache, ignore_errors=True)
    return 0


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="seeds 2,8,32, one by one at seed 2 only, "
                        "the ablation at 2 epochs, budget 170 s")
    parser.add_argument("--seeds", default=None, help="quickstart seed counts (default 2,8,32,128)")
    parser.add_argument("--one-by-one-seeds", default=None,
                        help="seed counts also run one by one (default 2,8; quick: 2)")
    parser.add_argument("--sides", default="stacked,one-by-one", help="which sides run at all")
    parser.add_argument("--devices", default="cpu,cuda", help="cpu, cuda or both (cuda only where available)")
    parser.add_argument("--data", default=None, help="CIFAR-10 npz (x_train, y_train, x_test, y_test) for "
                        "notebook 000's ablation, e.g. a subset; without it the ablation is skipped")
    parser.add_argument("--ablation-epochs", type=int, default=None, help="default 5 (quick: 2)")
    parser.add_argument("--cpu-workers", type=int, default=1, help="hyperlab run --workers on the CPU")
    parser.add_argument("--cpu-threads", type=int, default=None, help="hyperlab run --threads on the CPU")
    parser.add_argument("--timeout", type=float, default=600, help="seconds per run")
    parser.add_argument("--budget", type=float, default=None, help="start no run after this many seconds")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    args = parser.parse_args(argv)
    args.seeds = args.seeds or ("2,8,32" if args.quick else "2,8,32,128")
    args.one_by_one_seeds = args.one_by_one_seeds or ("2" if args.quick else "2,8")
    args.ablation_epochs = args.ablation_epochs or (2 if args.quick else 5)
    args.budget = args.budget or (170.0 if args.quick else 3600.0)
    return args


def cases(args: argparse.Namespace) -> list[dict[str, Any]]:
    one_by_one = {int(s) for s in args.one_by_one_seeds.split(",") if s}
    allowed = set(args.sides.split(","))
    out = [{**case, "sides": [side for side in case["sides"] if side in allowed]}
           for case in _cases(args, one_by_one)]
    return [case for case in out if case["sides"]]


def _cases(args: argparse.Namespace, one_by_one: set[int]) -> list[dict[str, Any]]:
    out = []
    for seeds in (int(s) for s in args.seeds.split(",")):
        out.append({"name": f"quickstart seeds={seeds}", "study": QUICKSTART, "sets": [f"seeds={seeds}"],
                    "trials": QUICKSTART_VARIANTS * seeds,
                    "sides": ["stacked", "one-by-one"] if seeds in one_by_one else ["stacked"]})
    if args.data:
        out.append({"name": f"mlp ablation {args.ablation_epochs} epochs", "study": ABLATION,
                    "sets": [f"data.dataset=npz:{args.data}", "seeds=1",
                             f"train.epochs={args.ablation_epochs}"],
                    "trials": ABLATION_VARIANTS, "sides": ["stacked", "one-by-one"]})
    return out


def describe(case: dict[str, Any], device: str, side: str) -> dict[str, Any]:
    return {"case": case["name"], "trials": case["trials"], "device": device, "side": side}


def run_case(case: dict[str, Any], device: str, side: str, env: dict[str, str],
             args: argparse.Namespace) -> dict[str, Any]:
    workspace = Path(tempfile.mkdtemp(prefix="hl-scale-"))
    command = [sys.executable, "-m", "hyperlab", "run", str(case["study"]), "--no-report", "--workspace",
               str(workspace), "--device", device]
    for item in case["sets"]:
        command += ["--set", item]
    if side == "one-by-one":
        command.append("--no-vectorize")
    if device == "cpu" and args.cpu_workers > 1:
        command += ["--workers", str(args.cpu_workers)]
    if device == "cpu" and args.cpu_threads:
        command += ["--threads", str(args.cpu_threads)]
    sampler = GpuSampler() if device == "cuda" else None
    began = time.perf_counter()
    try:
        proc = subprocess.run(command, capture_output=True, text=True, env=env, timeout=args.timeout,
                              check=False)
        output, rc = proc.stdout + proc.stderr, proc.returncode
    except subprocess.TimeoutExpired as expired:
        output, rc = f"{expired.stdout or ''}{expired.stderr or ''}", 124
    wall = time.perf_counter() - began
    utilisation = sampler.stop() if sampler is not None else []
    shutil.rmtree(workspace, ignore_errors=True)
    found = DONE.findall(output if isinstance(output, str) else "")
    done_in, completed = (float(found[-1][0]), int(found[-1][1])) if found else (None, None)
    row = {**describe(case, device, side), "rc": rc, "wall_s": round(wall, 2), "done_in_s": done_in,
           "completed": completed,
           "trials_per_s": round(case["trials"] / done_in, 2) if done_in else None,
           "gpu_util_mean": round(statistics.fmean(utilisation), 1) if utilisation else None,
           "gpu_util_max": max(utilisation) if utilisation else None, "gpu_samples": len(utilisation)}
    if rc != 0:
        row["tail"] = output[-2000:] if isinstance(output, str) else ""
    return row


class GpuSampler:
    """Samples the GPU's utilisation (%) every 500 ms in the background: pynvml when importable,
    else `nvidia-smi -lms 500`; nothing when neither is there."""

    def __init__(self) -> None:
        self.values: list[int] = []
        self._stop = threading.Event()
        self._proc: subprocess.Popen | None = None
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        try:
            import pynvml  # type: ignore[import-not-found]

            pynvml.nvmlInit()
            handle = pynvml.nvmlDeviceGetHandleByIndex(0)
            while not self._stop.wait(0.5):
                self.values.append(int(pynvml.nvmlDeviceGetUtilizationRates(handle).gpu))
            return
        except Exception:  # noqa: BLE001, S110 - no pynvml: nvidia-smi below
            pass
        if shutil.which("nvidia-smi") is None:
            return
        query = ["nvidia-smi", "--query-gpu=utilization.gpu", "--format=csv,noheader", "-lms", "500"]
        self._proc = subprocess.Popen(query, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        assert self._proc.stdout is not None
        for text in self._proc.stdout:
            number = text.strip().split()[0] if text.strip() else ""
            if number.isdigit():
                self.values.append(int(number))
            if self._stop.is_set():
                break

    def stop(self) -> list[int]:
        self._stop.set()
        if self._proc is not None:
            self._proc.terminate()
            self._proc.wait(timeout=5)
        self._thread.join(timeout=5)
        return list(self.values)


def machine(torch: Any) -> dict[str, Any]:
    info = {"python": platform.python_version(), "torch": torch.__version__, "cpus": os.cpu_count(),
            "cpu": platform.processor() or platform.machine(), "date": time.strftime("%Y-%m-%d %H:%M:%S"),
            "load_average": os.getloadavg() if hasattr(os, "getloadavg") else None}
    if torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name(0)
    return info


def line(row: dict[str, Any]) -> str:
    if row.get("rc", 0) != 0:
        last = (row.get("tail") or "").strip().splitlines()[-1:]
        return f"{row['case']:<28} {row['device']:<5} {row['side']:<11} rc={row['rc']}: {' '.join(last)}"
    gpu = (f"  GPU {row['gpu_util_mean']:.0f}% mean, {row['gpu_util_max']}% max"
           if row.get("gpu_util_mean") is not None else "")
    done = f"{row['done_in_s']:.1f}" if row.get("done_in_s") is not None else "-"
    rate = f"{row['trials_per_s']:.1f}" if row.get("trials_per_s") is not None else "-"
    return (f"{row['case']:<28} {row['device']:<5} {row['side']:<11} wall {row['wall_s']:7.1f} s  "
            f"done in {done:>6} s  {rate:>7} trials/s{gpu}")


def summary(rows: list[dict[str, Any]]) -> str:
    """Stacked over one by one, per case and device, where both ran."""
    out = ["stacked vs one by one (trials/s):"]
    keyed = {(r["case"], r["device"], r["side"]): r for r in rows if r.get("trials_per_s")}
    for (case, device, side), row in keyed.items():
        other = keyed.get((case, device, "one-by-one"))
        if side == "stacked" and other:
            out.append(f"  {case:<28} {device:<5} {row['trials_per_s'] / other['trials_per_s']:.2f}x")
    return "\n".join(out)


if __name__ == "__main__":
    sys.exit(main())
