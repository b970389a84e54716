"""What a wheel says about itself: an MIT LICENSE file, and no project URL until a public home exists."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_license_file_and_no_guessed_urls():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["license"] == "MIT" and project["license-files"] == ["LICENSE"]
    assert (ROOT / "LICENSE").read_text().startswith("MIT License")
    # No URL was ever published for this project: a guessed address would send users to someone
    # else's page. [project.urls] is added with the real repository.
    assert "urls" not in project
