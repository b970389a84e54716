"""hyperlab's benchmark suite: the notebook way vs the engine, and the vectorized trainer.

    .venv/bin/python benchmarks/bench.py --quick              # under 3 minutes
    .venv/bin/python benchmarks/bench.py                      # the full run of docs/performance.md
    .venv/bin/python benchmarks/bench.py --synthetic --quick  # no dataset needed (a fresh clone)

Everything compared runs in this one process, interleaved window by window (see timing.py); every
figure is the median over windows. Results are printed and saved as JSON in benchmarks/results/.
Benchmarks are not tests: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))  # run as a script from anywhere

from cases import MODELS, ModelCase, VectorCase, vector_cases  # noqa: E402
from engine_sides import ChannelsLastLoop, Data, EngineWindows, OneByOneWindows, VectorizedWindows  # noqa: E402
from notebook_way import NotebookLoop  # noqa: E402
from study_overhead import measure as measure_overhead  # noqa: E402
from timing import Side, calibrate, interleave, matmul_side  # noqa: E402

from hyperlab.measure import summarize  # noqa: E402
from hyperlab.models import build_model  # noqa: E402

EPOCH_EXAMPLES = 50_000  # s/epoch is extrapolated to CIFAR-10's full training set
DEFAULT_DATA = "/tmp/hl-data/cifar10.npz"
RESULTS = Path(__file__).resolve().parent / "results"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="short windows, fewer rounds (< 3 minutes)")
    parser.add_argument("--synthetic", action="store_true",
                        help="random CIFAR-shaped data instead of CIFAR-10")
    parser.add_argument("--data", default=os.environ.get("HYPERLAB_BENCH_DATA", DEFAULT_DATA),
                        help="CIFAR-10 .npz in the Keras layout (prepare.py writes one)")
    parser.add_argument("--threads", type=int, default=torch.get_num_threads(), help="torch CPU threads")
    parser.add_argument("--only", choices=["models", "vectorized", "overhead"], help="run one section")
    parser.add_argument("--bf16", choices=["auto", "on", "off"], default="auto",
                        help="the bf16 rows: auto = only on a CPU that multiplies bf16 in hardware (AMX or "
                        "AVX-512 BF16); elsewhere torch emulates bf16 ~100x slower than fp32 and those "
                        "rows alone took the quick run from under 3 minutes to 8.5")
    parser.add_argument("--models", default="", help="comma-separated name prefixes of the models to run")
    parser.add_argument("--rounds", type=int, help="windows per side (default 4 quick, 7 full)")
    parser.add_argument("--target", type=float, help="seconds per window (default 0.25 quick, 1.0 full)")
    parser.add_argument("--overhead-epochs", type=int,
                        help="epochs per trial of the overhead study (default 2 quick, 3 full)")
    parser.add_argument("--out", type=Path, default=RESULTS, help="folder for the JSON results")
    return parser.parse_args(argv)


def load_data(args: argparse.Namespace, examples: int) -> tuple[np.ndarray, np.ndarray, str]:
    """(uint8 NHWC images, labels, description) of the first `examples` training examples."""
    path = Path(args.data)
    if not path.is_file() and str(path) == DEFAULT_DATA:  # else hyperlab's own dataset cache
        from hyperlab.data.cache import cache_path

        path = cache_path("cifar10")
    if not args.synthetic and path.is_file():
        with np.load(path) as archive:
            images, labels = archive["x_train"][:examples], archive["y_train"][:examples].reshape(-1)
        return images, labels.astype(np.int64), f"CIFAR-10 ({path}), first {examples} training images"
    if not args.synthetic:
        print(f"note: {path} not found, using synthetic data (pass --data FILE.npz, CIFAR-10 in the Keras "
              "layout, or import it once: hyperlab datasets import cifar10 FILE.npz)", file=sys.stderr)
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(examples, 32, 32, 3), dtype=np.uint8)
    labels = rng.integers(0, 10, size=examples).astype(np.int64)
    return images, labels, f"synthetic CIFAR-shaped data ({examples} random uint8 images)"


def engine_tensors(images: np.ndarray, labels: np.ndarray) -> Data:
    x = torch.from_numpy(images).permute(0, 3, 1, 2).float().div_(127.5).sub_(1.0).contiguous()
    return Data(x, torch.from_numpy(labels))


def native_bf16() -> bool:
    """True when this CPU multiplies bf16 in hardware (AMX or AVX-512 BF16)."""
    flags = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    return "amx_bf16" in flags or "avx512_bf16" in flags


def model_sides(case: ModelCase, images: np.ndarray, labels: np.ndarray, data: Data,
                bf16: bool = True) -> list[Side]:
    opt = case.optimizer
    best_precision = case.best_precision if bf16 else "fp32"
    notebook = NotebookLoop(build_model(case.spec, (3, 32, 32), 10, 0), images, labels, case.seed_batch,
                            opt["lr"], opt["momentum"])
    sides = [
        Side(f"notebook way, batch {case.seed_batch}", notebook.window,
             meta={"kind": "notebook", "batch": case.seed_batch, "precision": "fp32"}),
        Side(f"engine, batch {case.seed_batch}",
             EngineWindows(case.spec, data, case.seed_batch, "fp32", opt).window,
             meta={"kind": "engine", "batch": case.seed_batch, "precision": "fp32"}),
        Side(f"engine, batch {case.best_batch}",
             EngineWindows(case.spec, data, case.best_batch, "fp32", opt).window,
             meta={"kind": "engine", "batch": case.best_batch, "precision": "fp32"}),
        Side(f"engine, batch {case.best_batch}, {best_precision}, no NaN fill",
             EngineWindows(case.spec, data, case.best_batch, best_precision, opt, fill=False).window,
             meta={"kind": "engine, no NaN fill", "batch": case.best_batch, "precision": best_precision}),
    ]
    if bf16:
        sides.insert(3, Side(f"engine, batch {case.best_batch}, bf16",
                             EngineWindows(case.spec, data, case.best_batch, "bf16", opt).window,
                             meta={"kind": "engine", "batch": case.best_batch, "precision": "bf16"}))
    if case.convolutional:
        precision = "bf16" if bf16 else "fp32"
        loop = ChannelsLastLoop(case.spec, data, case.best_batch, precision, opt)
        meta = {"kind": "channels_last loop", "batch": case.best_batch, "precision": precision}
        sides.append(Side(f"hand loop, channels_last, batch {case.best_batch}, {precision}", loop.window,
                          meta=meta))
    return sides


def run_group(sides: list[Side], peaks: list[Side], target: float, rounds: int) -> None:
    """Calibrate, then interleave the sides with the matmul peaks (one window of each per round)."""
    for side in sides + [p for p in peaks if not p.steps]:
        calibrate(side, target)
    interleave(sides + peaks, rounds)


def model_rows(case: ModelCase, sides: list[Side], peak: dict[str, float]) -> list[dict]:
    summary = summarize(build_model(case.spec, (3, 32, 32), 10, 0), (3, 32, 32))
    reference = sides[0].median
    rows = []
    for side in sides:
        rate = side.median
        low, high = side.spread
        precision = side.meta["precision"]
        rows.append({
            "model": case.name, "params": summary.params, "side": side.name, **side.meta,
            "examples_per_s": rate, "examples_per_s_min": low, "examples_per_s_max": high,
            "s_per_epoch": EPOCH_EXAMPLES / rate, "vs_notebook": rate / reference,
            "train_flops_per_example": summary.train_flops,
            "gflops": summary.train_flops * rate / 1e9,
            "fraction_of_peak": summary.train_flops * rate / peak[precision],
            "batches_per_window": side.steps, "windows": len(side.rates),
        })
    return rows


def vector_rows(case: VectorCase, one_by_one: Side, stacked: Side) -> dict:
    summary = summarize(build_model(case.specs[0], (3, 32, 32), 10, 0), (3, 32, 32))
    return {
        "case": case.name, "trials": len(case.specs), "batch": case.batch_size, "precision": case.precision,
        "one_by_one_examples_per_s": one_by_one.median, "vectorized_examples_per_s": stacked.median,
        "speedup": stacked.median / one_by_one.median,
        "one_by_one_range": one_by_one.spread, "vectorized_range": stacked.spread,
        "vectorized_gflops": summary.train_flops * stacked.median / 1e9,
        "batches_per_window": stacked.steps, "windows": len(stacked.rates),
    }


def machine() -> dict:
    model_name = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model_name = line.split(":", 1)[1].strip()
                break
    except OSError:
        model_name = platform.processor() or "unknown"
    flags = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    return {"cpu": model_name, "cores": os.cpu_count(), "avx512": "avx512f" in flags,
            "amx_bf16": "amx_bf16" in flags,
            "torch": torch.__version__, "python": platform.python_version(),
            "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
            "load_average": os.getloadavg()}


def print_models(rows: list[dict], peak: dict[str, float]) -> None:
    bf16 = f"{peak['bf16'] / 1e9:.0f} GFLOP/s" if peak.get("bf16") else "not measured (no bf16 hardware)"
    print(f"\nmatmul peak measured alongside: fp32 {peak['fp32'] / 1e9:.0f} GFLOP/s, bf16 {bf16}")
    header = (f"{'model':<19} {'side':<44} {'ex/s':>8} {'(min-max)':>15} {'s/epoch':>8} {'x notebook':>10} "
              f"{'MFLOP/ex':>9} {'GFLOP/s':>8} {'% peak':>7}")
    print(header)
    print("-" * len(header))
    for r in rows:
        spread = f"{r['examples_per_s_min']:.0f}-{r['examples_per_s_max']:.0f}"
        print(f"{r['model']:<19} {r['side']:<44} {r['examples_per_s']:>8.0f} {spread:>15} "
              f"{r['s_per_epoch']:>8.1f} "
              f"{r['vs_notebook']:>10.2f} {r['train_flops_per_example'] / 1e6:>9.2f} {r['gflops']:>8.1f} "
              f"{100 * r['fraction_of_peak']:>6.1f}%")


def print_vectorized(rows: list[dict]) -> None:
    header = (f"{'vectorized case':<42} {'one by one ex/s':>15} {'stacked ex/s':>13} {'speedup':>8} "
              f"{'GFLOP/s':>8}")
    print("\n" + header)
    print("-" * len(header))
    for r in rows:
        print(f"{r['case']:<42} {r['one_by_one_examples_per_s']:>15.0f} "
              f"{r['vectorized_examples_per_s']:>13.0f} "
              f"{r['speedup']:>7.2f}x {r['vectorized_gflops']:>8.1f}")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    rounds = args.rounds or (4 if args.quick else 7)
    target = args.target or (0.25 if args.quick else 1.0)
    examples = 10_000 if args.quick else 50_000
    images, labels, data_description = load_data(args, examples)
    data = engine_tensors(images, labels)
    info = {"machine": machine(), "threads": args.threads, "quick": args.quick, "data": data_description,
            "rounds": rounds, "target_window_s": target,
            "s_per_epoch": f"extrapolated to {EPOCH_EXAMPLES} examples from the median window rate"}
    print(f"{info['machine']['cpu']}, {info['machine']['cores']} cores, torch {torch.__version__}, "
          f"{args.threads} threads; {data_description}; {rounds} windows of ~{target}s per side")
    bf16 = args.bf16 == "on" or (args.bf16 == "auto" and native_bf16())
    info["bf16"] = bf16
    if not bf16:
        print("bf16 rows skipped: this CPU has no bf16 hardware (torch emulates it; --bf16 on runs them)")
    peaks = [matmul_side(torch.float32)] + ([matmul_side(torch.bfloat16)] if bf16 else [])
    measured: list[tuple[ModelCase, list[Side]]] = []
    vector_results: list[dict] = []
    if args.only in (None, "models"):
        wanted = [m.strip().lower() for m in args.models.split(",") if m.strip()]
        for case in MODELS:
            if wanted and not any(case.name.lower().startswith(w) for w in wanted):
                continue
            print(f"... {case.name}", flush=True)
            sides = model_sides(case, images, labels, data, bf16)
            run_group(sides, peaks, target, rounds)
            measured.append((case, sides))
    if args.only in (None, "vectorized"):
        for case in [c for c in vector_cases(args.quick) if bf16 or c.precision != "bf16"]:
            print(f"... {case.name}", flush=True)
            stacked = Side("vectorized", VectorizedWindows(case.specs, case.trains, data, case.batch_size,
                                                           case.precision).window)
            # one by one: the engine with torch's NaN fill off, as the stack runs (see nan_fill)
            one_by_one = Side("one by one", OneByOneWindows(case.specs, case.trains, data, case.batch_size,
                                                            case.precision).window)
            calibrate(stacked, target * 1.5)
            calibrate(one_by_one, target, probe_steps=1)  # warm-up, then the same batches as the stack
            one_by_one.steps = stacked.steps
            interleave([one_by_one, stacked] + peaks, rounds)
            vector_results.append(vector_rows(case, one_by_one, stacked))
    peak = {"fp32": peaks[0].median, "bf16": peaks[1].median if bf16 else None}  # every round of the run
    model_results = [row for case, sides in measured for row in model_rows(case, sides, peak)]
    if model_results:
        print_models(model_results, peak)
    if vector_results:
        print_vectorized(vector_results)
    overhead = None
    if args.only in (None, "overhead"):
        print("... study overhead (notebook-000 MLP, 5 trials, real runner)", flush=True)
        epochs = args.overhead_epochs or (2 if args.quick else 3)
        overhead = measure_overhead(images, labels, epochs=epochs, threads=args.threads)
        one = overhead["one_by_one"]
        print(f"\nstudy of {overhead['trials']} trials x {overhead['epochs']} epochs on "
              f"{overhead['train_examples']} examples: runner wall {one['wall_s']:.1f}s, training loops "
              f"{one['sum_of_epoch_train_s']:.1f}s -> overhead {100 * one['overhead']:.1f}% per trial; "
              f"vectorized executor wall {overhead['vectorized']['wall_s']:.1f}s "
              f"({overhead['vectorized_speedup_wall']:.2f}x)")
    info["machine"]["load_average_after"] = os.getloadavg()
    document = {**info, "peak_flops": peak, "models": model_results, "vectorized": vector_results,
                "study_overhead": overhead}
    args.out.mkdir(parents=True, exist_ok=True)
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    out = args.out / f"bench-{'quick-' if args.quick else ''}{stamp}.json"
    tmp = out.with_suffix(".tmp")
    tmp.write_text(json.dumps(document, indent=2))
    os.replace(tmp, out)
    print(f"\nsaved {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
