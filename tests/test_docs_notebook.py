"""docs/notebook.md runs as written, and docs/results.md documents every column the frames have."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import matplotlib

ROOT = Path(__file__).resolve().parents[1]



def python_blocks(doc: Path) -> list[str]:
    return re.findall(r"```python\n(.*?)```", doc.read_text(), flags=re.S)


def documented_columns(doc: Path) -> dict[str, set[str]]:
    """Backticked names in the first cell of each table row, per `## <table>` section."""
    out: dict[str, set[str]] = {}
    section = ""
    for line in doc.read_text().splitlines():
        if line.startswith("## "):
            section = line[3:].split(":")[0].split(" ")[0]
        elif line.startswith("| `"):
            out.setdefault(section, set()).update(re.findall(r"`([^`]+)`", line.split("|")[1]))
    return out


def test_the_notebook_page_runs_and_the_results_page_lists_every_column(tmp_path, monkeypatch):
    matplotlib.use("Agg")
    (tmp_path / "studies").mkdir()
    shutil.copy(ROOT / "studies" / "quickstart.toml", tmp_path / "studies")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("HYPERLAB_WORKSPACE", raising=False)
    namespace: dict = {}
    blocks = python_blocks(ROOT / "docs" / "notebook.md")
    assert len(blocks) >= 4
    for block in blocks:
        exec(compile(block, "docs/notebook.md", "exec"), namespace)  # noqa: S102
    assert namespace["summary"].statuses == {"completed": 18}
    assert list(namespace["effect"].index) == [0.005, 0.05, 0.5]
    assert namespace["effect"]["count"].tolist() == [2, 2, 2]
    assert (tmp_path / "val-accuracy.png").stat().st_size > 10_000
    assert namespace["index"].is_file() and len(namespace["runs"]) == 18

    frames = namespace["frames"]
    documented = documented_columns(ROOT / "docs" / "results.md")
    for table in ("trials", "epochs", "finals", "variants"):
        columns = [c for c in getattr(frames, table).columns if not c.startswith(("level:", "label:"))]
        missing = [c for c in columns if c not in documented[table]]
        assert not missing, f"docs/results.md, {table}: undocumented columns {missing}"
    assert {"level:<factor>", "label:<factor>"} <= documented["trials"]
