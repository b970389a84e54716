"""Grid designs: cell names parse back into levels (labels may contain ", "), main effects average
over the other factors, and the report renders a grid without error."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from synthetic_frames import BASE_CONFIG, curve_rows

from hyperlab.analysis import analyze, cell_levels
from hyperlab.analysis.results import VariantInfo
from hyperlab.store.frames import StudyFrames

FACTORS = "learning rate, hidden"
LRS, WIDTHS = ["0.01", "0.1"], ["[8]", "[64, 64]"]
CEILING = {("0.01", "[8]"): 0.70, ("0.01", "[64, 64]"): 0.80, ("0.1", "[8]"): 0.75, ("0.1", "[64, 64]"): 0.95}


def _variant(name: str, factor: str | None) -> VariantInfo:
    return VariantInfo(name, factor, None, False, 0, None, None, True, "")


def test_cell_names_parse_even_with_commas_in_labels():
    v = _variant("learning rate=0.1, hidden=[64, 64]", FACTORS)
    assert cell_levels(v) == {"learning rate": "0.1", "hidden": "[64, 64]"}
    assert cell_levels(_variant("baseline", None)) is None
    assert cell_levels(_variant("something else", FACTORS)) is None


def grid_frames(seeds=(0, 1, 2)) -> StudyFrames:
    rng = np.random.default_rng(3)
    trials, epochs, variants = [], [], []
    for order, (lr, width) in enumerate((lr, w) for lr in LRS for w in WIDTHS):
        name = f"learning rate={lr}, hidden={width}"
        variants.append({"variant": name, "factor": FACTORS, "level": f"{lr}, {width}",
                         "is_baseline": (lr, width) == ("0.01", "[8]"), "params": 100, "macs": 100,
                         "flops": 200, "budget_ok": True, "budget_reason": "", "order": order})
        for seed in seeds:
            key = f"{order}-{seed}"
            # noise 0 and no overfitting: the best validation accuracy is the ceiling at the last epoch
            epochs += curve_rows(key, name, seed, epochs=200, ceiling=CEILING[(lr, width)], tau=5.0,
                                 onset=None, noise=0.0, rng=rng)
            trials.append({"trial_key": key, "variant": name, "factor": FACTORS, "level": f"{lr}, {width}",
                           "is_baseline": (lr, width) == ("0.01", "[8]"), "seed": seed, "status": "completed",
                           "stop_reason": "", "error": None, "params": 100, "macs": 100, "flops": 200,
                           "train_flops": 600, "seconds": 1.0, "best_epoch": 200,
                           "config": json.dumps(BASE_CONFIG)})
    study = {"name": "grid", "description": "", "design": "grid", "seeds": list(seeds),
             "data": {"dataset": "moons"}, "validation_is_test": False, "running": False}
    return StudyFrames(pd.DataFrame(trials), pd.DataFrame(epochs), pd.DataFrame(), pd.DataFrame(variants),
                       study)


def test_main_effects_average_over_the_other_factor(tmp_path):
    a = analyze(grid_frames())
    effects = {m.factor: dict(zip(m.levels, m.estimates, strict=True)) for m in a.main_effects}
    ceiling = {k: v * (1 - np.exp(-200 / 5.0)) for k, v in CEILING.items()}
    assert effects["learning rate"]["0.1"].mean == pytest.approx((ceiling[("0.1", "[8]")]
                                                                  + ceiling[("0.1", "[64, 64]")]) / 2)
    assert effects["hidden"]["[8]"].mean == pytest.approx((ceiling[("0.01", "[8]")]
                                                           + ceiling[("0.1", "[8]")]) / 2)
    assert a.baseline == "learning rate=0.01, hidden=[8]"
    assert [f.name for f in a.factors] == ["learning rate x hidden"]
    from hyperlab.report import write_report

    page = write_report(a, tmp_path).read_text()
    assert "Main effects" in page
    assert "learning rate = 0.1 gave the highest mean best validation accuracy" in page
