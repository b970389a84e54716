"""Reading a study file: TOML -> `--set` overrides -> validation, every problem reported at once.

    study = load_study("studies/quickstart.toml", ["train.epochs=5", "seeds=2"])

A file with problems raises one UserError whose message has one line per problem,
`<file>: <key path>: <what is wrong>`; a problem inside a value that came from `--set KEY=VALUE`
names that option instead of the file.
"""

from __future__ import annotations

import copy
import os
import re
import tomllib
from collections.abc import Sequence
from pathlib import Path as FilePath
from typing import Any

from pydantic import ValidationError

from hyperlab.errors import UserError
from hyperlab.spec.isolation import isolation_problems, isolation_space
from hyperlab.spec.limits import MAX_DEPTH, count_problems, epoch_problems, raw_problems
from hyperlab.spec.messages import Problem, problems_from
from hyperlab.spec.paths import Path, format_path, parse_path, set_path
from hyperlab.spec.search import design_problems, search_space
from hyperlab.spec.study import Factor, StudySpec
from hyperlab.spec.variants import SECTIONS, expand_sections, expand_variants


def load_study(path: str | FilePath, overrides: Sequence[str] = ()) -> StudySpec:
    """Read, override and validate a study file. Raises UserError listing every problem."""
    source = str(path)
    raw = _read_toml(source)
    too_big = raw_problems(raw)  # depth, huge strings, inf/nan: before anything walks it recursively
    if too_big:
        raise UserError("\n".join(problem.line(source) for problem in too_big))
    _resolve_data_path(raw, FilePath(source).resolve().parent)  # the file's paths: from its folder
    before = copy.deepcopy(raw)
    problems: list[tuple[str, Problem]] = []  # (source shown: the file or the --set option, problem)
    overridden: list[tuple[str, str]] = []  # (formatted key path, the option as given)
    for option in overrides:
        try:
            key_path, value = parse_override(option)
            set_path(raw, key_path, value, defaults=_resolved_or_none(before))
        except ValueError as exc:
            problems.append((f"--set {_cut(option)}", Problem("", str(exc))))
            continue
        overridden.append((format_path(key_path), _cut(option)))
    _resolve_data_path(raw, FilePath.cwd())  # a path given with --set: from where the command runs

    study: StudySpec | None = None
    too_big = raw_problems(raw)  # a deep or huge value given with --set
    if too_big:
        problems += [(_blame(p, source, overridden), p) for p in too_big]
    else:
        study, found = _validate(raw)
        problems += [(_blame(p, source, overridden), p) for p in found]
    if problems:
        lines = list(dict.fromkeys(problem.line(where) for where, problem in problems))
        raise UserError("\n".join(lines))
    assert study is not None  # no problems means the study validated
    study._source = source
    return study


def _validate(raw: dict[str, Any]) -> tuple[StudySpec | None, list[Problem]]:
    """The study and every problem of its TOML. Strict: `epochs = "2"` is not 2 (`lr = 1` is 1.0)."""
    try:
        study = StudySpec.model_validate(raw, strict=True)
    except ValidationError as exc:
        return None, (problems_from(exc, StudySpec, raw) + design_problems(raw) + isolation_problems(raw)
                      + _check_the_rest(raw))
    found = design_problems(raw) or isolation_problems(raw) or count_problems(study)
    if found:
        return study, found
    if study.design == "search":  # sampled configurations change only what search_space checks
        _, found = search_space(study)
        return study, found + epoch_problems([("", study)])
    if study.design == "isolation":  # levels and nuisance ranges: what isolation_space checks
        _, found = isolation_space(study)
        return study, found + epoch_problems([("", study)])
    variants, found = expand_variants(study)
    return study, found + epoch_problems([(v.origin, v.config) for v in variants])


def _resolve_data_path(raw: dict[str, Any], folder: FilePath) -> None:
    """Make each relative `npz:PATH` / `folder:PATH` absolute, against `folder`: in `data.dataset`
    and in the levels of factors that set it."""
    data = raw.get("data")
    if isinstance(data, dict) and "dataset" in data:
        data["dataset"] = _absolute(data["dataset"], folder)
    factors = raw.get("factor")
    for factor in factors if isinstance(factors, list) else []:
        if not isinstance(factor, dict) or not isinstance(factor.get("levels"), list):
            continue
        levels = factor["levels"]
        for i, level in enumerate(levels):
            if factor.get("path") == "data.dataset":
                levels[i] = _absolute(level, folder)
            elif isinstance(level, dict) and "data.dataset" in level:
                level["data.dataset"] = _absolute(level["data.dataset"], folder)


