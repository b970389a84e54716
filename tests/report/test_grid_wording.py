"""The grid's sentences (best level trends) and the note that explains an unadjusted CI excluding zero
beside "no difference survives Holm"."""

from __future__ import annotations

from hyperlab.analysis.grid import BestLevels
from hyperlab.analysis.results import MetricInfo
from hyperlab.analysis.stats import estimate, paired_compare, with_holm
from hyperlab.report.findings import _unadjusted_note
from hyperlab.report.grid import best_sentence

ACC = MetricInfo("best_val_accuracy", "best validation accuracy", True, True)


def _cell(mean: float):
    return estimate([mean - 0.01, mean, mean + 0.01])


def test_best_level_trends_are_worded_from_numeric_levels_in_numeric_order():
    rising = BestLevels("learning rate", "batch size",
                        (("256", "0.2", _cell(0.9)), ("16", "0.01", _cell(0.98)),
                         ("64", "0.05", _cell(0.97))))
    text = best_sentence(ACC, rising)
    assert text.startswith("The best learning rate rises with the batch size: 0.01 at 16 (98.0%")
    assert "n = 3 seeds per cell" in text
    falling = BestLevels("lr", "batch", (("16", "0.2", _cell(0.9)), ("64", "0.01", _cell(0.9))))
    assert best_sentence(ACC, falling).startswith("The best lr falls as the batch rises")
    same = BestLevels("lr", "batch", (("16", "0.2", _cell(0.9)), ("64", "0.2", _cell(0.9))))
    assert best_sentence(ACC, same).startswith("The best lr is 0.2 at every batch")
    words = BestLevels("activation", "batch", (("16", "relu", _cell(0.9)), ("64", "tanh", _cell(0.9))))
    assert best_sentence(ACC, words).startswith("The best activation changes with the batch")


def test_an_unadjusted_interval_that_excludes_zero_beside_no_holm_survivor_is_explained():
    base = {0: 0.90, 1: 0.91, 2: 0.92}
    far = paired_compare("lr=0.5", ACC.key, base, {0: 0.70, 1: 0.80, 2: 0.75})  # CI excludes zero
    others = [paired_compare(f"v{i}", ACC.key, base, {0: 0.90 + 0.03 * i, 1: 0.89, 2: 0.93})
              for i in range(7)]
    tested = with_holm([far, *others])
    far = tested[0]
    assert far.difference.hi < 0 and not far.significant
    note = _unadjusted_note(ACC, tested, len(tested))
    assert len(note) == 1 and note[0].startswith("1 of these comparisons has an unadjusted 95% CI that "
                                                 "excludes zero (lr=0.5: -16.0 points (95% CI -27.4 to -4.6")
    assert "n = 3" in note[0] and "8 tests" in note[0]
    assert _unadjusted_note(ACC, tested[1:], 7) == []
