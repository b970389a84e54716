"""Every architecture listed in docs/models.md builds and has the parameter count the page states."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from hyperlab.measure import summarize
from hyperlab.models import build_model, parse_model_spec

DOC = Path(__file__).parents[2] / "docs" / "models.md"
# Per-example input shape and outputs of the datasets the notebooks use (torch layout).
DATASETS = {"cifar10": ((3, 32, 32), 10), "mnist": ((1, 28, 28), 10), "california-housing": ((8,), 1),
            "cubic": ((2,), 2)}


def doc_blocks() -> list[tuple[str, str]]:
    blocks = re.findall(r"```toml\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.S)
    return [(block.splitlines()[0].lstrip("# "), block) for block in blocks if "# expect:" in block]


def expectations(block: str) -> dict[str, int]:
    line = next(line for line in block.splitlines() if line.startswith("# expect:"))
    return {key: int(value.replace(",", "")) for key, value in re.findall(r"(\w+) = ([\d,]+)", line)}


def test_every_seed_notebook_has_architectures_in_the_doc():
    titles = [title for title, _ in doc_blocks()]
    assert len(titles) >= 19
    for seed in ("000", "001", "002", "003", "004"):
        assert any(title.startswith(f"notebook {seed}") for title in titles), seed


@pytest.mark.parametrize("title, block", doc_blocks(), ids=[t[:40] for t, _ in doc_blocks()])
def test_doc_architecture_counts(title, block):
    config = tomllib.loads(block)
    shape, n_outputs = DATASETS[config["data"]["dataset"]]
    model = build_model(parse_model_spec(config["model"]), shape, n_outputs, seed=0)
    summary = summarize(model, shape)
    expected = expectations(block)
    assert summary.params == expected["params"], title
    if "macs" in expected:
        assert summary.macs == expected["macs"], title
