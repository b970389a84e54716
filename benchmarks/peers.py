"""hyperlab against the tools a user would pick instead, on the same studies, in one invocation.

    .venv/bin/pip install -c constraints.txt -r benchmarks/requirements-peers.txt   # Ray Tune, once
    .venv/bin/python benchmarks/peers.py                          # every study, every side, N = 10 epochs
    .venv/bin/python benchmarks/peers.py --studies quickstart --repeats 3
    .venv/bin/python benchmarks/peers.py --studies mlp --epochs 2 --sides optuna,hyperlab

Studies: `mlp` (notebook 000's MLP ablation, studies/cifar10-mlp-ablation.toml: baseline + 14 levels, 1
seed, --epochs N, default 10), `cnn` (notebook 001's CNN dropout sweep, studies/cifar10-cnn-dropout.toml:
7 rates, 1 seed, --cnn-epochs on --cnn-subset training images), `quickstart` (studies/quickstart.toml:
digits, 9 variants x 3 seeds, its own 20 epochs).

Sides, each on the same configurations (the study's plan), architecture and initialization (built by
hyperlab's model builder), optimizer, loss (with the study's L2 terms), batch size, epochs, split and
validation every epoch, then the test set once:
  notebook  one process, a per-sample Dataset (ToTensor per image, as benchmarks/notebook_way.py) and a
            DataLoader (shuffle, main process), the tutorial loop with `loss.item()` per step;
  optuna    `optuna.create_study(sampler=GridSampler(...))` over the same configurations, the objective
            as Optuna's PyTorch example writes it (per-sample DataLoader, per-epoch validation,
            `trial.report`; NopPruner, so every trial does the whole work); one process;
  optuna-mt the same with torch's default threads (all cores) whatever --peer-threads says;
  ray       `tune.Tuner(tune.with_resources(train_fn, {"cpu": 1}), param_space=grid_search(...))` on a
            local Ray, the trainable as Ray's PyTorch tutorial writes it (loads its data, trains,
            `tune.report` per epoch): one trial per core at a time;
  hyperlab  `hyperlab run STUDY --workers N` with its defaults (the vectorized executor, one torch thread
            per worker); N = 2 for the CIFAR-10 studies (the docs' setting for a 2-core machine), 1 for
            the quickstart (its documented command) unless --hyperlab-workers says otherwise;
  hyperlab-readme  the README's command as a user types it, `hyperlab run STUDY` (report included, its
            progress output, a fresh workspace); then, not in its wall time, `hyperlab report STUDY` of
            that workspace is timed too (printed as `report`).
The notebook and Optuna sides run with --peer-threads torch threads (default 1; 0 = torch's default,
all cores): on this 2-core machine, idle, one thread ran the quickstart's Optuna side in 19.9 s and
torch's default two in 22.4 s, and two threads took 162-225 s as soon as one other process was busy.
The optuna-mt side keeps torch's default, so Optuna is measured both ways.

Every side runs in a fresh Python process timed from outside, wall clock: interpreter start-up,
imports, data loading, training, validation every epoch and one test-set evaluation at the end of
every trial (hyperlab's trials end with one, as the notebooks do) are inside every side's time.
Sides run one after the other, in a rotating order per repeat (interleaved), and each one's final
validation and test accuracy (means over the study's trials) are printed to show the same work was
done. % peak: the study's
training FLOPs (hyperlab.measure: 3 x forward per training example, + forward per validation example,
every epoch) per second of wall time, over the fp32 matmul peak of all cores (one-thread peak x cores)
measured in the same run.
Real CIFAR-10 when hyperlab's dataset cache has it (`hyperlab datasets import cifar10 FILE.npz`),
random CIFAR-shaped data otherwise (said in the output). Not a test: nothing asserts a time.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
STUDIES = {
    "mlp": ROOT / "studies" / "cifar10-mlp-ablation.toml",
    "cnn": ROOT / "studies" / "cifar10-cnn-dropout.toml",
    "quickstart": ROOT / "studies" / "quickstart.toml",
}
SIDES = ("notebook", "optuna", "optuna-mt", "ray", "hyperlab", "hyperlab-readme")
TUNERS = ("optuna", "optuna-mt", "ray")  # the tools the targets compare hyperlab with
AUTO_WORKERS = {"mlp": 2, "cnn": 2, "quickstart": 1}  # --hyperlab-workers auto


# ---------------------------------------------------------------- the plain loop the peers share


class PerSample(torch.utils.data.Dataset):
    """One example per index, as torchvision's datasets serve them: uint8 HWC images converted by
    ToTensor (x / 255, CHW) one at a time, or a float example (digits, as a TensorDataset would)."""

    def __init__(self, x: torch.Tensor, y: torch.Tensor) -> None:
        self.images: np.ndarray | None = None
        self.rows: torch.Tensor | None = x
        probe = x[:256]
        if x.dim() == 4 and x.shape[1] == 3 and torch.allclose((probe * 255).round() / 255, probe):
            # CIFAR: back to the uint8 HWC of its file, in chunks (a full float temporary would cost
            # every Ray trial another 600 MB: the first run of this benchmark ran out of memory)
            images = np.empty((len(x), x.shape[2], x.shape[3], 3), dtype=np.uint8)
            for start in range(0, len(x), 4096):
                chunk = (x[start:start + 4096] * 255).round().to(torch.uint8).permute(0, 2, 3, 1)
                images[start:start + 4096] = chunk.numpy()
            self.images, self.rows = images, None
        self.labels = y.numpy()

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        if self.images is not None:  # torchvision.transforms.ToTensor
            image = torch.from_numpy(self.images[index]).permute(2, 0, 1).contiguous()
            return image.to(torch.float32).div(255), int(self.labels[index])
        return self.rows[index], int(self.labels[index])


def load_splits(config: Any) -> Any:
    """The trial's train/validation split, read from the dataset file (not memoized: every trial that
    loads its data pays for it, as the examples' trials do)."""
    from hyperlab.data.build import build_splits

    return build_splits(config.data, torch.device("cpu"))


