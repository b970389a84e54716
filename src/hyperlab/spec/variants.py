"""Factor levels -> variant configs, with every problem of every level collected.

A level is a set of changes {dotted path: value} applied to the baseline as the user wrote it (the
keys the file set), filling any table the file left out from the resolved baseline (defaults
included). Each variant's full config is validated, so a bad level value is reported with the
factor and level it came from: `factor[2].levels[1]: model.activation: must be one of ...`.
"""

from __future__ import annotations

import copy
import dataclasses
import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any

from pydantic import TypeAdapter, ValidationError

from hyperlab.engine import TrialConfig
from hyperlab.engine.settings import RUN_KEYS
from hyperlab.spec.messages import Problem, problems_from, show
from hyperlab.spec.paths import Path, PathNotFound, dotted, format_path, get_path, parse_path, set_path
from hyperlab.spec.study import Factor, StudySpec

SECTIONS = ("data", "model", "train")  # the parts of a trial config a factor may change


@dataclass(frozen=True)
class Level:
    """One level of one factor: its label and the changes it makes to the baseline."""

    factor: int  # index of the factor in the study
    index: int  # index of the level in the factor
    label: str
    changes: dict[Path, Any]

    @property
    def where(self) -> str:
        return f"factor[{self.factor}].levels[{self.index}]"


@dataclass(frozen=True)
class VariantSpec:
    """One variant of a study: a name, the levels it is made of, and its resolved trial config."""

    name: str  # "baseline", "<factor>=<label>", or for a grid "<f1>=<l1>, <f2>=<l2>"
    factor: str | None  # the factor's name (ablation), the factors' names joined (grid), None: baseline
    level: str | None  # the level's label (ablation), the labels joined (grid), None: baseline
    levels: dict[str, str]  # factor name -> level label (empty for the baseline)
    changes: dict[str, Any]  # dotted path -> value, relative to the baseline
    config: TrialConfig
    is_baseline: bool
    origin: str = ""  # where in the file: "" (baseline), "factor[1].levels[0]", or levels joined by " & "
    order: int = field(default=0)  # position in the plan


def label_of(value: Any) -> str:
    """A level value written compactly: 0.05, relu, [64, 64], true, "name=adam, lr=0.001"."""
    if isinstance(value, dict):
        return ", ".join(f"{k}={_compact(v)}" for k, v in value.items())
    return _compact(value)


