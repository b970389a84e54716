"""pydantic validation errors -> one short line per problem, keyed by the path the user wrote.

pydantic reports `("model", "mlp", "hidden", 1)` for a bad hidden width (the `mlp` is the
discriminated union's tag) and two errors for one bad `float | "test"` value (one per union
member). A user wants `model.hidden[1]: must be an integer, got 'a'` and one line per problem.
So each error's location is walked against the config types: union member labels are dropped,
members that the input clearly did not mean are discarded, and what remains is put in words.
"""

from __future__ import annotations

import re
import types
import typing
from dataclasses import dataclass
from typing import Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, Discriminator, Tag, ValidationError
from pydantic.fields import FieldInfo

from hyperlab.spec.paths import Path, did_you_mean, format_path


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a study: where (a key path as the user reads it) and what."""

    path: str  # e.g. "train.optimizer.lr" or "factor[2].levels[1]"; "" for the file as a whole
    message: str  # e.g. "must be > 0, got -1"

    def line(self, source: str) -> str:
        """`source: path: message`, the one-line form the CLI prints."""
        return f"{source}: {self.path}: {self.message}" if self.path else f"{source}: {self.message}"


# --- locating an error in the config types -----------------------------------------------------


@dataclass(frozen=True)
class _Located:
    path: Path  # the location without union member labels
    union_at: Path | None  # where the innermost union was (None: no union on the way)
    parent: Any  # the type holding the last segment (a model class for unknown keys), or None
    node: tuple[Any, Any]  # (type at the location or None if it could not be followed, discriminator)


def _unwrap(tp: Any, disc: Any = None) -> tuple[Any, Any]:
    """Strip Annotated and Optional; keep a discriminator found on the way."""
    while True:
        origin = get_origin(tp)
        if origin is typing.Annotated:
            args = get_args(tp)
            for meta in args[1:]:
                if isinstance(meta, FieldInfo) and meta.discriminator is not None:
                    disc = meta.discriminator
                elif isinstance(meta, Discriminator):
                    disc = meta
            tp = args[0]
        elif origin in (Union, types.UnionType):
            members = [a for a in get_args(tp) if a is not type(None)]
            if len(members) != 1:
                return tp, disc
            tp = members[0]
        else:
            return tp, disc


def _is_union(tp: Any) -> bool:
    return get_origin(tp) in (Union, types.UnionType)


def _is_model(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, BaseModel)


def _union_members(tp: Any) -> list[Any]:
    return [a for a in get_args(tp) if a is not type(None)]


def _tag_values(member: Any, disc: Any) -> list[Any]:
    """The discriminator values that select `member` of a tagged union."""
    if get_origin(member) is typing.Annotated:
        tags = [m.tag for m in get_args(member)[1:] if isinstance(m, Tag)]
        if tags:
            return tags
    inner, _ = _unwrap(member)
    if isinstance(disc, str) and _is_model(inner) and disc in inner.model_fields:
        annotation = inner.model_fields[disc].annotation
        if get_origin(annotation) is Literal:
            return list(get_args(annotation))
    return []


def _pick_member(union: Any, label: str | int, disc: Any) -> Any:
    """The union member pydantic labelled `label` in an error location, or None if unsure."""
    for member in _union_members(union):
        if label in _tag_values(member, disc):
            return member
        inner, _ = _unwrap(member)
        name = getattr(inner, "__name__", None)
        origin = get_origin(inner)
        if (
            (name is not None and label == name)
            or (isinstance(label, str) and origin is not None
                and label.startswith(f"{getattr(origin, '__name__', '')}["))
            or (isinstance(label, str) and origin is Literal and label.startswith("literal["))
        ):
            return member
    return None


def _item_type(tp: Any, index: int) -> Any:
    origin, args = get_origin(tp), get_args(tp)
    if origin is tuple and args and args[-1] is not Ellipsis:
        return args[index] if index < len(args) else None
    if origin in (list, tuple, set, frozenset) and args:
        return args[0]
    return None


def _member_for_key(union: Any, disc: Any, key: str | int, value: Any) -> Any:
    """The member of `union` whose field `key` an error names (some validators drop the tag from
    error locations): the member the input's tag selects, else the first member with that field."""
    if isinstance(disc, str) and isinstance(value, dict) and disc in value:
        for member in _union_members(union):
            if value[disc] in _tag_values(member, disc):
                return member
    for member in _union_members(union):
        inner, _ = _unwrap(member)
        if _is_model(inner) and key in inner.model_fields:
            return member
    return None


def _child(value: Any, segment: str | int) -> Any:
    if isinstance(value, dict):
        return value.get(segment, value.get(str(segment)))
    if isinstance(value, list) and isinstance(segment, int) and 0 <= segment < len(value):
        return value[segment]
    return None


