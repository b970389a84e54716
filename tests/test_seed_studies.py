"""Smoke runs of the shipped seed studies (issue 8): every file in studies/ except the quickstart
runs end to end through `hyperlab run`, cut down with --set (1 seed, 1 epoch, 200 training and 100
test examples), and every trial it plans within budget finishes.

Data. The studies name real datasets (cifar10, mnist, california-housing, cubic). When the shared
data folder sits next to the repository (../shared/data, as in CI and on the project machines),
the smoke runs use the real datasets: MNIST and California housing are read from it through
$HYPERLAB_DATA; CIFAR-10, kept there as WebP sheets, is turned into the Keras-layout npz by the
folder's own `prepare.py` and installed with `hyperlab datasets import` into a temporary cache
($HYPERLAB_CACHE); both check the published SHA-256s (~5-10 s). Without that folder, each real
dataset is replaced by a small random npz of the same shapes and dtypes (`--set
data.dataset=npz:...`): the pipeline is still exercised, the data are not real. `cubic` is
synthetic and always real.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from hyperlab.cli.app import main

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
SEED_STUDIES = sorted(p for p in (REPO / "studies").glob("*.toml") if p.name != "quickstart.toml")
FINISHED_OK = {"completed", "early_stopped"}

SMOKE = ["seeds=1", "train.epochs=1", "data.subset=200", "data.test_subset=100"]
"""Overrides every smoke run gets: one seed, one epoch, 200 training and 100 test examples."""


def _toml_value(value: Any) -> str:
    """`value` written as a TOML inline value, for a --set option."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(str(k))} = {_toml_value(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, str):
        return json.dumps(value)
    return repr(value)


def smoke_overrides(study: dict[str, Any]) -> list[str]:
    """SMOKE, plus shortened copies of factor levels that set their own epochs (a level's
    "train.epochs" would otherwise win over --set train.epochs=1)."""
    overrides = list(SMOKE)
    if study.get("design") == "search":  # 2 configurations, then the best and the baseline x 2 seeds
        overrides += ["search.trials=2", "search.confirm={top = 1, seeds = 2}"]
    if study.get("design") == "isolation":  # 2 configurations per level, then 2 x 2 per level
        overrides += ["isolation.trials_per_level=2", "isolation.confirm_seeds=2"]
    for i, factor in enumerate(study.get("factor", [])):
        levels = factor.get("levels") or []
        if factor.get("path") is None and any("train.epochs" in level for level in levels):
            short = [{k: (1 if k in ("train.epochs", "train.eval_every") else v) for k, v in level.items()}
                     for level in levels]
            overrides.append(f"factor.{i}.levels={_toml_value(short)}")
    return overrides


def _fake_npz(path: Path, x_shape: tuple[int, ...], regression: bool, rng: np.random.Generator) -> str:
    """A small random dataset in the Keras layout (300 train, 100 test examples)."""
    arrays = {}
    for split, n in (("train", 300), ("test", 100)):
        if regression:
            arrays[f"x_{split}"] = rng.normal(size=(n, *x_shape)).astype(np.float32)
            arrays[f"y_{split}"] = rng.normal(2.0, 1.0, size=n).astype(np.float32)
        else:
            arrays[f"x_{split}"] = rng.integers(0, 256, size=(n, *x_shape), dtype=np.uint8)
            arrays[f"y_{split}"] = np.arange(n, dtype=np.int64) % 10  # every class present
    np.savez(path, **arrays)
    return f"npz:{path}"