def _compact(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}={_compact(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_compact(v) for v in value) + "]"
    return show(value)


def _changes_label(changes: dict[Path, Any]) -> str:
    """"activation=linear, init=glorot_uniform": the changed keys' last parts, or full paths if two
    of them share a last part."""
    short = [".".join(str(s) for s in path[-2:]) if isinstance(path[-1], int) else str(path[-1])
             for path in changes]
    names = short if len(set(short)) == len(short) else [dotted(p) for p in changes]
    return ", ".join(f"{n}={_compact(v)}" for n, v in zip(names, changes.values(), strict=True))


def _check_path(text: str, resolved: dict) -> tuple[Path | None, str | None]:
    """The parsed path, or a message saying why `text` is not a key of the baseline."""
    try:
        path = parse_path(text)
    except ValueError as exc:
        return None, str(exc)
    if path[0] not in SECTIONS:
        return None, f"{text!r}: must start with data., model. or train. (the trial config), got {path[0]!r}"
    if len(path) == 2 and (path[0], path[1]) in RUN_KEYS:
        return None, (f"{text!r} is a run setting (where and how fast trials run), not part of a trial; "
                      f"it cannot be a factor")
    if path[0] not in resolved:  # that section of the baseline is broken (reported): cannot tell
        return path, None
    try:
        get_path(resolved, path)
    except PathNotFound as exc:
        return None, f"{text!r} is not a key of the baseline: {exc}"
    return path, None


def _flatten(path: Path, value: Any, resolved: dict, out: dict[Path, Any]) -> None:
    """A table value at a table key sets the keys it names (recursively); anything else replaces."""
    target = get_path(resolved, path) if path[0] in resolved else None
    if isinstance(value, dict) and isinstance(target, dict) and value:
        for key, sub in value.items():
            sub_path = path + (int(key) if str(key).isdigit() else key,)
            get_path(resolved, sub_path)  # PathNotFound for a key the baseline does not have
            _flatten(sub_path, sub, resolved, out)
    else:
        out[path] = value


def factor_levels(index: int, factor: Factor, resolved: dict) -> tuple[list[Level], list[Problem]]:
    """The levels of one factor, or the problems that keep it from having any."""
    where = f"factor[{index}]"
    problems: list[Problem] = []
    changes: list[dict[Path, Any]] = []
    if factor.path is not None:
        path, error = _check_path(factor.path, resolved)
        if error:
            return [], [Problem(f"{where}.path", error)]
        changes = [{path: value} for value in factor.levels]
    else:
        for j, level in enumerate(factor.levels):
            if not isinstance(level, dict) or not level:
                problems.append(Problem(
                    f"{where}.levels[{j}]",
                    f"must be a table of {{\"dotted.key\" = value}} (or give the factor a `path`), "
                    f"got {show(level)}"))
                continue
            level_changes: dict[Path, Any] = {}
            for key, value in level.items():
                path, error = _check_path(str(key), resolved)
                if error is None:
                    try:
                        _flatten(path, value, resolved, level_changes)
                    except PathNotFound as exc:
                        error = f"{key!r}: {exc}"
                if error:
                    problems.append(Problem(f"{where}.levels[{j}]", error))
            changes.append(level_changes)
    if factor.labels is not None and len(factor.labels) != len(factor.levels):
        problems.append(Problem(f"{where}.labels", f"needs one label per level: {len(factor.labels)} "
                                                   f"for {len(factor.levels)} levels"))
    if problems:
        return [], problems
    if factor.labels is not None:
        labels = list(factor.labels)
    elif factor.path is not None:
        labels = [label_of(value) for value in factor.levels]
    else:
        labels = [_changes_label(c) for c in changes]
    for j, label in enumerate(labels):
        if label in labels[:j]:
            first = labels.index(label)
            problems.append(Problem(f"{where}.levels[{j}]", f"repeats levels[{first}] (label {label!r}); "
                                                            f"give distinct values or labels"))
    levels = [Level(index, j, labels[j], changes[j]) for j in range(len(labels))]
    return ([] if problems else levels), problems


def _baseline_raw(study: StudySpec) -> dict[str, Any]:
    """The trial-config sections as the file wrote them (only keys it set; defaults left out)."""
    return {s: getattr(study, s).model_dump(mode="python", exclude_unset=True) for s in SECTIONS}


def _build(raw: dict, resolved: dict, changes: dict[Path, Any]) -> tuple[TrialConfig | None, Any, Any]:
    """The config with `changes` applied: (config, None, data) or (None, ValidationError, data)."""
    data = copy.deepcopy(raw)
    for path, value in changes.items():
        set_path(data, path, value, defaults=resolved)
    try:
        return TrialConfig.model_validate(data, strict=True), None, data  # strict: no "2" for 2
    except ValidationError as exc:
        return None, exc, data


def _errors_of(level_changes: dict[Path, Any], raw: dict, resolved: dict) -> list[Problem]:
    _, exc, data = _build(raw, resolved, level_changes)
    return [] if exc is None else problems_from(exc, TrialConfig, data)


def expand_variants(study: StudySpec) -> tuple[list[VariantSpec], list[Problem]]:
    """The study's variants in plan order (baseline first, factors in file order, levels in order;
    for a grid, the product of the levels with the first factor varying slowest), or the problems
    found in the baseline and in the factors (every one of them)."""
    # a search samples its configs at run time, an isolation study searches them at each level
    factors = [] if study.design in ("search", "isolation") else study.factor
    return expand_sections(_baseline_raw(study), factors, study.design)


def expand_sections(raw: dict[str, Any], factors: Sequence[Factor], design: str,
                    ) -> tuple[list[VariantSpec], list[Problem]]:
    """expand_variants over the raw data/model/train tables. With a broken baseline, the levels
    are still checked: each reports only the problems it adds to the baseline's. Run defaults
    (`train.threads`, ...: hyperlab.engine.settings.RUN_KEYS) are not part of a trial: left out."""
    raw = _without_run_keys(raw)
    baseline, exc, _ = _build(raw, {}, {})
    problems: list[Problem] = []
    if exc is not None:
        problems = problems_from(exc, TrialConfig, raw)
        resolved = _resolve_sections(raw)
    else:
        resolved = baseline.model_dump(mode="python")
    known = set(problems)
    all_levels: list[list[Level]] = []
    names = [f.name for f in factors]
    for i, factor in enumerate(factors):
        if factor.name in names[:i]:
            problems.append(Problem(f"factor[{i}].name", f"{factor.name!r} is already the name of "
                                    f"factor[{names.index(factor.name)}]; factor names must be distinct"))
        levels, level_problems = factor_levels(i, factor, resolved)
        problems += level_problems
        all_levels.append(levels)

    variants: list[VariantSpec] = []
    if design == "ablation":
        if baseline is not None:
            variants.append(VariantSpec("baseline", None, None, {}, {}, baseline, True))
        for factor, levels in zip(factors, all_levels, strict=True):
            for level in levels:
                config, exc, data = _build(raw, resolved, level.changes)
                found = [] if exc is None else problems_from(exc, TrialConfig, data)
                found = _new_problems(found, level.changes, known, resolved)
                problems += [_within(level.where, p) for p in found]
                if config is not None and baseline is not None:
                    variants.append(VariantSpec(
                        f"{factor.name}={level.label}", factor.name, level.label, {factor.name: level.label},
                        {dotted(p): v for p, v in level.changes.items()}, config, False, level.where))
    else:
        variants += _grid(factors, all_levels, raw, resolved, baseline, problems, known)
    if problems:
        return [], problems
    return [_with_order(v, i) for i, v in enumerate(variants)], []


def _without_run_keys(raw: dict[str, Any]) -> dict[str, Any]:
    out = dict(raw)
    for section, key in RUN_KEYS:
        if isinstance(out.get(section), dict) and key in out[section]:
            out[section] = {k: v for k, v in out[section].items() if k != key}
    return out


def _new_problems(found: list[Problem], changes: dict[Path, Any], known: set[Problem],
                  resolved: dict[str, Any]) -> list[Problem]:
    """The problems a level adds to the baseline's: not the baseline's own, and, in a section that
    is broken in the baseline, only those inside the keys the level sets (the rest is noise)."""
    changed = [format_path(p) for p in changes]
    return [
        p for p in found
        if p not in known and (
            p.path.split(".")[0].split("[")[0] in resolved
            or any(p.path == c or p.path.startswith((f"{c}.", f"{c}[")) for c in changed))
    ]


def _resolve_sections(raw: dict[str, Any]) -> dict[str, Any]:
    """Each section of a broken baseline that is valid on its own, with defaults filled in."""
    resolved: dict[str, Any] = {}
    for section in SECTIONS:
        info = TrialConfig.model_fields[section]
        adapter = TypeAdapter(Annotated[info.annotation, info])  # keeps its validators, discriminator
        value = raw.get(section) if section in raw else info.get_default(call_default_factory=True)
        try:
            resolved[section] = adapter.dump_python(adapter.validate_python(value))
        except (ValidationError, TypeError, ValueError):
            continue
    return resolved


def _grid(factors: Sequence[Factor], all_levels: list[list[Level]], raw: dict, resolved: dict,
          baseline: TrialConfig | None, problems: list[Problem], known: set[Problem]) -> list[VariantSpec]:
    """Every combination of levels. A problem is reported once, at the fewest levels that cause it
    (one level, or the levels that clash), however many grid points it spoils."""
    if any(not levels for levels in all_levels):  # a factor without usable levels: already reported
        return []
    if not all_levels:
        return [] if baseline is None else [VariantSpec("baseline", None, None, {}, {}, baseline, True)]
    base_dump = None if baseline is None else baseline.model_dump(mode="json")
    reported: set[tuple[str, str, str]] = set()
    variants: list[VariantSpec] = []
    names = [f.name for f in factors]
    for point in itertools.product(*all_levels):
        config, exc, data = _build(raw, resolved, _merged(point))
        if exc is not None:
            for problem in problems_from(exc, TrialConfig, data):
                if not _new_problems([problem], _merged(point), known, resolved):
                    continue
                where = " & ".join(lv.where for lv in _culprits(point, problem, raw, resolved))
                if (where, problem.path, problem.message) not in reported:
                    reported.add((where, problem.path, problem.message))
                    problems.append(_within(where, problem))
            continue
        labels = {name: level.label for name, level in zip(names, point, strict=True)}
        variants.append(VariantSpec(
            ", ".join(f"{n}={label}" for n, label in labels.items()), ", ".join(names),
            ", ".join(labels.values()), labels, {dotted(p): v for p, v in _merged(point).items()}, config,
            config.model_dump(mode="json") == base_dump, " & ".join(lv.where for lv in point)))
    return variants


def _merged(levels: Sequence[Level]) -> dict[Path, Any]:
    changes: dict[Path, Any] = {}
    for level in levels:
        changes.update(level.changes)
    return changes


def _culprits(point: Sequence[Level], problem: Problem, raw: dict, resolved: dict) -> list[Level]:
    """The levels of `point` without which `problem` goes away (greedy: drop each level that is not
    needed to reproduce it)."""
    needed = list(point)
    for level in point:
        rest = [lv for lv in needed if lv is not level]
        if problem in _errors_of(_merged(rest), raw, resolved):
            needed = rest
    return needed


def _within(where: str, problem: Problem) -> Problem:
    """A variant's config problem, reported at the level(s) it came from."""
    return Problem(where, f"{problem.path}: {problem.message}" if problem.path else problem.message)


def _with_order(variant: VariantSpec, order: int) -> VariantSpec:
    return dataclasses.replace(variant, order=order)
