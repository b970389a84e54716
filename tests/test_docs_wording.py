"""One word per concept in docs and output: "notebook" for the documents the project started from,
"seed" only for random seeds."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MISUSE = re.compile(r"\bseed[ -]notebooks?\b|\bseeds? \d{3}\b|\bseed-\d{3}\b", re.IGNORECASE)


def test_notebooks_are_not_called_seeds():
    files = [ROOT / "README.md", *ROOT.glob("docs/**/*.md"), *ROOT.glob("studies/*.toml"),
             *ROOT.glob("src/**/*.py"), *ROOT.glob("src/**/*.j2"), *ROOT.glob("benchmarks/*.py")]
    found = [f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
             for path in files for number, line in enumerate(path.read_text().splitlines(), 1)
             if MISUSE.search(line)]
    assert not found, "\n".join(found[:20])


def test_no_user_facing_text_points_at_the_development_machines_shared_folder():
    """`../shared` (the notebooks and data sets on the machines hyperlab is developed on) exists
    nowhere else: docs, study files and messages name the published file or archive instead."""
    files = [ROOT / "README.md", *ROOT.glob("docs/**/*.md"), *ROOT.glob("studies/*.toml"),
             *ROOT.glob("src/**/*.py"), *ROOT.glob("src/**/*.j2")]
    found = [f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
             for path in files for number, line in enumerate(path.read_text().splitlines(), 1)
             if re.search(r"\.\./shared\b|/shared/(seeds|data)\b", line)]
    assert not found, "\n".join(found[:20])