def _locate(root: Any, loc: tuple[str | int, ...], data: Any = None) -> _Located:
    """Follow an error location through the types from `root`, alongside the input `data`."""
    tp, disc, value = root, None, data
    path: list[str | int] = []
    union_at: Path | None = None
    parent: Any = None
    for segment in loc:
        if tp is not None:
            tp, disc = _unwrap(tp, disc)
        if tp is not None and _is_union(tp):
            member = _pick_member(tp, segment, disc)
            if member is not None:  # this segment is a member's label, not a key: drop it
                union_at = tuple(path)
                tp, disc = member, None
                continue
            union_at = tuple(path)
            tp, disc = _unwrap(_member_for_key(tp, disc, segment, value))
            if tp is None and not isinstance(segment, int) and not isinstance(value, dict):
                continue  # an unrecognised label (e.g. function-after[...]): drop it as well
        parent = tp
        path.append(segment)
        value = _child(value, segment)
        if tp is None:
            continue
        if isinstance(segment, int):
            tp, disc = _item_type(tp, segment), None
        elif _is_model(tp):
            field = tp.model_fields.get(segment)
            tp, disc = (field.annotation, field.discriminator) if field is not None else (None, None)
        elif get_origin(tp) is dict:
            tp, disc = get_args(tp)[1] if get_args(tp) else None, None
        else:
            tp, disc = None, None
    if tp is not None:
        tp, disc = _unwrap(tp, disc)
    return _Located(tuple(path), union_at, parent, (tp, disc))


# --- putting an error in words -------------------------------------------------------------------

_EXPECTED_BY_TYPE = {
    "int": "an integer",
    "float": "a number",
    "bool": "true or false",
    "string": "a string",
    "list": "a list",
    "tuple": "a list",
    "set": "a list",
    "dict": "a table",
    "model": "a table",
    "model_attributes": "a table",
}

_BOUND_WORDS = [
    (r"Input should be greater than or equal to (.+)", ">= "),
    (r"Input should be greater than (.+)", "> "),
    (r"Input should be less than or equal to (.+)", "<= "),
    (r"Input should be less than (.+)", "< "),
]

# Longer values are cut (a long list of layers would push the message off the screen).
_MAX_SHOWN = 60


def show(value: Any) -> str:
    """A value as a user would write it in TOML, shortened when long."""
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, str):
        text = repr(value)
    elif value is None:
        text = "nothing"
    elif isinstance(value, dict):
        text = "{" + ", ".join(f"{k} = {show(v)}" for k, v in value.items()) + "}"
    elif isinstance(value, list | tuple):
        text = "[" + ", ".join(show(v) for v in value) + "]"
    else:
        text = repr(value)
    return text if len(text) <= _MAX_SHOWN else text[: _MAX_SHOWN - 3] + "..."