def plain_trial(config: Any, seed: int, splits: Any, report: Any = None) -> tuple[float, float]:
    """A trial as the tutorials train it: DataLoaders, SGD, cross entropy (+ the study's L2 terms),
    validation accuracy after every epoch handed to `report(epoch, accuracy)`, then the test set's
    accuracy once at the end (as hyperlab and the notebooks do). Returns (last validation, test)."""
    from torch import nn
    from torch.utils.data import DataLoader

    from hyperlab.models import build_model
    from hyperlab.models._common import regularization_loss

    train = config.train
    torch.manual_seed(seed)
    model = build_model(config.model, splits.input_shape, splits.n_outputs, seed)
    opt = train.optimizer
    optimizer = torch.optim.SGD(model.parameters(), lr=opt.lr, momentum=opt.momentum,
                                weight_decay=opt.weight_decay)
    criterion = nn.CrossEntropyLoss()
    loader = DataLoader(PerSample(splits.x_train, splits.y_train), batch_size=train.batch_size, shuffle=True,
                        generator=torch.Generator().manual_seed(seed))
    val_loader = DataLoader(PerSample(splits.x_val, splits.y_val), batch_size=train.batch_size)
    accuracy = float("nan")
    running_loss = 0.0
    for epoch in range(train.epochs):
        model.train()
        for inputs, labels in loader:
            optimizer.zero_grad()
            loss = criterion(model(inputs), labels)
            penalty = regularization_loss(model)
            if penalty is not None:
                loss = loss + penalty
            loss.backward()
            optimizer.step()
            running_loss += loss.item()
        accuracy = plain_accuracy(model, val_loader)
        if report is not None:
            report(epoch, accuracy)
    test_loader = DataLoader(PerSample(splits.x_test, splits.y_test), batch_size=train.batch_size)
    return accuracy, plain_accuracy(model, test_loader)


