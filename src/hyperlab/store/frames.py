"""StudyFrames: the tidy tables of one study, the only thing analysis reads from the store."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd


@dataclass
class StudyFrames:
    """Everything recorded for one study, as pandas DataFrames (columns: docs/architecture.md)."""

    trials: pd.DataFrame  # one row per trial (variant x seed)
    epochs: pd.DataFrame  # one row per trial and evaluated epoch
    finals: pd.DataFrame  # one row per finished trial: test metrics, per-class, confusion matrices
    variants: pd.DataFrame  # one row per variant, in plan order, with cost and budget verdict
    study: dict = field(default_factory=dict)  # name, description, design, seeds, data, selection, ...

    def __repr__(self) -> str:  # a notebook shows this: a summary, not every cell of every table
        tables = ", ".join(f"{name}={len(getattr(self, name))}x{len(getattr(self, name).columns)}"
                           for name in ("trials", "epochs", "finals", "variants"))
        selection = self.study.get("selection")
        return (f"<StudyFrames {self.study.get('name', '?')!r}: {tables}"
                + (f"; {selection}" if selection else "") + ">")
