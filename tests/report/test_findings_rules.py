"""Findings a statistician would sign (issue 15): exact ties, "no difference detected", descriptive
labels, collapse versus overfitting, the figure fixes, and a real quickstart report whose every
numeric sentence carries its n and a CI or the word "descriptive"."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from report_helpers import hyperlab
from synthetic_frames import ablation_frames, count_frames, rising

from hyperlab.analysis import PerClassEffects, analyze, paired_compare
from hyperlab.report import write_findings, write_report
from hyperlab.report.figures import colour_limit, jittered, significant_cells

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def counted():
    collapse_train = [0.5, 0.7, 0.82, 0.6, 0.5, 0.48]
    return analyze(count_frames({
        "baseline": {"val": [rising(130)] * 3},  # validation loss falls to the end: onset undetectable
        "width=plus one": {"val": [rising(131)] * 3},
        "width=same": {"val": [rising(130)] * 3},
        "depth=varied": {"val": [rising(133), rising(132), rising(131)]},  # +3, +2, +1 examples
        "learning rate=huge": {"val": [rising(120)] * 3, "train": [collapse_train] * 3,
                               "val_loss": [[1.0, 0.6, 0.4, 0.9, 1.2, 1.3]] * 3},
    }))


def _paragraph(findings, factor: str) -> str:
    return " ".join(next(f for f in findings.factors if f.factor == factor).sentences)


def test_one_example_on_every_seed_reads_as_exact_with_no_variance(counted):
    width = _paragraph(write_findings(counted), "width")
    assert "too few seeds to test (needs at least 9): +1 example (+0.7 points) on all 3 seeds (no CI: no " \
           "variance; exact sign-flip permutation test p = 0.25" in width
    assert "no difference on any seed (the same value on all 3 seeds" in width
    assert "p < 0.001" not in width


def test_non_significant_results_read_no_difference_detected_with_sensitivity(counted):
    depth = _paragraph(write_findings(counted), "depth")
    assert re.search(r"too few seeds to test \(needs at least \d+\): \+1\.5 points, 95% CI -?\d+\.\d to "
                     r"\d+\.\d, exact sign-flip permutation test p = [\d.]+, Holm-adjusted [\d.]+ in a "
                     r"family of \d+, n = 3; at this spread 3 seeds detect .* at the family's alpha", depth)
    assert "differs" not in depth
    assert "changed" not in depth


def test_a_collapse_is_reported_as_collapse_and_an_undetectable_onset_is_not_claimed(counted):
    lr = _paragraph(write_findings(counted), "learning rate")
    assert "training collapsed on 3 of 3 seeds" in lr and "a collapse, not overfitting" in lr
    assert "where the baseline did not" not in lr and "overfit from" not in lr


def test_factors_are_ranked_by_the_largest_absolute_paired_difference(counted):
    findings = write_findings(counted)
    assert [f.factor for f in findings.factors] == ["learning rate", "depth", "width"]
    ranking = next(line for line in findings.summary if line.startswith("Descriptive ordering"))
    assert "learning rate: -10 examples (-7.4 points) for huge" in ranking
    assert "\u2020" in ranking  # the collapse's difference survives Holm: marked


def test_no_variant_is_named_best_on_a_difference_that_is_not_detected(counted):
    summary = " ".join(write_findings(counted).summary)
    assert "not distinguishable from the baseline" in summary and "so no variant is named the best" in summary


def test_per_class_stars_only_tested_cells_and_the_colour_scale_is_robust():
    a = analyze(ablation_frames(seeds=tuple(range(14))))
    stars = significant_cells(a.per_class)
    for r, v in enumerate(a.per_class.variants):
        for c, test in enumerate(a.per_class.tests[v]):
            assert stars[r, c] == (test.p_holm is not None and test.p_holm < 0.05)
    assert stars.any()
    six = {s: 0.5 for s in range(6)}
    constant = replace(paired_compare("v", "class 0", six, {s: 0.6 for s in range(6)}, total=10), p_holm=0.03)
    assert constant.significant and constant.test == "exact sign-flip permutation test"
    one_cell = PerClassEffects(("0",), ("v",), {"v": (constant.difference,)}, (constant.difference,),
                               tests={"v": (constant,)})
    assert significant_cells(one_cell).all()  # the exact test: a constant difference can be shown
    matrix = np.array([[1.0, -2.0, 0.5, 1.5] * 5, [-95.7] + [0.2, 0.1, -0.3] * 6 + [0.4]])
    assert colour_limit(matrix) < 10  # one -95.7 column does not wash out every other cell


def test_per_class_cells_never_print_negative_zero(tmp_path):
    from hyperlab.report.figures import cell_text

    assert cell_text(-0.04) == "0.0" and cell_text(0.04) == "0.0" and cell_text(-1.26) == "-1.3"


def test_cost_points_sharing_a_cost_are_spread_and_the_confusion_title_is_not_doubled(tmp_path):
    x = jittered([4810.0] * 7 + [8970.0], log=False)
    assert len(set(x[:7])) == 7 and max(x[:7]) - min(x[:7]) < 0.05 * (8970 - 4810) * 2 + 1
    assert jittered([10.0, 10.0, 1000.0], log=True)[0] != jittered([10.0, 10.0, 1000.0], log=True)[1]
    a = analyze(ablation_frames())
    page = write_report(a, tmp_path)
    svg = (page.parent / "figures" / "confusion.svg").read_text()
    assert "baseline: baseline" not in svg
    cost = (page.parent / "figures" / "cost.svg").read_text()
    assert cost.count("Pareto front") == 1  # one legend for every panel


def _sentences(text: str) -> list[str]:
    """Sentences of the findings: split at '. ' (decimals such as 0.5 have no space after the dot)."""
    return [s.strip() for s in re.split(r"(?<=[.])\s+(?=[A-Z])", text) if s.strip()]


def test_every_numeric_sentence_of_a_real_quickstart_report_has_n_and_a_ci_or_descriptive(tmp_path):
    workspace = tmp_path / "ws"
    proc = hyperlab("run", str(ROOT / "studies" / "quickstart.toml"), "--set", "train.epochs=3",
                    "--workspace", str(workspace), "--quiet", "--threads", "1", timeout=600)
    assert proc.returncode == 0, proc.stderr
    markdown = (workspace / "reports" / "quickstart" / "report.md").read_text()
    start, end = markdown.index("## Summary"), markdown.index("## Ranking of the variants")
    checked = 0
    for line in markdown[start:end].splitlines():
        if not line.strip() or line.startswith(("#", "!", "*Learning curves")):
            continue
        for sentence in _sentences(line.lstrip("- ")):
            if not re.search(r"\d", sentence) or sentence.startswith("Factors are ordered"):
                continue
            checked += 1
            assert "n = " in sentence, sentence
            assert "CI" in sentence or "descriptive" in sentence.lower(), sentence
    assert checked >= 8
