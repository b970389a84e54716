"""`hyperlab inspect FILE [--json] [--all]`: layer summary, parameters, MACs and FLOPs, without training.

FILE is a study file (every variant is measured) or a model file: a `[model]` table and an optional
`[data]` table. Each variant is measured by hyperlab.measure.measure_config and rendered by
render_text / render_json; nothing is trained and no dataset array is loaded.
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from hyperlab.errors import UserError

if TYPE_CHECKING:
    from pydantic import ValidationError

    from hyperlab.data.config import DataConfig

# Top-level keys that only a study file has; a file with none of them is a model file.
_STUDY_KEYS = ("name", "design", "seeds", "train", "budget", "factor", "description")


@dataclass(frozen=True)
class Variant:
    """One model to measure: its variant name, model spec, data config and output width."""

    name: str
    model: Any  # a ModelSpec
    data: DataConfig  # hyperlab.data.config.DataConfig
    n_outputs: int | None = None  # None: the dataset's (classes, or 1 for regression)


def command(
    file: Path = typer.Argument(..., help="A study file, or a TOML file with [model] (and [data])."),
    as_json: bool = typer.Option(False, "--json", help="Print params, MACs and FLOPs per variant as JSON."),
    show_all: bool = typer.Option(False, "--all", help="Print the layer table of every variant."),
) -> None:
    """Print the layer summary, parameters, MACs and FLOPs of each variant (nothing is trained)."""
    variants = load_variants(file)
    measured = measure_variants(file, variants)
    typer.echo(render_json(measured) if as_json else render_text(measured, show_all=show_all))


def load_variants(file: Path) -> list[Variant]:
    """The variants of FILE: every variant of a study, or "baseline" for a model file. Raises
    UserError listing every problem, each as `file: key.path: message`."""
    raw = _read(file)
    if any(key in raw for key in _STUDY_KEYS):
        return _study_variants(file)
    if "model" not in raw:
        raise UserError(f"{file}: model: missing; add a [model] table (see docs/models.md)")
    from pydantic import ValidationError

    from hyperlab.data.config import DataConfig
    from hyperlab.models import parse_model_spec  # torch is imported only when the command runs

    problems: list[str] = []
    parsed: dict[str, Any] = {}
    def parse_data(table: dict) -> DataConfig:  # data.root is a run setting, not the data's identity
        return DataConfig(**{k: v for k, v in table.items() if k != "root"})

    for key, parse in (("model", parse_model_spec), ("data", parse_data)):
        value = raw.get(key, {})
        if not isinstance(value, dict):
            problems.append(f"{file}: {key}: must be a table, got {type(value).__name__}")
            continue
        try:
            parsed[key] = parse(value)
        except ValidationError as exc:
            problems.extend(f"{file}: {line}" for line in error_lines(exc, key))
    if problems:
        raise UserError("\n".join(problems))
    return [Variant("baseline", parsed["model"], parsed["data"])]


def _read(file: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(f"{file}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"{file}: cannot read: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise UserError(f"{file}: invalid TOML: {exc}") from None


def _study_variants(file: Path) -> list[Variant]:
    from hyperlab.measure import input_info
    from hyperlab.spec import expand_variants, load_study

    study = load_study(file)  # UserError listing every problem of the file
    variants, problems = expand_variants(study)
    if problems:  # load_study has already reported these; kept for safety
        raise UserError("\n".join(problem.line(str(file)) for problem in problems))
    out = []
    for v in variants:
        loss = v.config.train.loss  # the loss decides the output width (e.g. bce: 1 for 2 classes)
        info = input_info(v.config.data)
        why_not = loss.check(info.task, info.n_outputs)
        if why_not:
            raise UserError(f"{file}: {v.origin or 'train'}: train.loss: {why_not}")
        out.append(Variant(v.name, v.config.model, v.config.data, loss.output_width(info.n_outputs)))
    return out


def error_lines(exc: ValidationError, prefix: str) -> list[str]:
    """One "key.path[i]: message" line per validation error."""
    lines = []
    for err in exc.errors():
        path = prefix
        for part in err["loc"]:
            path += f"[{part}]" if isinstance(part, int) else f".{part}"
        message, value = err["msg"], err.get("input")
        if isinstance(value, str | int | float) and repr(value) not in message:
            message += f", got {value!r}"  # pydantic's own messages do not say what was given
        lines.append(f"{path}: {message}")
    return lines


def measure_variants(file: Path, variants: list[Variant]) -> list[tuple[str, dict[str, Any]]]:
    """(name, measure_config result) per variant; variants with the same model, data and output
    width are measured once."""
    from hyperlab.measure import measure_config

    cache: dict[str, dict[str, Any]] = {}
    out = []
    for v in variants:
        key = json.dumps([v.model.model_dump(mode="json"), v.data.model_dump(mode="json"), v.n_outputs],
                         sort_keys=True)
        if key not in cache:
            try:
                cache[key] = measure_config(v.model, v.data, n_outputs=v.n_outputs)
            except UserError as exc:  # the model does not fit the data: name the file and variant
                where = "" if v.name == "baseline" else f"variant {v.name!r}: "
                raise UserError(f"{file}: {where}{exc}") from None
        out.append((v.name, cache[key]))
    return out


def render_text(measured: list[tuple[str, dict[str, Any]]], show_all: bool = False) -> str:
    """The first variant's layer table (every variant's with show_all), then, for several variants,
    one line per variant."""
    parts = []
    for name, m in measured if show_all else measured[:1]:
        shape = "x".join(str(s) for s in m["input_shape"])
        parts.append(f"== {name}: input {shape}, {m['n_outputs']} outputs ({m['task']}) ==\n{m['text']}")
    if len(measured) > 1:
        width = max(len(name) for name, _ in measured)
        rows = [f"{'variant'.ljust(width)}  {'params':>12}  {'MACs':>15}  {'FLOPs':>15}  {'train FLOPs':>15}"]
        rows += [f"{name.ljust(width)}  {m['params']:>12,}  {m['macs']:>15,}  {m['flops']:>15,}  "
                 f"{m['train_flops']:>15,}" for name, m in measured]
        parts.append("Per example (train FLOPs = 3 x forward):\n" + "\n".join(rows))
    return "\n\n".join(parts)


def render_json(measured: list[tuple[str, dict[str, Any]]]) -> str:
    """{"variants": [{"name", "params", "trainable_params", "macs", "flops", "train_flops",
    "flops_by_op"}, ...]}"""
    keys = ("params", "trainable_params", "macs", "flops", "train_flops", "flops_by_op")
    return json.dumps({"variants": [{"name": name, **{k: m[k] for k in keys}} for name, m in measured]},
                      indent=2)