def plain_accuracy(model: Any, loader: Any) -> float:
    model.eval()
    correct = total = 0
    with torch.no_grad():
        for inputs, labels in loader:
            correct += int((model(inputs).argmax(1) == labels).sum())
            total += len(labels)
    return correct / total


# ---------------------------------------------------------------- the sides


def trial_table(study_path: Path, overrides: list[str]) -> dict[str, tuple[Any, int]]:
    """'variant|seed' -> (TrialConfig, seed) for every trial of the study's plan."""
    import hyperlab

    plan = hyperlab.Study.load(study_path, overrides=overrides).plan()
    return {f"{t.variant}|{t.seed}": (t.config, int(t.seed)) for t in plan.trials}


Accuracies = dict[str, tuple[float, float]]  # 'variant|seed' -> (final validation, test) accuracy


def run_notebook(study_path: Path, overrides: list[str], workdir: Path) -> Accuracies:
    table = trial_table(study_path, overrides)
    splits = load_splits(next(iter(table.values()))[0])  # one notebook: the data loaded once
    return {name: plain_trial(config, seed, splits) for name, (config, seed) in table.items()}


def run_optuna(study_path: Path, overrides: list[str], workdir: Path) -> Accuracies:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    table = trial_table(study_path, overrides)
    splits = load_splits(next(iter(table.values()))[0])  # hoisted out of the objective: kind to Optuna
    variants = sorted({name.split("|")[0] for name in table})
    seeds = sorted({seed for _, seed in table.values()})
    accuracies: Accuracies = {}

    def objective(trial: optuna.Trial) -> float:
        variant = trial.suggest_categorical("variant", variants)
        seed = trial.suggest_categorical("seed", seeds)
        config, _ = table[f"{variant}|{seed}"]

        def report(epoch: int, accuracy: float) -> None:
            trial.report(accuracy, epoch)
            if trial.should_prune():
                raise optuna.TrialPruned()

        accuracies[f"{variant}|{seed}"] = plain_trial(config, seed, splits, report)
        return accuracies[f"{variant}|{seed}"][0]

    study = optuna.create_study(direction="maximize", pruner=optuna.pruners.NopPruner(),
                                sampler=optuna.samplers.GridSampler({"variant": variants, "seed": seeds}))
    study.optimize(objective, n_trials=len(variants) * len(seeds))
    return accuracies


def run_ray(study_path: Path, overrides: list[str], workdir: Path) -> Accuracies:
    import ray
    from ray import tune

    table = trial_table(study_path, overrides)
    variants = sorted({name.split("|")[0] for name in table})
    seeds = sorted({seed for _, seed in table.values()})
    configs = {name: config.model_dump(mode="json") for name, (config, _) in table.items()}

    def train_fn(params: dict) -> None:  # the tutorial's trainable: loads its data, trains, reports
        from hyperlab.engine import TrialConfig

        config = TrialConfig.model_validate(configs[f"{params['variant']}|{params['seed']}"])
        splits = load_splits(config)
        epochs = config.train.epochs

        def report(epoch: int, accuracy: float) -> None:
            if epoch < epochs - 1:  # the last epoch is reported with the test accuracy
                tune.report({"accuracy": accuracy, "epoch": epoch})

        accuracy, test_accuracy = plain_trial(config, int(params["seed"]), splits, report)
        tune.report({"accuracy": accuracy, "epoch": epochs - 1, "test_accuracy": test_accuracy})

    ray.init(num_cpus=os.cpu_count(), include_dashboard=False, log_to_driver=False,
             configure_logging=False, _temp_dir=str(workdir / "ray-tmp"))
    try:
        tuner = tune.Tuner(
            tune.with_resources(train_fn, {"cpu": 1}),
            param_space={"variant": tune.grid_search(variants), "seed": tune.grid_search(seeds)},
            tune_config=tune.TuneConfig(metric="accuracy", mode="max"),
            run_config=tune.RunConfig(storage_path=str(workdir / "ray-results"), verbose=0),
        )
        results = tuner.fit()
        accuracies = {}
        for result in results:
            if result.error:
                raise RuntimeError(f"a Ray Tune trial failed: {result.error}")
            accuracies[f"{result.config['variant']}|{result.config['seed']}"] = (
                result.metrics["accuracy"], result.metrics["test_accuracy"])
        return accuracies
    finally:
        ray.shutdown()