@pytest.fixture(scope="module")
def dataset_overrides(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """Makes the studies' datasets available (see the module docstring); returns, per dataset name,
    the `data.dataset` to use instead (empty when the real datasets are available)."""
    cache = tmp_path_factory.mktemp("hyperlab-cache")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("HYPERLAB_CACHE", str(cache))
        if (SHARED_DATA / "prepare.py").is_file():
            env.setenv("HYPERLAB_DATA", str(SHARED_DATA))
            prepared = tmp_path_factory.mktemp("prepared")
            prepare = [sys.executable, str(SHARED_DATA / "prepare.py"), str(prepared), "cifar10"]
            subprocess.run(prepare, check=True, capture_output=True, timeout=300)
            # `hyperlab datasets import`: the documented way to install an npz into the cache
            assert exit_code(["datasets", "import", "cifar10", str(prepared / "cifar10.npz")]) == 0
            (prepared / "cifar10.npz").unlink()
            yield {}
        else:
            env.delenv("HYPERLAB_DATA", raising=False)
            rng = np.random.default_rng(0)
            yield {
                "cifar10": _fake_npz(cache / "cifar10.npz", (32, 32, 3), False, rng),
                "mnist": _fake_npz(cache / "mnist.npz", (28, 28), False, rng),
                "california-housing": _fake_npz(cache / "california.npz", (8,), True, rng),
            }


def exit_code(args: list[str]) -> int:
    """`hyperlab ARGS` in this process (one torch import for all studies); its exit code."""
    try:
        main(args)
    except SystemExit as exc:
        return 0 if exc.code is None else exc.code if isinstance(exc.code, int) else 1
    return 0


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """`hyperlab ARGS` in this process; exit code and stdout (plus stderr when it failed)."""
    code = exit_code(args)
    out = capsys.readouterr()
    return code, out.out + (out.err if code else "")


@pytest.mark.timeout(120)
@pytest.mark.parametrize("study_file", SEED_STUDIES, ids=[p.stem for p in SEED_STUDIES])
def test_seed_study_runs_end_to_end(study_file: Path, dataset_overrides: dict[str, str], tmp_path: Path,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    study = tomllib.loads(study_file.read_text(encoding="utf-8"))
    overrides = smoke_overrides(study)
    dataset = study.get("data", {}).get("dataset", "digits")
    if dataset in dataset_overrides:
        overrides.append(f"data.dataset={dataset_overrides[dataset]}")
    args = ["run", str(study_file), "--workspace", str(tmp_path / "runs"), "--threads", "1",
            "--no-report", "--jsonl"]
    for option in overrides:
        args += ["--set", option]

    code, out = run_cli(args, capsys)

    assert code == 0, out
    events = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    started = next(e for e in events if e["event"] == "run_started")
    finished = [e for e in events if e["event"] == "trial_finished"]
    ok = FINISHED_OK
    if study.get("design") == "search":  # configurations are proposed at run time (none planned)
        assert len({e["key"] for e in finished if e["seed"] == 0}) == 2
        assert len([e for e in finished if e["seed"] != 0]) == 4  # (1 best + the baseline) x 2 seeds
        ok = FINISHED_OK | {"pruned"}
    elif study.get("design") == "isolation":  # searched at run time too: nothing is planned up front
        levels = len(next(f for f in study["factor"] if f.get("role") == "scientific")["levels"])
        assert len({e["key"] for e in finished if e["seed"] == 0}) == 2 * levels
        confirmed = [e for e in finished if e["seed"] != 0]  # (re-tuned + fixed) x 2 seeds per level
        assert sorted(e["seed"] for e in confirmed) == [1] * (2 * levels) + [2] * (2 * levels)
    else:
        assert started["to_train"] > 0
        assert len(finished) == started["to_train"]
    failures = {e["variant"]: (e["status"], e["error"]) for e in finished if e["status"] not in ok}
    assert not failures


def test_lenet_budget_rejects_the_267530_parameter_variant_before_training(
        dataset_overrides: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["plan", str(REPO / "studies" / "cifar10-lenet-budget.toml"), "--json",
            "--workspace", str(tmp_path / "runs")]
    if "cifar10" in dataset_overrides:
        args += ["--set", f"data.dataset={dataset_overrides['cifar10']}"]
    code, out = run_cli(args, capsys)
    assert code == 0, out
    variants = json.loads(out)["variants"]
    over = {v["name"]: v["params"] for v in variants if not v["budget_ok"]}
    assert over == {"widths=32/64/128/64": 267_530}
    params = {v["name"]: v["params"] for v in variants}
    assert params["LeNet batch size=4"] == 62_006
    assert params["widths=25/50/100/50"] == 163_860
    assert params["baseline"] == 164_310


@pytest.mark.parametrize("study_file", SEED_STUDIES, ids=[p.stem for p in SEED_STUDIES])
def test_each_seed_study_has_its_docs_page(study_file: Path) -> None:
    name = tomllib.loads(study_file.read_text(encoding="utf-8"))["name"]
    assert name == study_file.stem
    page = REPO / "docs" / "studies" / f"{name}.md"
    assert page.is_file(), f"{study_file.name} has no docs page {page.relative_to(REPO)}"
    text = page.read_text(encoding="utf-8")
    for section in ("## Question", "## Deviations", "## Result", "## Verdicts"):
        assert section in text, f"{page.name}: missing {section!r}"
