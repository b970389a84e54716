"""The data's contents are part of every trial's key: a changed npz or image folder makes exactly
the trials that read it pending again, and `hyperlab plan` says why. Relative data paths resolve
against the study file's folder."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

import hyperlab
from hyperlab.data.config import DataConfig
from hyperlab.data.fingerprint import data_fingerprint
from hyperlab.spec import load_study

STUDY = """
name = "fp"
seeds = 1
[data]
dataset = "{base}"
validation = 0.25
[model]
kind = "mlp"
hidden = [4]
[train]
epochs = 1
batch_size = 16
[[factor]]
name = "data"
path = "data.dataset"
levels = ["{other}"]
"""


@pytest.fixture(autouse=True)
def private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("HYPERLAB_CACHE", str(tmp_path / "cache"))
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


def write_npz(path: Path, flip: bool = False) -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, 4)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64)
    np.savez(path, x_train=x, y_train=1 - y if flip else y, x_test=x[:20], y_test=y[:20])


def write_folder(root: Path, classes: tuple[str, ...]) -> None:
    from PIL import Image

    for c, name in enumerate(classes):
        folder = root / "train" / name
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(8):
            pixels = np.full((6, 6), 30 * c + i, dtype=np.uint8)
            Image.fromarray(pixels, mode="L").save(folder / f"{i}.png")


def plan_cli(study: Path, workspace: Path) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "hyperlab", "plan", str(study), "--workspace", str(workspace), "--json"]
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


def run_and_replan(study: Path, workspace: Path, change) -> dict[str, dict]:
    """Run the study, apply `change`, and return the plan's trials by variant (with their status)."""
    summary = hyperlab.Study.load(study).run(workspace, progress="quiet", report=False)
    assert summary.exit_code == 0 and summary.statuses == {"completed": 2}
    change()
    planned = plan_cli(study, workspace)
    assert planned.returncode == 0, planned.stderr
    return {t["variant"]: t for t in json.loads(planned.stdout)["trials"]}


def test_flipping_the_labels_of_an_npz_makes_exactly_its_trials_pending(tmp_path: Path) -> None:
    write_npz(tmp_path / "a.npz")
    write_npz(tmp_path / "b.npz")
    study = tmp_path / "study.toml"
    study.write_text(STUDY.format(base="npz:a.npz", other="npz:b.npz"))  # relative to the study's folder
    trials = run_and_replan(study, tmp_path / "ws", lambda: write_npz(tmp_path / "a.npz", flip=True))
    assert trials["baseline"]["status"] == "not started"
    assert trials["baseline"]["pending_because"] == "data changed since these trials ran"
    assert trials[f"data=npz:{tmp_path / 'b.npz'}"]["status"] == "completed"
    assert "pending_because" not in trials[f"data=npz:{tmp_path / 'b.npz'}"]


def test_a_new_class_folder_makes_exactly_its_trials_pending(tmp_path: Path) -> None:
    write_folder(tmp_path / "pets", ("cat", "dog"))
    write_folder(tmp_path / "toys", ("ball", "car"))
    study = tmp_path / "study.toml"
    study.write_text(STUDY.format(base="folder:pets", other="folder:toys"))
    trials = run_and_replan(study, tmp_path / "ws", lambda: write_folder(tmp_path / "pets", ("cow",)))
    assert trials["baseline"]["status"] == "not started"
    assert trials["baseline"]["pending_because"] == "data changed since these trials ran"
    assert trials[f"data=folder:{tmp_path / 'toys'}"]["status"] == "completed"
    text = subprocess.run([sys.executable, "-m", "hyperlab", "plan", str(study), "--workspace",
                           str(tmp_path / "ws")], capture_output=True, text=True, timeout=120).stdout
    assert "data changed since these trials ran: baseline seed 0" in text


def test_relative_paths_resolve_against_the_study_file_not_the_current_folder(tmp_path: Path,
                                                                              monkeypatch) -> None:
    (tmp_path / "studies").mkdir()
    write_npz(tmp_path / "studies" / "a.npz")
    study = tmp_path / "studies" / "s.toml"
    study.write_text(STUDY.format(base="npz:a.npz", other="npz:../b.npz"))
    monkeypatch.chdir(tmp_path)
    loaded = load_study(study)
    assert loaded.data.dataset == f"npz:{tmp_path / 'studies' / 'a.npz'}"
    assert loaded.factor[0].levels == [f"npz:{tmp_path / 'b.npz'}"]


def test_the_fingerprint_of_an_unchanged_file_is_served_from_the_cache(tmp_path: Path) -> None:
    write_npz(tmp_path / "a.npz")
    cfg = DataConfig(dataset=f"npz:{tmp_path / 'a.npz'}")
    first = data_fingerprint(cfg)
    cache = Path(os.environ["HYPERLAB_CACHE"]) / "datasets" / "fingerprints.json"
    entries = json.loads(cache.read_text())
    (entry,) = entries.values()
    entry["value"] = {"x_train": "remembered"}  # what the cache says wins while size and mtime hold
    cache.write_text(json.dumps(entries))
    assert data_fingerprint(cfg) != first
    write_npz(tmp_path / "a.npz", flip=True)
    os.utime(tmp_path / "a.npz", ns=(1, 1))  # another mtime: hashed again
    assert data_fingerprint(cfg) not in (first, data_fingerprint(DataConfig(dataset="digits")))


def test_generated_sets_are_fingerprinted_by_their_parameters() -> None:
    moons = data_fingerprint(DataConfig(dataset="moons"))
    assert moons == data_fingerprint(DataConfig(dataset="moons"))
    assert moons != data_fingerprint(DataConfig(dataset="moons", n=300))
