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


# --- a 3 x 3 grid whose best learning rate rises with the batch size, without a baseline cell -------
LR3, BATCH3 = ["0.01", "0.05", "0.2"], ["16", "64", "256"]
# accuracy ceilings: the best lr moves up with the batch (an interaction, not two additive effects)
CEILING3 = {("0.01", "16"): 0.98, ("0.01", "64"): 0.95, ("0.01", "256"): 0.70,
            ("0.05", "16"): 0.96, ("0.05", "64"): 0.97, ("0.05", "256"): 0.90,
            ("0.2", "16"): 0.80, ("0.2", "64"): 0.93, ("0.2", "256"): 0.96}
GRID3 = "learning rate, batch size"


def grid3_frames(seeds=(0, 1, 2), baseline_cell: tuple[str, str] | None = None) -> StudyFrames:
    """A 3 x 3 grid with per-seed noise; `baseline_cell` marks the cell equal to the file's baseline."""
    rng = np.random.default_rng(7)
    trials, epochs, variants = [], [], []
    for order, (lr, batch) in enumerate((lr, b) for lr in LR3 for b in BATCH3):
        name = f"learning rate={lr}, batch size={batch}"
        marked = (lr, batch) == baseline_cell
        variants.append({"variant": name, "factor": GRID3, "level": f"{lr}, {batch}", "is_baseline": marked,
                         "params": 100, "macs": 100, "flops": 200, "budget_ok": True, "budget_reason": "",
                         "order": order})
        for seed in seeds:
            key = f"{order}-{seed}"
            ceiling = CEILING3[(lr, batch)] - 0.01 * rng.random()
            epochs += curve_rows(key, name, seed, epochs=30, ceiling=ceiling, tau=2.0, onset=None, noise=0.0,
                                 rng=rng)
            trials.append({"trial_key": key, "variant": name, "factor": GRID3, "level": f"{lr}, {batch}",
                           "is_baseline": marked, "seed": seed, "status": "completed", "stop_reason": "",
                           "error": None, "params": 100, "macs": 100, "flops": 200, "train_flops": 600,
                           "seconds": 1.0, "best_epoch": 30, "config": json.dumps(BASE_CONFIG)})
    spec = {"factor": [{"name": "learning rate", "path": "train.optimizer.lr"},
                       {"name": "batch size", "path": "train.batch_size"}],
            "train": {"batch_size": 32, "optimizer": {"name": "sgd", "lr": 0.05}}}
    study = {"name": "grid3", "description": "", "design": "grid", "seeds": list(seeds), "spec": spec,
             "data": {"dataset": "moons"}, "validation_is_test": False, "running": False}
    return StudyFrames(pd.DataFrame(trials), pd.DataFrame(epochs), pd.DataFrame(), pd.DataFrame(variants),
                       study)


def test_a_grid_without_a_baseline_cell_has_no_reference_and_never_calls_its_first_cell_the_baseline(
        tmp_path):
    a = analyze(grid3_frames())
    assert a.baseline is None and a.comparisons == ()
    assert a.grid.baseline_cell is None
    assert a.grid.baseline_values == {"learning rate": "0.05", "batch size": "32"}
    from hyperlab.report import write_report

    page = write_report(a, tmp_path).read_text()
    markdown = (tmp_path / "report.md").read_text()
    assert "(baseline)" not in page and "(baseline)" not in markdown
    assert "compared with 'learning rate=0.01" not in markdown
    assert "No cell of this grid is the study file's baseline (the file's baseline has learning rate = " \
           "0.05, batch size = 32)" in markdown
    heatmap = tmp_path / "figures" / "grid-learning-rate-x-batch-size.svg"  # drawn once, as SVG
    assert heatmap.read_text().lstrip().startswith("<?xml")
    assert "## The grid" in markdown and "Heatmap: learning rate x batch size" in markdown


def test_the_two_way_anova_finds_the_interaction_and_the_best_level_moves_with_the_other_factor(tmp_path):
    a = analyze(grid3_frames())
    pair = a.grid.pairs[0]
    assert (pair.rows, pair.cols) == ("learning rate", "batch size")
    assert pair.anova.n == 27
    inter = pair.anova.interaction
    assert inter.term == "learning rate x batch size" and inter.df == 4 and inter.p < 1e-6
    assert pair.anova.residual.df == 27 - 9
    assert [(given, best) for given, best, _ in pair.best_row_per_col.rows] == [
        ("16", "0.01"), ("64", "0.05"), ("256", "0.2")]
    # the cell estimate is the mean over the cell's seeds
    cell = pair.cells[0][2]
    values = [d.best_val_accuracy for d in a.trials if d.variant == "learning rate=0.01, batch size=256"]
    assert cell.mean == pytest.approx(np.mean(values)) and cell.n == 3
    from hyperlab.report.findings import write_findings

    summary = " ".join(write_findings(a).summary)
    assert "The best learning rate rises with the best batch size" not in summary
    assert "The best learning rate rises with the batch size: 0.01 at 16" in summary
    assert "the interaction is significant (F(4, 18) = " in summary
    assert "n = 27 per-seed values" in summary


def test_anova_with_one_seed_per_cell_says_why_it_is_not_run():
    a = analyze(grid3_frames(seeds=(0,)))
    anova = a.grid.pairs[0].anova
    assert anova.terms == () and "at least 2 seeds in every cell" in anova.note


def test_a_grid_with_the_baseline_cell_compares_with_it_and_explains_unadjusted_intervals(tmp_path):
    a = analyze(grid3_frames(baseline_cell=("0.05", "16")))
    assert a.baseline == "learning rate=0.05, batch size=16"
    assert a.grid.baseline_cell == a.baseline
    from hyperlab.report.findings import write_findings

    summary = write_findings(a).summary
    assert any(s.startswith("The study file's baseline is the cell learning rate=0.05, batch size=16")
               for s in summary)


def test_a_three_factor_grid_fits_each_pair_with_the_third_as_a_main_effect():
    from hyperlab.analysis.grid import two_way_anova

    rng = np.random.default_rng(0)
    rows = [{"a": a, "b": b, "c": c, "_seed": s, "_value": (1.0 if (a, b) == ("x", "p") else 0.0)
             + 0.5 * (c == "u") + 0.05 * rng.standard_normal()}
            for a in "xy" for b in "pq" for c in "uv" for s in range(3)]
    anova = two_way_anova(rows, "a", "b", ("c",))
    assert anova.formula == "value ~ C(a) * C(b) + C(c)" and anova.n == 24
    terms = {t.term: t for t in anova.terms}
    assert set(terms) == {"a", "b", "c", "a x b", "residual"}
    assert terms["a x b"].p < 1e-6 and terms["c"].p < 1e-6 and terms["residual"].df == 24 - 5
