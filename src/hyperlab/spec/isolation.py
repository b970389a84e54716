"""An isolation study's parts: the scientific factor's levels and, at each of them, the space of the
nuisance factors (design = "isolation").

    space, problems = isolation_space(study)
    for level in space.levels:
        searched = space.level_space(level)          # a SearchSpace over the level's baseline
        config = searched.config({"learning rate": 0.1, "momentum": 0.9})

The scientific factor is an ablation factor (`levels`, with `path` or as tables of keys); the
nuisance factors are search factors (`range` or `choices`, hyperlab.spec.search). Every other key is
fixed at the baseline's value.
"""

from __future__ import annotations

import copy
import dataclasses
from dataclasses import dataclass
from typing import Any

from hyperlab.engine import TrialConfig
from hyperlab.spec.messages import Problem, problems_from
from hyperlab.spec.paths import set_path
from hyperlab.spec.search import SearchSpace, search_space
from hyperlab.spec.study import StudySpec
from hyperlab.spec.variants import Level, _build, factor_levels


@dataclass(frozen=True)
class IsolationSpace:
    """The scientific factor's levels and the nuisance space over the study's baseline."""

    scientific: str  # the scientific factor's name
    levels: tuple[Level, ...]
    nuisance: SearchSpace  # over the study's baseline (the nuisance factors only)

    def level_space(self, level: Level) -> SearchSpace:
        """The nuisance space over the baseline with `level` applied (its configs are that level's)."""
        raw = copy.deepcopy(self.nuisance.raw)
        for path, value in level.changes.items():
            set_path(raw, path, value, defaults=self.nuisance.resolved)
        config, exc, _ = _build(self.nuisance.raw, self.nuisance.resolved, level.changes)
        if exc is not None:  # checked by isolation_space
            raise ValueError(f"invalid level {level.label}: {exc}")
        return dataclasses.replace(self.nuisance, raw=raw, resolved=config.model_dump(mode="python"))

    def level_config(self, level: Level) -> TrialConfig:
        """The level's config with every nuisance key at the baseline's value ("fixed")."""
        config, exc, _ = _build(self.nuisance.raw, self.nuisance.resolved, level.changes)
        if exc is not None:
            raise ValueError(f"invalid level {level.label}: {exc}")
        return config

    def baseline_values(self) -> dict[str, Any]:
        """Each nuisance factor's value in the baseline (a number, or a choice's label / None)."""
        config, _, _ = _build(self.nuisance.raw, self.nuisance.resolved, {})
        return self.nuisance.values_of(config)


def isolation_problems(raw: dict[str, Any]) -> list[Problem]:
    """The roles of an isolation study's factors: one scientific factor with levels, at least one
    nuisance factor with range or choices, a role on every factor; roles and [isolation] elsewhere."""
    design = raw.get("design", "ablation")
    factors = raw.get("factor") if isinstance(raw.get("factor"), list) else []
    problems = []
    if design != "isolation":
        if "isolation" in raw:
            problems.append(Problem("isolation", f'the [isolation] table is for design = "isolation"; this '
                                                 f'study\'s design is "{design}"'))
        for i, factor in enumerate(factors):
            if isinstance(factor, dict) and "role" in factor:
                problems.append(Problem(f"factor[{i}].role", f'role is for design = "isolation"; this '
                                                             f'study\'s design is "{design}"'))
        return problems
    if "search" in raw:
        problems.append(Problem("search", 'an isolation study takes an [isolation] table, not [search]'))
    roles = [f.get("role") if isinstance(f, dict) else None for f in factors]
    for i, (factor, role) in enumerate(zip(factors, roles, strict=True)):
        if not isinstance(factor, dict):
            continue
        if role is None:
            problems.append(Problem(f"factor[{i}].role", 'each factor of an isolation study needs a role: '
                                                         '"scientific" (levels) or "nuisance" (range or '
                                                         'choices); other keys stay at the baseline value'))
        elif role == "scientific" and "levels" not in factor:
            problems.append(Problem(f"factor[{i}]", "the scientific factor gives levels (the values "
                                                    "compared)"))
        elif role == "nuisance" and "levels" in factor:
            problems.append(Problem(f"factor[{i}].levels", "a nuisance factor gives range or choices (it is "
                                                           "searched at each scientific level), not levels"))
    if any(role not in (None, "scientific", "nuisance") for role in roles):
        return problems  # an unknown role is reported by the factor's own validation
    if roles.count("scientific") != 1:
        problems.append(Problem("factor", f'an isolation study needs exactly one factor with role = '
                                          f'"scientific", got {roles.count("scientific")}'))
    if "nuisance" not in roles:
        problems.append(Problem("factor", 'an isolation study needs at least one factor with role = '
                                          '"nuisance" (range or choices)'))
    return problems


def isolation_space(study: StudySpec) -> tuple[IsolationSpace | None, list[Problem]]:
    """The study's scientific levels and nuisance space, or every problem found in them."""
    nuisance, problems = search_space(study)  # the levels factor is skipped there: only the nuisance ones
    index = next(i for i, f in enumerate(study.factor) if f.role == "scientific")
    scientific = study.factor[index]
    if nuisance is None:
        return None, problems
    levels, found = factor_levels(index, scientific, nuisance.resolved)
    problems += found
    for level in levels:
        _, exc, data = _build(nuisance.raw, nuisance.resolved, level.changes)
        if exc is not None:
            problems += [Problem(level.where, f"{p.path}: {p.message}")
                         for p in problems_from(exc, TrialConfig, data)]
    if problems:
        return None, problems
    return IsolationSpace(scientific.name, tuple(levels), nuisance), []


__all__ = ["IsolationSpace", "isolation_problems", "isolation_space"]