def run_hyperlab_command(study_path: Path, overrides: list[str], workdir: Path, workers: int) -> None:
    command = [sys.executable, "-m", "hyperlab", "run", str(study_path), "--workspace", str(workdir / "ws"),
               "--no-report", "--quiet", "--workers", str(workers)]
    for item in overrides:
        command += ["--set", item]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"hyperlab run failed ({done.returncode}):\n{done.stderr[-2000:]}")


def run_readme_command(study_path: Path, overrides: list[str], workdir: Path) -> None:
    """`hyperlab run STUDY` as the README writes it: defaults, report included (output captured)."""
    command = [sys.executable, "-m", "hyperlab", "run", str(study_path), "--workspace", str(workdir / "ws")]
    for item in overrides:
        command += ["--set", item]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0 or "report: " not in done.stdout:
        raise RuntimeError(f"hyperlab run failed ({done.returncode}):\n{done.stderr[-2000:]}")


def time_report_command(study_path: Path, overrides: list[str], workdir: Path) -> float:
    """Wall seconds of `hyperlab report STUDY` over the workspace a run filled (a fresh process)."""
    command = [sys.executable, "-m", "hyperlab", "report", str(study_path),
               "--workspace", str(workdir / "ws")]
    for item in overrides:
        command += ["--set", item]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"hyperlab report failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return time.perf_counter() - started


def hyperlab_accuracies(study_path: Path, overrides: list[str], workdir: Path) -> Accuracies:
    import hyperlab

    finals = hyperlab.Study.load(study_path, overrides=overrides).results(workdir / "ws").finals
    return {f"{row.variant}|{row.seed}": (float(row.val_accuracy), float(row.test_accuracy))
            for row in finals.itertuples()}


# ---------------------------------------------------------------- data, FLOPs, peak


def cifar_in_cache() -> bool:
    """True when hyperlab can load CIFAR-10 from its data root or dataset cache without a download."""
    from hyperlab.data.cache import cache_path, data_root

    if cache_path("cifar10").is_file():
        return True
    root = data_root()
    return root is not None and any(root.glob("cifar-10*"))


def synthetic_cifar(folder: Path, n_train: int = 50_000, n_test: int = 10_000) -> str:
    """Random CIFAR-shaped images and labels as an npz in the Keras layout: `npz:PATH` for data.dataset."""
    rng = np.random.default_rng(0)
    path = folder / "synthetic-cifar10.npz"
    np.savez(path, x_train=rng.integers(0, 256, (n_train, 32, 32, 3), dtype=np.uint8),
             y_train=rng.integers(0, 10, n_train), y_test=rng.integers(0, 10, n_test),
             x_test=rng.integers(0, 256, (n_test, 32, 32, 3), dtype=np.uint8))
    return f"npz:{path}"


def study_flops(study_path: Path, overrides: list[str]) -> float:
    """Training FLOPs of the whole study: per trial, epochs x (train_flops x n_train + flops x n_val)."""
    from hyperlab.measure import measure_config

    total = 0.0
    table = trial_table(study_path, overrides)
    sizes: dict[str, tuple[int, int]] = {}
    for config, _ in table.values():
        key = config.data.model_dump_json()
        if key not in sizes:
            info = load_splits(config).info
            sizes[key] = (info["n_train"], info["n_val"])
        n_train, n_val = sizes[key]
        measured = measure_config(config.model, config.data)
        total += config.train.epochs * (measured["train_flops"] * n_train + measured["flops"] * n_val)
    return total