def _absolute(dataset: object, folder: FilePath) -> object:
    if isinstance(dataset, str):
        for prefix in ("npz:", "folder:"):
            if dataset.startswith(prefix):
                path = FilePath(dataset[len(prefix):]).expanduser()
                return dataset if path.is_absolute() else prefix + os.path.normpath(folder / path)
    return dataset


def parse_override(option: str) -> tuple[Path, Any]:
    """`"train.epochs=5"` -> `(("train", "epochs"), 5)`. The value is read as a TOML value (5, 0.1,
    true, [64, 64], "text", {name = "adam"}); anything that is not one is taken as a string."""
    key, sep, text = option.partition("=")
    if not sep or not key.strip():
        raise ValueError("expected KEY=VALUE, e.g. --set train.epochs=5")
    path = parse_path(key.strip())
    text = text.strip()
    try:
        value = tomllib.loads(f"value = {text}")["value"]
    except tomllib.TOMLDecodeError:
        value = text
    except RecursionError:
        raise ValueError(f"nested too deep (at most {MAX_DEPTH} tables or arrays inside each "
                         "other)") from None
    return path, value


def _read_toml(source: str) -> dict[str, Any]:
    try:
        data = FilePath(source).read_bytes()
    except FileNotFoundError:
        raise UserError(f"{source}: no such file") from None
    except IsADirectoryError:
        raise UserError(f"{source}: is a directory, not a study file") from None
    except OSError as exc:
        raise UserError(f"{source}: cannot read: {exc.strerror}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UserError(f"{source}: not UTF-8 text (byte {exc.start}); a study file is TOML") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise UserError(_toml_error(source, exc)) from None
    except RecursionError:  # arrays or inline tables nested thousands deep: tomllib recurses
        raise UserError(f"{source}: nested too deep for a study file (at most {MAX_DEPTH} tables or "
                        f"arrays inside each other)") from None


def _toml_error(source: str, exc: tomllib.TOMLDecodeError) -> str:
    """`study.toml: line 3, column 7: invalid TOML: Expected '=' after a key ...`."""
    message = str(exc)
    at = re.search(r"\s*\(at line (\d+), column (\d+)\)$", message)
    if at:
        return f"{source}: line {at[1]}, column {at[2]}: invalid TOML: {message[: at.start()]}"
    end = re.search(r"\s*\(at end of document\)$", message)
    if end:
        return f"{source}: end of file: invalid TOML: {message[: end.start()]}"
    return f"{source}: invalid TOML: {message}"


def _resolved_or_none(raw: dict[str, Any]) -> dict[str, Any] | None:
    """The file's study with defaults filled in (to complete tables an override goes into)."""
    try:
        return StudySpec.model_validate(raw).model_dump(mode="python")
    except ValidationError:
        return None


def _cut(option: str, most: int = 80) -> str:
    """An option as messages show it: a 6,000-character `--set` value is not echoed back whole."""
    return option if len(option) <= most else option[: most - 3] + "..."


def _blame(problem: Problem, source: str, overridden: list[tuple[str, str]]) -> str:
    """The file, or the `--set` option whose value the problem is in."""
    for key, option in reversed(overridden):  # the last option setting a key wins, as in set_path
        if problem.path == key or problem.path.startswith((f"{key}.", f"{key}[")):
            return f"--set {option}"
    return source


def _check_the_rest(raw: dict[str, Any]) -> list[Problem]:
    """The factor problems of a study that failed validation: each factor that is valid on its own
    is expanded over the file's data/model/train tables, so one run shows every problem."""
    if not all(isinstance(raw.get(s, {}), dict) for s in SECTIONS) or not isinstance(raw.get("factor"), list):
        return []
    kept: list[int] = []
    factors: list[Factor] = []
    if raw.get("design") in ("search", "isolation"):
        return []  # their factors are checked once the study validates (hyperlab.spec.search, .isolation)
    for i, table in enumerate(raw["factor"]):
        try:
            factor = Factor.model_validate(table, strict=True)
        except ValidationError:
            continue  # its own problems are reported by the study's validation
        if factor.levels is not None:  # range/choices outside a search: reported by design_problems
            factors.append(factor)
            kept.append(i)
    design = raw.get("design", "ablation") if raw.get("design") in ("ablation", "grid") else "ablation"
    sections = {s: raw[s] for s in SECTIONS if s in raw}
    _, found = expand_sections(sections, factors, design)

    def original(match: re.Match) -> str:
        return f"factor[{kept[int(match[1])]}]"

    return [Problem(re.sub(r"^factor\[(\d+)\]", original, p.path), p.message)
            for p in found if p.path.startswith("factor[")]
