"""Designs and executors are looked up, never tested for: no `design ==` / `!=` outside the spec and
the proposers (hyperlab.proposers.PROPOSERS, hyperlab.analysis.study.ANALYSES), and no
`isinstance(..., ...Executor)` or `hasattr(executor, ...)` outside the executor modules (they
declare `Capabilities`). A new design or executor is then one module plus one registry line."""

from __future__ import annotations

import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "hyperlab"
DESIGN_TEST = re.compile(r"""design["'\])]*\s*[!=]=|[!=]=\s*["'](ablation|grid|search)["']""")
EXECUTOR_TEST = re.compile(r"isinstance\([^)]*Executor|hasattr\(\s*executor")
DESIGN_HOMES = ("spec/", "proposers/")
EXECUTOR_MODULES = ("runner/executor.py", "runner/stacked.py", "runner/workers.py", "runner/ray_executor.py")


def offenders(pattern: re.Pattern, allowed: tuple[str, ...]) -> list[str]:
    out = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE).as_posix()
        if rel.startswith(allowed):
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if pattern.search(line.split("#")[0]):
                out.append(f"{rel}:{number}: {line.strip()}")
    return out


def test_no_design_is_tested_for_outside_the_spec_and_the_proposers() -> None:
    assert offenders(DESIGN_TEST, DESIGN_HOMES) == []


def test_no_executor_is_asked_what_it_is_outside_the_executor_modules() -> None:
    assert offenders(EXECUTOR_TEST, EXECUTOR_MODULES) == []


def test_the_patterns_find_what_they_forbid() -> None:
    assert DESIGN_TEST.search('if shown["design"] == "search":')
    assert DESIGN_TEST.search("if study.design != 'grid':")
    assert EXECUTOR_TEST.search("if isinstance(executor, ProcessExecutor):")
    assert EXECUTOR_TEST.search('hasattr(executor, "parallelism")')
