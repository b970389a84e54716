"""The report built from a realistic hand-built frame set: every section and figure, numbers that
match the analysis, no placeholder text, one self-contained HTML file that Chromium renders cleanly."""

from __future__ import annotations

import base64
import html
import re

import pytest
from report_helpers import load_in_chromium
from synthetic_frames import ablation_frames, regression_frames

from hyperlab.analysis import analyze
from hyperlab.report import fmt, write_findings, write_report

SECTIONS = ["How to read this report", "Summary", "Findings by factor", "Ranking of the variants",
            "Paired comparisons with the baseline", "Learning-curve diagnostics",
            "Per-class effects and confusion matrices", "Cost and the Pareto front", "Trained models",
            "Excluded trials", "Methods"]
FIGURES = ["curves-learning-rate", "curves-dropout", "curves-width", "ranking", "per-class", "confusion",
           "cost"]
PLACEHOLDERS = re.compile(r"TODO|\b(nan|NaN|None|undefined|inf)\b|\{\{|\}\}|\{%")


@pytest.fixture(scope="module")
def analysis():
    return analyze(ablation_frames(failed=("dropout=0.5", 2), validation_is_test=True))


@pytest.fixture(scope="module")
def report(analysis, tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    return write_report(analysis, out)


def _text_of(html: str) -> str:
    """The page's text without embedded images (base64 can contain any letters)."""
    return re.sub(r'src="data:[^"]*"', 'src=""', html)


def test_every_section_and_figure_is_written(report):
    html = report.read_text()
    markdown = (report.parent / "report.md").read_text()
    for title in SECTIONS:
        assert f">{title}</h" in html, title
        assert re.search(rf"^#+ {re.escape(title)}$", markdown, re.MULTILINE), title
    for name in FIGURES:  # each figure drawn once, in one format: SVG (none of these is dense)
        assert (report.parent / "figures" / f"{name}.svg").read_text().lstrip().startswith("<?xml")
        assert not (report.parent / "figures" / f"{name}.png").exists()
        assert f'id="figure-{name}"' in html
        assert f"](figures/{name}.svg)" in markdown


def test_no_placeholder_text(report):
    for text in (_text_of(report.read_text()), (report.parent / "report.md").read_text()):
        found = PLACEHOLDERS.findall(text)
        assert not found, found


def test_html_is_self_contained(report):
    page = report.read_text()
    assert "<script" not in page and "<link" not in page
    assert not re.search(r'(src|href)="(https?:)?//', page)
    images = re.findall(r'<img src="data:(image/[a-z+]+);base64,([^"]+)"', page)
    assert len(images) == len(FIGURES)
    for kind, payload in images:
        data = base64.b64decode(payload)
        assert data.startswith(b"\x89PNG") if kind == "image/png" else b"<svg" in data[:2000]


def test_warnings_are_shown(report):
    page = report.read_text()
    assert "selection bias" in page
    assert "dropout=0.5 (seed 2)" in page
    assert "Fewer than 3 usable seeds" in page


def test_findings_carry_the_analysis_numbers(analysis, report):
    findings = write_findings(analysis)
    lr = next(f for f in findings.factors if f.factor == "learning rate")
    paragraph = " ".join(lr.sentences)
    c = analysis.comparison("learning rate=0.001", "best_val_accuracy")
    assert not c.significant and c.too_few_seeds  # 3 seeds: the exact test cannot reach the family's alpha
    assert paragraph.startswith("Lowering the learning rate from 0.01 to 0.001, best validation accuracy: "
                                f"too few seeds to test (needs at least {c.seeds_to_detect}): "
                                f"{fmt.delta(analysis.primary, c.difference.mean)}, "
                                f"{fmt.ci(analysis.primary, c.difference, as_delta=True)}, exact sign-flip")
    assert f"Holm-adjusted {fmt.p_value(c.p_holm)} in a family of {c.family}, n = 3" in paragraph
    # overfitting is descriptive, labelled so, with its n
    assert "Descriptive (no test; n = 3 seeds, baseline n = 3): overfitting onset found on 0 of 3 seeds" \
        in paragraph
    assert "volatile" not in paragraph and "steadier" not in paragraph  # untested ratios are gone
    dropout = " ".join(next(f for f in findings.factors if f.factor == "dropout").sentences)
    assert "descriptive, not enough seeds for a test" in dropout and "n = 2" in dropout
    # the factors are ranked by their largest absolute paired difference
    ranked = [abs(f.difference.mean) for f in findings.factors if f.difference is not None]
    assert ranked == sorted(ranked, reverse=True)
    assert paragraph in html.unescape(report.read_text())


def test_the_page_states_how_to_read_it_and_its_holm_family(report):
    page = html.unescape(report.read_text())
    assert '<section id="how-to-read" class="box">' in report.read_text()  # drawn as a box
    assert ">How to read this report</h" in report.read_text()
    assert ("Holm family (declared before any result): every comparison of a variant with the baseline on "
            "the best validation accuracy and on the test accuracy") in page
    assert "so no difference can be declared below" in page and "too few seeds to test" in page
    assert "from the final epoch's weights" in page


def test_regression_report_has_no_accuracy_and_no_placeholders(tmp_path):
    index = write_report(analyze(regression_frames()), tmp_path)
    page = index.read_text()
    assert "best validation loss" in page and "test MSE" in page
    assert "Per-class effects" not in page
    assert not PLACEHOLDERS.findall(_text_of(page))
    assert (tmp_path / "figures" / "curves-learning-rate.svg").exists()


def test_chromium_renders_the_page_without_console_errors(report, tmp_path):
    screenshot = tmp_path / "report.png"
    console = load_in_chromium(report, screenshot, tmp_path / "profile")
    assert console == []
    assert screenshot.read_bytes().startswith(b"\x89PNG") and screenshot.stat().st_size > 50_000


def test_a_study_with_nothing_finished_still_gets_a_report(tmp_path):
    frames = ablation_frames(pending=("baseline", 0))
    frames.trials["status"] = "pending"
    frames.study["running"] = True
    page = write_report(analyze(frames), tmp_path).read_text()
    assert "still running" in page and "0 of 15 trials" in page
    assert "has no finished trials yet" in page
    assert not PLACEHOLDERS.findall(_text_of(page))


def test_a_labelled_level_of_a_descriptively_named_factor_names_its_key():
    from hyperlab.analysis.results import Change, VariantInfo
    from hyperlab.report.findings import _change_phrase

    def variant(factor, level, key, before, after):
        return VariantInfo(name=f"{factor}={level}", factor=factor, level=level, is_baseline=False, order=1,
                           params=None, flops=None, budget_ok=True, budget_reason="",
                           changes=(Change(key, before, after),))

    longer = variant("longer training", "15 epochs", "train.epochs", 2, 15)
    assert _change_phrase(longer, "longer training") == \
        "Raising epochs from 2 to 15 (longer training: 15 epochs)"
    lr = variant("learning rate", "0.05", "train.optimizer.lr", 0.01, 0.05)  # unlabelled: the factor's name
    assert _change_phrase(lr, "learning rate") == "Raising the learning rate from 0.01 to 0.05"
    epochs = variant("epochs", "long", "train.epochs", 2, 15)  # the factor is named for its key
    assert _change_phrase(epochs, "epochs") == "Raising the epochs from 2 to 15"


def test_a_baseline_only_study_gets_its_curves_and_no_empty_sections(tmp_path):
    frames = ablation_frames()
    for name in ("trials", "epochs", "finals", "variants"):
        table = getattr(frames, name)
        setattr(frames, name, table[table["variant"] == "baseline"].reset_index(drop=True))
    analysis = analyze(frames)
    assert not analysis.factors and not analysis.comparisons
    page = write_report(analysis, tmp_path).read_text()
    text = _text_of(page)
    assert "This study has no factors" in text and "nothing to compare" in text
    summary = write_findings(analysis).summary
    assert summary[0] == "Descriptive: one variant, 3 usable trials (n = 3 seeds); no factor is varied, so " \
                         "there is no comparison."
    assert (tmp_path / "figures" / "curves-baseline.svg").is_file()
    assert "Learning curves: baseline" in page
    assert "<th>verdict</th>" not in page  # no header-only comparisons table
    assert not PLACEHOLDERS.findall(text)


def test_methods_are_self_contained(report):
    """A report is read where hyperlab's docs/ is not (a wheel ships none): it points at no file of
    the source tree and defines every kind of number it shows."""
    for text in (_text_of(report.read_text()), (report.parent / "report.md").read_text()):
        assert "docs/" not in text
        methods = text[text.index("Methods"):]
        for term in ("Best epoch", "Statistics", "Which trials count", "Times:", "Generalization gap"):
            assert term in methods, term
