"""No label is clipped: every visible text of every figure of three reports (the quickstart, the
digits search with its confirmation, a grid) lies inside its figure once the layout is solved (issue
29 found "nentum", "ing rate" and "95% interva" cut off at the figures' edges). Short runs of the
shipped studies; the grid is the shipped grid's shape (learning rate x batch size, 3 x 3) on digits."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from matplotlib.backends.backend_svg import RendererSVG
from matplotlib.figure import Figure
from matplotlib.text import Text

from hyperlab.api import Study, write_frames_report
from hyperlab.report import figures as figs
from hyperlab.report import model_views

ROOT = Path(__file__).resolve().parents[2]
FAST = ["train.epochs=2", "data.subset=400"]
GRID = """
name = "grid-layout"
description = "learning rate x batch size on digits, the shape of the shipped grid"
design = "grid"
seeds = 2
[data]
dataset = "digits"
subset = 300
[model]
kind = "mlp"
hidden = [16]
[train]
epochs = 2
batch_size = 50
threads = 1
optimizer = { name = "sgd", lr = 0.05 }
[[factor]]
name = "learning rate"
path = "train.optimizer.lr"
levels = [0.001, 0.01, 0.1]
[[factor]]
name = "batch size"
path = "train.batch_size"
levels = [20, 50, 100]
"""


def _studies(tmp: Path) -> list[Study]:
    grid = tmp / "grid.toml"
    grid.write_text(GRID)
    return [Study.load(ROOT / "studies" / "quickstart.toml", FAST),
            Study.load(ROOT / "studies" / "digits-search.toml",
                       [*FAST, "search.trials=6", "search.confirm.top=1", "search.confirm.seeds=2"]),
            Study.load(grid)]


@pytest.fixture(scope="module")
def drawn(tmp_path_factory) -> dict[str, list[tuple[str, list[str]]]]:
    """Study -> (figure file, the texts that leave the figure) for every figure its report saves."""
    tmp = tmp_path_factory.mktemp("layout")
    out: dict[str, list[tuple[str, list[str]]]] = {}
    original = figs.save
    current: list[tuple[str, list[str]]] = []

    def checked_save(fig: Figure, folder: Path, name: str, *args):
        saved = original(fig, folder, name, *args)  # solves the constrained layout and draws
        current.append((name, _outside(fig)))
        return saved

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(figs, "PARALLEL_MIN", 10**6)  # drawn here, where `save` is watched
        patch.setattr(figs, "save", checked_save)
        patch.setattr(model_views, "save", checked_save)
        for study in _studies(tmp):
            workspace = tmp / study.name
            study.run(workspace, progress="quiet", report=False, threads=1)
            current = out.setdefault(study.name, [])
            write_frames_report(study.results(workspace), workspace)
    return out


def _outside(fig: Figure) -> list[str]:
    """What of the figure is drawn outside it, measured as its SVG was drawn (72 dpi, the SVG
    renderer's text metrics): nothing, or the drawn extent and the texts that leave the figure."""
    dpi = fig.dpi
    fig.set_dpi(72)
    try:
        width, height = fig.get_size_inches()
        renderer = RendererSVG(width * 72, height * 72, io.StringIO())
        drawn = fig.get_tightbbox(renderer)  # inches; every drawn artist (ticks within the view only)
        tolerance = 0.01  # inches: under a pixel
        if (drawn.x0 >= -tolerance and drawn.y0 >= -tolerance and drawn.x1 <= width + tolerance
                and drawn.y1 <= height + tolerance):
            return []
        bad = [f"drawn extent {tuple(round(float(v), 2) for v in drawn.extents)} in {width} x {height} in"]
        for text in fig.findobj(Text):  # positions as the tight box above left them
            extent = text.get_window_extent(renderer)
            inside = fig.bbox.contains(*extent.min) and fig.bbox.contains(*extent.max)
            if text.get_visible() and text.get_text().strip() and not inside:
                bad.append(repr(text.get_text()))
        return bad
    finally:
        fig.set_dpi(dpi)


@pytest.mark.parametrize("name", ["quickstart", "digits-search", "grid-layout"])
def test_every_text_of_every_figure_lies_inside_it(drawn, name):
    figures = drawn[name]
    assert len(figures) >= 4, figures
    clipped = {figure: texts for figure, texts in figures if texts}
    assert not clipped, clipped