def _number(value: Any) -> Any:
    """0.0 -> 0 in a bound (the architecture's example reads "must be > 0, got -1")."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _expected(error: dict) -> str | None:
    """What a type error expected ("an integer", "one of 'a', 'b'"), or None if not a type error."""
    kind = error["type"]
    if kind == "literal_error":
        expected = (error.get("ctx") or {}).get("expected") or error["msg"].removeprefix("Input should be ")
        return expected if len(_literal_options(error)) == 1 else f"one of {expected}"
    if kind == "int_from_float":
        return "a whole number"
    for suffix in ("_type", "_parsing"):
        if kind.endswith(suffix):
            return _EXPECTED_BY_TYPE.get(kind.removesuffix(suffix), kind.removesuffix(suffix))
    return None


def _float_or_text(text: str) -> Any:
    try:
        return float(text)
    except ValueError:
        return text


def _literal_options(error: dict) -> list[str]:
    return re.findall(r"'([^']*)'", str((error.get("ctx") or {}).get("expected", error["msg"])))


def _words(error: dict, located: _Located) -> str:
    """One error as a short sentence (without its path)."""
    kind, ctx, value = error["type"], error.get("ctx", {}) or {}, error.get("input")
    got = f", got {show(value)}"
    bounds = {
        "greater_than": ("> ", "gt"),
        "greater_than_equal": (">= ", "ge"),
        "less_than": ("< ", "lt"),
        "less_than_equal": ("<= ", "le"),
        "multiple_of": ("a multiple of ", "multiple_of"),
    }
    if kind in bounds and bounds[kind][1] in ctx:
        words, key = bounds[kind]
        return f"must be {words}{_number(ctx[key])}{got}"
    if kind == "missing":
        return "required key is missing"
    if kind == "extra_forbidden":
        allowed = list(located.parent.model_fields) if _is_model(located.parent) else []
        name = str(located.path[-1]) if located.path else ""
        listing = f"; allowed: {', '.join(allowed)}" if allowed else ""
        return f"unknown key{did_you_mean(name, allowed)}{listing}"
    if kind == "literal_error":
        hint = did_you_mean(value, _literal_options(error)) if isinstance(value, str) else ""
        return f"must be {_expected(error)}{got}{hint}"
    if kind == "union_tag_invalid" and "expected_tags" in ctx:
        tags = re.findall(r"'([^']*)'", str(ctx.get("expected_tags", "")))
        what = str(ctx.get("discriminator", "")).strip("'")
        return (f"unknown {what} {show(ctx.get('tag'))}{did_you_mean(str(ctx.get('tag')), tags)}; "
                f"allowed: {', '.join(tags)}")
    if kind == "union_tag_not_found" and "discriminator" in ctx:
        what = str(ctx.get("discriminator", "")).strip("'")
        union, disc = located.node
        tags = [t for m in _union_members(union) for t in _tag_values(m, disc)] if _is_union(union) else []
        allowed = f" ({', '.join(map(str, tags))})" if tags else ""
        if not isinstance(value, dict):
            return f"must be a table with a `{what}` key{allowed}{got}"
        return f"`{what}` is missing: say which one{allowed}"
    if kind in ("too_short", "too_long") and ctx:
        limit = ctx.get("min_length") if kind == "too_short" else ctx.get("max_length")
        words = "at least" if kind == "too_short" else "at most"
        return f"must have {words} {limit} item{'s' if limit != 1 else ''}{got}"
    if kind == "string_too_short" and ctx:
        if ctx.get("min_length") == 1:
            return "must not be empty"
        return f"needs at least {ctx.get('min_length')} characters"
    if kind == "string_too_long" and ctx:
        return f"must have at most {ctx.get('max_length')} characters{got}"
    if kind == "string_pattern_mismatch" and ctx:
        return f"must match {ctx.get('pattern')}{got}"
    if kind in ("value_error", "assertion_error"):
        return re.sub(r"^(Value error|Assertion failed), ", "", error["msg"])
    expected = _expected(error)
    if expected is not None:
        return f"must be {expected}{got}"
    message = error["msg"]
    for pattern, words in _BOUND_WORDS:
        bound = re.fullmatch(pattern, message)
        if bound:  # a bound whose context was lost on the way (re-raised by a wrapping validator)
            return f"must be {words}{_number(_float_or_text(bound[1]))}{got}"
    if message.startswith("Input should be "):  # pydantic's own wording, its context lost on the way
        return f"must be {message.removeprefix('Input should be ')}{got}"
    return message  # custom errors (PydanticCustomError) are written for users already


def problems_from(
    exc: ValidationError, root: Any, data: Any = None, prefix: Path = (),
    skip: set[tuple[str, str]] | None = None,
) -> list[Problem]:
    """One Problem per distinct problem in `exc`, located against the type `root` and the input
    `data` that was validated (it tells which member of a union the input meant).

    `prefix` is prepended to every path (e.g. a section name); problems whose (path, message) is in
    `skip` are dropped (used to report only what a factor level adds to the baseline's problems).
    """
    located = [(err, _locate(root, tuple(err["loc"]), data)) for err in exc.errors()]
    located = _drop_unmeant_members(located)
    problems: list[Problem] = []
    by_path: dict[Path, list[tuple[dict, _Located]]] = {}
    for err, loc in located:
        by_path.setdefault(loc.path, []).append((err, loc))
    for path, group in by_path.items():
        shown = format_path(prefix + path)
        expected = [_expected(err) for err, _ in group]
        if len(group) > 1 and all(e is not None for e in expected):  # one value, several members
            unique = list(dict.fromkeys(expected))
            messages = [f"must be {' or '.join(unique)}, got {show(group[0][0].get('input'))}"]
        else:
            messages = list(dict.fromkeys(_words(err, loc) for err, loc in group))
        for message in messages:
            if skip is None or (shown, message) not in skip:
                problems.append(Problem(shown, message))
    return problems


def _drop_unmeant_members(located: list[tuple[dict, _Located]]) -> list[tuple[dict, _Located]]:
    """Of a union's errors, keep those of the members the input was meant for.

    A member whose error is deeper than the union (the input had the member's shape: a list for
    `list[float]`) or a bound violated (the input had the right type, e.g. a number over a limit)
    beats a member that rejected the input's type outright.
    """
    keep = []
    for err, loc in located:
        if loc.union_at is not None and loc.path == loc.union_at and _expected(err) is not None:
            siblings = [(e, o) for e, o in located if o.union_at == loc.union_at and o is not loc]
            meant = any(
                len(o.path) > len(loc.union_at) or (o.path == loc.path and _expected(e) is None)
                for e, o in siblings
            )
            if meant:
                continue
        keep.append((err, loc))
    return keep