def matmul_peak(seconds: float = 2.0, size: int = 1024) -> float:
    """fp32 GFLOP/s of the whole machine: a square matmul on one torch thread, times the cores (two
    threads on a shared machine would measure the other users' load, not the arithmetic)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        a, b = torch.randn(size, size), torch.randn(size, size)
        torch.mm(a, b)
        steps, started = 0, time.perf_counter()
        while time.perf_counter() - started < seconds:
            torch.mm(a, b)
            steps += 1
        return (os.cpu_count() or 1) * 2 * size**3 * steps / (time.perf_counter() - started) / 1e9
    finally:
        torch.set_num_threads(threads)


# ---------------------------------------------------------------- main


def study_overrides(name: str, args: argparse.Namespace, dataset: str | None) -> list[str]:
    overrides = {"mlp": [f"train.epochs={args.epochs}", "seeds=1"],
                 "cnn": [f"train.epochs={args.cnn_epochs}", "seeds=1", f"data.subset={args.cnn_subset}"],
                 "quickstart": []}[name]
    if dataset and name != "quickstart":
        overrides.append(f"data.dataset={dataset}")
    return overrides


def run_side(side: str, study: str, overrides: list[str], args: argparse.Namespace) -> dict:
    """One side on one study, timed from outside as a user's command would be: a fresh Python process
    for every side (interpreter, imports, data loading and training all inside the wall time)."""
    with tempfile.TemporaryDirectory(prefix=f"hl-peers-{side}-") as tmp:
        started = time.perf_counter()
        extra = {}
        if side == "hyperlab":
            workers = int(args.hyperlab_workers) if args.hyperlab_workers != "auto" else AUTO_WORKERS[study]
            run_hyperlab_command(STUDIES[study], overrides, Path(tmp), workers)
            wall = time.perf_counter() - started
            accuracies = hyperlab_accuracies(STUDIES[study], overrides, Path(tmp))
        elif side == "hyperlab-readme":
            run_readme_command(STUDIES[study], overrides, Path(tmp))
            wall = time.perf_counter() - started
            extra["report_s"] = time_report_command(STUDIES[study], overrides, Path(tmp))
            accuracies = hyperlab_accuracies(STUDIES[study], overrides, Path(tmp))
        else:
            threads = 0 if side == "optuna-mt" else args.peer_threads
            request = {"side": side, "study": study, "overrides": overrides, "workdir": tmp,
                       "threads": threads}
            done = subprocess.run([sys.executable, __file__, "--side-process", json.dumps(request)],
                                  capture_output=True, text=True)
            wall = time.perf_counter() - started
            if done.returncode != 0:
                raise RuntimeError(f"the {side} side failed ({done.returncode}):\n{done.stderr[-3000:]}")
            accuracies = {k: tuple(v) for k, v in json.loads(done.stdout.strip().splitlines()[-1]).items()}
            wait_for_exit(tmp)  # Ray's daemons outlive the driver by seconds: not in the next side's time
    return {"study": study, "side": side, "wall_s": wall, "load_average": os.getloadavg(), **extra,
            "accuracy": accuracies,
            "mean_val_accuracy": statistics.fmean(v for v, _ in accuracies.values()),
            "mean_test_accuracy": statistics.fmean(t for _, t in accuracies.values())}


def wait_for_exit(marker: str, limit: float = 60.0) -> None:
    """Wait (up to `limit` s) until no process has `marker` (a side's temporary folder, which Ray's
    daemons carry in their command lines) in its command line."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        alive = False
        for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
            try:
                alive = marker.encode() in cmdline.read_bytes()
            except OSError:
                continue
            if alive:
                break
        if not alive:
            return
        time.sleep(0.5)


