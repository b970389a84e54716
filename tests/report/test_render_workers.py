"""The figures drawn in worker processes (a forkserver pool) are the figures drawn in the process."""

from __future__ import annotations

from synthetic_frames import ablation_frames

from hyperlab.analysis import analyze
from hyperlab.report import figures as figs


def test_workers_draw_the_same_files_as_the_process(tmp_path, monkeypatch):
    analysis = analyze(ablation_frames())
    jobs = [(figs.curves_figure, (analysis, f, tmp_path / "here")) for f in analysis.factors]
    jobs += [(figure, (analysis, tmp_path / "here")) for figure in (figs.ranking_figure, figs.cost_figure)]
    monkeypatch.setattr(figs, "_pool", None)  # this test's own pool (another test may have started one)
    here = figs.render(jobs)  # fewer than PARALLEL_MIN_COLD and no pool started: drawn here
    assert figs._pool is None

    figs.start_workers()
    monkeypatch.setattr(figs, "PARALLEL_MIN", 1)
    there = figs.render([(f, (args[0], *args[1:-1], tmp_path / "workers")) for f, args in jobs])
    assert figs._pool is not None
    assert [f.slug for f in there] == [f.slug for f in here]
    for a, b in zip(here, there, strict=True):
        assert a.path.suffix == b.path.suffix == ".svg"
        assert a.path.read_bytes() == b.path.read_bytes()  # deterministic SVG (hashsalt, no date)
    figs._pool.shutdown()
