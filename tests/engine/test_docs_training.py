"""docs/training.md lists every [train] key with its actual default, and nothing that does not exist."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from hyperlab.engine import LOSSES, OPTIMIZERS, SCHEDULES, Augment, EarlyStopping, TrainConfig

DOC = Path(__file__).parents[2] / "docs" / "training.md"


def documented_tables() -> dict[str, dict[str, str]]:
    """{section name: {key: default cell}} for every '### `name`' section's table."""
    tables: dict[str, dict[str, str]] = {}
    current = None
    for line in DOC.read_text().splitlines():
        if line.startswith("## "):
            current = None  # a new chapter: its tables are not key tables
        heading = re.match(r"^### `(\w+)`$", line)
        if heading:
            current = tables.setdefault(heading.group(1), {})
        row = re.match(r"^\| `(\w+)` \| ([^|]+) \|", line)
        if row and current is not None:
            current[row.group(1)] = row.group(2).strip()
    return tables


def formatted(value) -> str | None:
    """How the doc writes a default; None for tables (described in words)."""
    if value is None:
        return "absent"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, tuple | list):
        return "[" + ", ".join(formatted(v) for v in value) + "]"
    return None


SECTIONS: dict[str, type[BaseModel]] = {"train": TrainConfig, "early_stopping": EarlyStopping,
                                        "augment": Augment}
SECTIONS.update({name: cls for registry in (OPTIMIZERS, SCHEDULES, LOSSES)
                 for name, cls in registry.items() if cls.arguments()})


@pytest.mark.parametrize("section", sorted(SECTIONS))
def test_each_key_is_documented_with_its_default(section):
    table = documented_tables().get(section)
    assert table is not None, f"docs/training.md has no '### `{section}`' table"
    fields = {k: f for k, f in SECTIONS[section].model_fields.items() if k != "name"}
    assert set(table) == set(fields), f"{section}: documented keys differ from the config's"
    for key, info in fields.items():
        if info.default is PydanticUndefined and info.default_factory is None:
            assert table[key] == "required", f"{section}.{key}"
        elif info.default_factory is None and formatted(info.default) is not None:
            assert table[key] == formatted(info.default), f"{section}.{key}"


def test_every_choice_name_is_documented():
    text = DOC.read_text()
    for registry in (OPTIMIZERS, SCHEDULES, LOSSES):
        for name in registry:
            assert f"`{name}`" in text, name