def side_process(request: dict) -> int:
    """The child process of one peer side: train, then print its accuracies as one JSON line."""
    if request["threads"]:
        torch.set_num_threads(request["threads"])
    run = {"notebook": run_notebook, "optuna": run_optuna, "optuna-mt": run_optuna,
           "ray": run_ray}[request["side"]]
    accuracies = run(STUDIES[request["study"]], request["overrides"], Path(request["workdir"]))
    print(json.dumps(accuracies))
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--side-process"]:  # a peer side's own process (run_side starts it)
        return side_process(json.loads(argv[1]))
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--studies", default="mlp,cnn,quickstart",
                        help="comma-separated: " + ", ".join(STUDIES))
    parser.add_argument("--sides", default=",".join(SIDES), help="comma-separated: " + ", ".join(SIDES))
    parser.add_argument("--epochs", type=int, default=10, help="epochs per trial of the MLP ablation")
    parser.add_argument("--cnn-epochs", type=int, default=2, help="epochs per trial of the CNN dropout sweep")
    parser.add_argument("--cnn-subset", type=int, default=2000, help="training images of the CNN sweep "
                        "(data.subset: before the 10%% validation hold-out)")
    parser.add_argument("--repeats", type=int, default=1, help="rounds of every side; medians are kept")
    parser.add_argument("--peer-threads", type=int, default=1, help="torch threads of the notebook and "
                        "Optuna sides (0: torch's default, all cores)")
    parser.add_argument("--hyperlab-workers", default="auto", help="hyperlab run --workers N for every "
                        "study; auto: 2 for the CIFAR-10 studies (the setting docs/performance.md gives a "
                        "2-core machine), 1 for the quickstart (its documented command: a second worker "
                        "process costs it more start-up than it saves)")
    parser.add_argument("--synthetic", action="store_true",
                        help="random CIFAR-shaped data even when CIFAR-10 is in the cache")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    args = parser.parse_args(argv)
    studies = [s for s in args.studies.split(",") if s]
    sides = [s for s in args.sides.split(",") if s]
    unknown = [s for s in studies if s not in STUDIES] + [s for s in sides if s not in SIDES]
    if unknown:
        parser.error(f"unknown study or side: {', '.join(unknown)}")

    with tempfile.TemporaryDirectory(prefix="hl-peers-data-") as data_tmp:
        real = not args.synthetic and cifar_in_cache()
        dataset = None if real else synthetic_cifar(Path(data_tmp))
        data_note = ("CIFAR-10 from hyperlab's dataset cache" if real
                     else "SYNTHETIC random CIFAR-shaped data (CIFAR-10 not in hyperlab's cache): times only")
        print(f"data: {data_note}; torch {torch.__version__}, {torch.get_num_threads()} default threads, "
              f"{os.cpu_count()} cores; load average {os.getloadavg()}")
        overrides = {s: study_overrides(s, args, dataset) for s in studies}
        flops = {s: study_flops(STUDIES[s], overrides[s]) for s in studies}
        peaks = [matmul_peak()]
        runs: list[dict] = []
        out = args.out / f"peers-{time.strftime('%Y%m%d-%H%M%S')}.json"
        info = {"data": data_note, "real_cifar10": real, "args": {k: str(v) for k, v in vars(args).items()},
                "overrides": overrides, "torch": torch.__version__, "cores": os.cpu_count(),
                "cpu": cpu_name(),
                "date": time.strftime("%Y-%m-%d %H:%M:%S")}
        for r in range(args.repeats):
            for study in studies:
                shift = (r + studies.index(study)) % len(sides)
                for side in sides[shift:] + sides[:shift]:
                    run = run_side(side, study, overrides[study], args)
                    run["repeat"] = r
                    runs.append(run)
                    report = f"  (report {run['report_s']:.1f} s)" if "report_s" in run else ""
                    print(f"  [{r + 1}/{args.repeats}] {study:<10} {side:<9} {run['wall_s']:8.1f} s  "
                          f"val acc {run['mean_val_accuracy']:.4f}  "
                          f"test acc {run['mean_test_accuracy']:.4f}  load {run['load_average'][0]:.2f}"
                          f"{report}", flush=True)
                    save(out, {**info, "partial": True, "matmul_peak_gflops": peaks, "runs": runs,
                               "table": summarize(runs, studies, sides, flops, statistics.median(peaks))})
            peaks.append(matmul_peak())
    peak = statistics.median(peaks)
    table = summarize(runs, studies, sides, flops, peak)
    print_table(table, peak, data_note, args)
    save(out, {**info, "partial": False, "matmul_peak_gflops": peaks, "runs": runs, "table": table})
    print(f"\nsaved {out}")
    return 0


