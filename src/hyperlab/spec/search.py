"""A search study's space: each factor's range or choices, checked against the baseline, and the
trial config of one sampled point.

    space, problems = search_space(study)
    config = space.config({"learning rate": 0.01, "width": "[64]"})

A range factor sets its `path` to the sampled number; a choice factor applies the changes of the
chosen value exactly as an ablation level does (hyperlab.spec.variants), and is named by its label.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hyperlab.engine import TrialConfig
from hyperlab.spec.messages import Problem, problems_from, show
from hyperlab.spec.paths import Path, dotted, get_path
from hyperlab.spec.study import Factor, StudySpec
from hyperlab.spec.variants import (
    SECTIONS,
    Level,
    _baseline_raw,
    _build,
    _check_path,
    _without_run_keys,
    factor_levels,
)


@dataclass(frozen=True)
class SearchFactor:
    """One dimension of the space: a number range (float or int) or a set of labelled choices."""

    name: str
    kind: str  # "float" | "int" | "categorical"
    path: Path | None
    low: float | None = None
    high: float | None = None
    log: bool = False
    step: float | None = None
    choices: tuple[Level, ...] = ()  # categorical: the choices, named by their labels

    @property
    def labels(self) -> list[str]:
        return [c.label for c in self.choices]

    def changes(self, value: Any) -> dict[Path, Any]:
        """The keys this factor sets for a sampled value (a number, or a choice's label)."""
        if self.kind == "categorical":
            return dict(next(c for c in self.choices if c.label == value).changes)
        assert self.path is not None  # a range factor always has a path (checked)
        return {self.path: int(value) if self.kind == "int" else float(value)}

    def value_in(self, config: dict[str, Any]) -> Any:
        """The sampled value a resolved config (model_dump) holds for this factor, or None."""
        if self.kind != "categorical":
            assert self.path is not None
            return get_path(config, self.path)
        for choice in self.choices:
            if all(_same(get_path(config, p), v) for p, v in choice.changes.items()):
                return choice.label
        return None


def _same(a: Any, b: Any) -> bool:
    return a == b or (isinstance(a, list | tuple) and isinstance(b, list | tuple) and list(a) == list(b))


@dataclass(frozen=True)
class SearchSpace:
    """The factors of a search study over its baseline."""

    factors: tuple[SearchFactor, ...]
    raw: dict[str, Any]  # the baseline's sections as the file wrote them
    resolved: dict[str, Any]  # the baseline with defaults

    def config(self, values: dict[str, Any]) -> TrialConfig:
        """The trial config of one point (factor name -> number or choice label)."""
        changes = {}
        for factor in self.factors:
            changes.update(factor.changes(values[factor.name]))
        config, exc, _ = _build(self.raw, self.resolved, changes)
        if exc is not None:
            raise ValueError(f"invalid configuration {values}: {exc}")
        return config

    def values_of(self, config: TrialConfig) -> dict[str, Any]:
        """Factor name -> the value `config` holds (the inverse of `config`, for stored trials)."""
        dumped = config.model_dump(mode="python")
        return {f.name: f.value_in(dumped) for f in self.factors}

    def changes_of(self, values: dict[str, Any]) -> dict[str, Any]:
        """Dotted key -> value, relative to the baseline (what the plan shows)."""
        out: dict[str, Any] = {}
        for factor in self.factors:
            out.update({dotted(p): v for p, v in factor.changes(values[factor.name]).items()})
        return out


def design_problems(raw: dict[str, Any]) -> list[Problem]:
    """Keys that belong to another design: levels in a search, range/choices/[search] elsewhere."""
    design = raw.get("design", "ablation")
    factors = raw.get("factor") if isinstance(raw.get("factor"), list) else []
    problems = []
    if design == "search":
        if "search" not in raw:
            problems.append(Problem("search", 'a study with design = "search" needs a [search] table '
                                              "(at least trials = N)"))
        if not factors:
            problems.append(Problem("factor", "a search needs at least one [[factor]] with range or choices"))
        for i, factor in enumerate(factors):
            if isinstance(factor, dict) and "levels" in factor:
                problems.append(Problem(f"factor[{i}].levels", 'a search study takes range or choices, not '
                                        'levels (levels are for design = "ablation" or "grid")'))
    elif design in ("ablation", "grid"):
        if "search" in raw:
            problems.append(Problem("search", f'the [search] table is for design = "search"; this study\'s '
                                              f'design is "{design}"'))
        for i, factor in enumerate(factors):
            for key in ("range", "choices", "log", "step"):
                if isinstance(factor, dict) and key in factor:
                    problems.append(Problem(f"factor[{i}].{key}", f'{key} is for design = "search"; an '
                                            f'{design} study takes levels'))
    return problems


def search_space(study: StudySpec) -> tuple[SearchSpace | None, list[Problem]]:
    """The space of a search study, or the problems of its factors (every one of them)."""
    raw = _without_run_keys(_baseline_raw(study))
    baseline, exc, _ = _build(raw, {}, {})
    if exc is not None:
        return None, problems_from(exc, TrialConfig, raw)
    resolved = baseline.model_dump(mode="python")
    problems: list[Problem] = []
    factors: list[SearchFactor] = []
    names = [f.name for f in study.factor]
    for i, factor in enumerate(study.factor):
        if factor.name in names[:i]:
            problems.append(Problem(f"factor[{i}].name", f"{factor.name!r} is already the name of "
                                    f"factor[{names.index(factor.name)}]; factor names must be distinct"))
        built, found = _search_factor(i, factor, raw, resolved)
        problems += found
        if built is not None:
            factors.append(built)
    if study.search is not None and study.search.confirm.top > study.search.trials:
        problems.append(Problem("search.confirm.top", f"must be <= search.trials ({study.search.trials}), "
                                                      f"got {study.search.confirm.top}"))
    return (None, problems) if problems else (SearchSpace(tuple(factors), raw, resolved), [])


def _search_factor(i: int, factor: Factor, raw: dict, resolved: dict,
                   ) -> tuple[SearchFactor | None, list[Problem]]:
    where = f"factor[{i}]"
    if factor.choices is not None:
        as_levels = factor.model_copy(update={"levels": factor.choices, "choices": None})
        levels, found = factor_levels(i, as_levels, resolved)
        found = [Problem(p.path.replace(f"{where}.levels", f"{where}.choices"),
                         p.message.replace("levels[", "choices[")) for p in found]
        for level in levels:  # each choice must give a valid config on its own
            _, exc, data = _build(raw, resolved, level.changes)
            if exc is not None:
                found += [Problem(f"{where}.choices[{level.index}]", f"{p.path}: {p.message}")
                          for p in problems_from(exc, TrialConfig, data)]
        built = SearchFactor(factor.name, "categorical", None, choices=tuple(levels))
        return (None if found else built), found
    if factor.range is None:  # levels: reported by design_problems
        return None, []
    if factor.path is None:
        return None, [Problem(f"{where}.path", "a range factor needs the dotted key it sets, e.g. "
                                               'path = "train.optimizer.lr"')]
    path, error = _check_path(factor.path, resolved)
    if error:
        return None, [Problem(f"{where}.path", error)]
    assert path is not None and path[0] in SECTIONS
    low, high = factor.range
    is_int = all(isinstance(v, int) and not isinstance(v, bool) for v in (low, high)) and (
        factor.step is None or isinstance(factor.step, int))
    built = SearchFactor(factor.name, "int" if is_int else "float", path, low, high, factor.log, factor.step)
    found = []
    for end, value in (("low", low), ("high", high)):
        _, exc, data = _build(raw, resolved, {path: value})
        if exc is not None:
            found += [Problem(f"{where}.range", f"{end} = {show(value)}: {p.path}: {p.message}")
                      for p in problems_from(exc, TrialConfig, data)]
    return (None if found else built), found


__all__ = ["SearchFactor", "SearchSpace", "design_problems", "search_space"]
