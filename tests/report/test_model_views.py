"""Model views are drawn from the predictions each trial stored at its end (never from a rebuilt
model): a 2-D study trained with `bce` (one output for two classes) reports its decision boundaries."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from report_helpers import hyperlab, moons_study

from hyperlab.store import Store

BCE_2D_STUDY = moons_study("tiny-2d-bce", epochs=6, loss='loss = { name = "bce" }')


def test_a_two_dimensional_bce_study_reports_its_decision_boundaries(tmp_path: Path) -> None:
    study = tmp_path / "bce.toml"
    study.write_text(BCE_2D_STUDY)
    workspace = tmp_path / "ws"
    ran = hyperlab("run", str(study), "--workspace", str(workspace), "--quiet", "--threads", "1")
    assert ran.returncode == 0, ran.stderr
    folder = workspace / "reports" / "tiny-2d-bce"
    assert (folder / "figures" / "decision-boundaries.svg").stat().st_size > 5000
    assert "Decision boundaries" in (folder / "index.html").read_text()
    with Store.open(workspace, create=False) as store:
        trials = store.frames("tiny-2d-bce").trials
        assert len(trials) == 2
        for key in trials.trial_key:
            (stored,) = [a for a in store.artifacts(key) if a["kind"] == "predictions"]
            data = (workspace / stored["path"]).read_bytes()
            assert hashlib.sha256(data).hexdigest() == stored["sha256"]
            document = json.loads(data)
            grid = document["grid"]["predicted"]
            assert len(grid) == len(grid[0]) == document["grid"]["x"][2]
            assert {c for row in grid for c in row} <= {0, 1}  # one logit, two classes
            assert document["confusion_test"] == store.final(key)["confusion_test"]


def test_images_of_a_channel_count_imshow_cannot_colour_are_drawn_grey(tmp_path: Path) -> None:
    """An npz of (N, 1, 8, 8) arrays reads, in the Keras layout, as 1x8 images of 8 channels: the
    report drew them with imshow, which takes 1, 3 or 4 channels, and exited 1 (found by the fault
    campaign). It now draws the first channel in grey."""
    import numpy as np

    rng = np.random.default_rng(0)
    arrays = {"x_train": rng.integers(0, 256, (90, 1, 8, 8)).astype("uint8"),
              "y_train": rng.integers(0, 3, 90),
              "x_test": rng.integers(0, 256, (30, 1, 8, 8)).astype("uint8"), "y_test": rng.integers(0, 3, 30)}
    np.savez(tmp_path / "odd.npz", **arrays)
    study = tmp_path / "odd.toml"
    study.write_text('name = "odd-channels"\nseeds = 1\n[data]\ndataset = "npz:odd.npz"\nvalidation = 0.2\n'
                     '[model]\nkind = "mlp"\nhidden = [8]\n[train]\nepochs = 1\nbatch_size = 16\n')
    workspace = tmp_path / "ws"
    ran = hyperlab("run", str(study), "--workspace", str(workspace), "--quiet", "--threads", "1")
    assert ran.returncode == 0, ran.stderr
    assert (workspace / "reports" / "odd-channels" / "figures" / "predictions.svg").stat().st_size > 5000