def save(path: Path, result: dict) -> None:
    """Write the results so far (after every side: a long run stopped early keeps what it measured)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.with_suffix(".tmp").write_text(json.dumps(result, indent=1))
    os.replace(path.with_suffix(".tmp"), path)


def summarize(runs: list[dict], studies: list[str], sides: list[str], flops: dict[str, float],
              peak: float) -> list[dict]:
    rows = []
    for study in studies:
        walls = {side: [r["wall_s"] for r in runs if r["study"] == study and r["side"] == side]
                 for side in sides}
        hyperlab_wall = statistics.median(walls["hyperlab"]) if walls.get("hyperlab") else None
        for side in sides:
            mine = [r for r in runs if r["study"] == study and r["side"] == side]
            if not mine:  # not run (yet)
                continue
            wall = statistics.median(walls[side])
            rows.append({
                "study": study, "side": side, "wall_s": wall,
                "min_s": min(walls[side]), "max_s": max(walls[side]),
                "n": len(mine), "x_hyperlab": wall / hyperlab_wall if hyperlab_wall else None,
                "gflops": flops[study] / wall / 1e9, "pct_peak": 100 * flops[study] / wall / 1e9 / peak,
                "mean_val_accuracy": statistics.fmean(r["mean_val_accuracy"] for r in mine),
                "mean_test_accuracy": statistics.fmean(r["mean_test_accuracy"] for r in mine),
                "load_average": [r["load_average"][0] for r in mine],
                **({"report_s": statistics.median(r["report_s"] for r in mine)}
                   if "report_s" in mine[0] else {}),
            })
    return rows


def print_table(rows: list[dict], peak: float, data_note: str, args: argparse.Namespace) -> None:
    print(f"\n{data_note}; fp32 matmul peak (1-thread peak x cores) {peak:.0f} GFLOP/s; "
          f"medians of {args.repeats} repeat(s)")
    print(f"{'study':<11}{'side':<10}{'wall s':>9}{'(min-max)':>16}{'x hyperlab':>11}{'GFLOP/s':>9}"
          f"{'% peak':>8}{'val acc':>9}{'test acc':>9}")
    for row in rows:
        ratio = f"{row['x_hyperlab']:.2f}" if row["x_hyperlab"] else "-"
        spread = f"{row['min_s']:.1f}-{row['max_s']:.1f}"
        print(f"{row['study']:<11}{row['side']:<10}{row['wall_s']:9.1f}{spread:>16}{ratio:>11}"
              f"{row['gflops']:9.2f}{row['pct_peak']:7.1f}%{row['mean_val_accuracy']:9.4f}"
              f"{row['mean_test_accuracy']:9.4f}")
    by_study: dict[str, dict[str, float]] = {}
    for row in rows:
        by_study.setdefault(row["study"], {})[row["side"]] = row["wall_s"]
    for study, walls in by_study.items():
        peers = [walls[s] for s in TUNERS if s in walls]
        if peers and "hyperlab" in walls:
            print(f"{study}: hyperlab is {min(peers) / walls['hyperlab']:.2f}x faster than the fastest of "
                  f"Optuna / Ray Tune")
        if peers and "hyperlab-readme" in walls:
            readme = next(r for r in rows if r["study"] == study and r["side"] == "hyperlab-readme")
            run_s, report_s = walls["hyperlab-readme"], readme["report_s"]
            print(f"{study}: the README's `hyperlab run` (report included) is {min(peers) / run_s:.2f}x "
                  f"faster than the fastest of Optuna / Ray Tune; `hyperlab report` alone "
                  f"{report_s:.1f} s, {100 * report_s / run_s:.0f}% of that run")


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


if __name__ == "__main__":
    raise SystemExit(main())
