"""docs/study-file.md documents every key: its generated reference is up to date and complete."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel

from hyperlab.data.config import DataConfig
from hyperlab.engine import LOSSES, OPTIMIZERS, SCHEDULES, Augment, EarlyStopping, TrainConfig
from hyperlab.models import KINDS, Penalties
from hyperlab.plan import NOT_IN_KEY
from hyperlab.spec import Budget, Factor, StudySpec
from hyperlab.spec.docs import DOC_PATH, field_doc, main, render_reference, splice

# (key prefix in the doc, model): every section a study file has, every choice of every table
SECTIONS = [("", StudySpec), ("data", DataConfig), ("train", TrainConfig), ("budget", Budget),
            ("factor", Factor), ("train.early_stopping", EarlyStopping), ("train.augment", Augment),
            ("model.l1", Penalties)]
SECTIONS += [("model", spec) for spec, _ in KINDS.values()]
SECTIONS += [("train.optimizer", cls) for cls in OPTIMIZERS.values()]
SECTIONS += [("train.schedule", cls) for cls in SCHEDULES.values()]
SECTIONS += [("train.loss", cls) for cls in LOSSES.values()]


def test_generated_reference_is_up_to_date() -> None:
    document = DOC_PATH.read_text(encoding="utf-8")
    assert splice(document, render_reference()) == document, (
        "docs/study-file.md is out of date: run `python -m hyperlab.spec.docs`")


@pytest.mark.parametrize(("prefix", "model"), SECTIONS, ids=[f"{p}:{m.__name__}" for p, m in SECTIONS])
def test_every_key_is_documented_with_its_docstring(prefix: str, model) -> None:
    document = DOC_PATH.read_text(encoding="utf-8")
    for name in model.model_fields:
        key = f"{prefix}.{name}" if prefix else name
        assert f"| `{key}` |" in document, f"{key} ({model.__name__}) is not in docs/study-file.md"
        assert field_doc(model, name).strip(), f"{model.__name__}.{name} has no docstring"


def test_the_keys_left_out_of_trial_keys_are_documented() -> None:
    document = DOC_PATH.read_text(encoding="utf-8")
    section = document[document.index("## Trial keys"):document.index("## Overrides")]
    for part, key in NOT_IN_KEY:
        assert f"`{part}.{key}`" in section


def test_check_mode_reports_a_stale_reference(tmp_path: Path, capsys) -> None:
    stale = tmp_path / "study-file.md"
    text = DOC_PATH.read_text(encoding="utf-8")
    stale.write_text(text.replace("| `seeds` |", "| `seed` |"), encoding="utf-8")
    assert main([str(stale), "--check"]) == 1
    assert main([str(stale)]) == 0  # rewrites it
    assert stale.read_text(encoding="utf-8") == text
    assert main([str(stale), "--check"]) == 0


class _Plain(BaseModel):
    """A model that does not ask pydantic to keep field docstrings (as DataConfig)."""

    size: int = 3
    """How many."""

    colour: str = "red"

    shape: str = "round"
    """What it looks like,
    on two lines."""


def test_attribute_docstrings_are_read_from_the_source() -> None:
    assert _Plain.model_fields["size"].description is None
    assert field_doc(_Plain, "size") == "How many."
    assert field_doc(_Plain, "colour") == ""
    assert field_doc(_Plain, "shape") == "What it looks like,\non two lines."


def test_no_type_reads_as_a_pydantic_internal() -> None:
    document = DOC_PATH.read_text(encoding="utf-8")
    assert "PydanticUndefined" not in document and "Undefined" not in render_reference()
    assert "| `model` | table with `kind` (choices below) | required |" in document
