"""Every study the project ships parses and plans: each file in studies/, and each TOML example in
docs/ that is a study (a `name = ...` key before the first table)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from hyperlab.plan import make_plan
from hyperlab.spec import load_study

ROOT = Path(__file__).resolve().parents[1]
FENCE = re.compile(r"^```toml[ \t]*\n(.*?)^```", re.MULTILINE | re.DOTALL)


def is_study(block: str) -> bool:
    """A top-level `name =` before any [table] header: a study, not a snippet of one section."""
    for line in block.splitlines():
        if line.startswith("["):
            return False
        if re.match(r"name\s*=", line):
            return True
    return False


def doc_examples() -> list[tuple[str, str]]:
    examples = []
    for doc in sorted((ROOT / "docs").rglob("*.md")):
        for index, match in enumerate(FENCE.finditer(doc.read_text(encoding="utf-8"))):
            if is_study(match[1]):
                examples.append((f"{doc.relative_to(ROOT)}#{index}", match[1]))
    return examples


STUDY_FILES = sorted((ROOT / "studies").glob("*.toml"))
DOC_EXAMPLES = doc_examples()


def check_plans(path: Path) -> None:
    plan = make_plan(load_study(path))
    assert plan.variants and plan.trials
    assert len(plan.trials) == len(plan.variants) * len(plan.seeds)


@pytest.mark.parametrize("path", STUDY_FILES, ids=[p.name for p in STUDY_FILES])
def test_shipped_study_file_parses_and_plans(path: Path) -> None:
    check_plans(path)


def write_own_data(folder: Path) -> None:
    """The files the `npz:` and `folder:` examples name, relative to the folder they run in."""
    rng = np.random.default_rng(0)
    (folder / "data").mkdir()
    np.savez(folder / "data" / "my-arrays.npz", x_train=rng.normal(size=(40, 6)).astype("float32"),
             y_train=rng.integers(0, 3, 40), x_test=rng.normal(size=(20, 6)).astype("float32"),
             y_test=rng.integers(0, 3, 20))
    for split in ("train", "test"):
        for label in ("cat", "dog"):
            images = folder / "data" / "pets" / split / label
            images.mkdir(parents=True)
            for i in range(4):
                pixels = rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)
                Image.fromarray(pixels).save(images / f"{i}.png")


@pytest.mark.parametrize(("where", "text"), DOC_EXAMPLES, ids=[w for w, _ in DOC_EXAMPLES])
def test_study_example_in_the_docs_parses_and_plans(tmp_path: Path, monkeypatch, where: str,
                                                    text: str) -> None:
    write_own_data(tmp_path)
    monkeypatch.chdir(tmp_path)  # the examples' own data paths are relative to where hyperlab runs
    monkeypatch.setenv("HYPERLAB_CACHE", str(tmp_path / "cache"))
    path = tmp_path / "example.toml"
    path.write_text(text, encoding="utf-8")
    check_plans(path)


def test_the_study_file_reference_has_examples() -> None:
    examples = [text for where, text in DOC_EXAMPLES if where.startswith("docs/study-file.md")]
    assert len(examples) >= 3
    for needed in ('dataset = "npz:', 'dataset = "folder:', 'loss = "mse"'):  # own data, regression
        assert any(needed in text for text in examples), needed


def test_is_study_tells_a_study_from_a_section_snippet() -> None:
    assert is_study('name = "x"\n[model]\nkind = "mlp"\n')
    assert is_study('# a study\n\nname = "x"\n')
    assert not is_study('[train.optimizer]\nname = "adam"\n')
    assert not is_study('[model]\nkind = "mlp"\n')
