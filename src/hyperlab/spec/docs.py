"""The key reference of docs/study-file.md, generated from the config models' field docstrings.

    python -m hyperlab.spec.docs            # rewrite the generated part of docs/study-file.md
    python -m hyperlab.spec.docs --check    # exit 1 when it is out of date (the tests check this)

Every table lists a section's keys with type, default and description; nested tables (optimizer,
schedule, loss, penalties, ...) get their own section, one per choice of a `name`/`kind` union.
"""

from __future__ import annotations

import ast
import inspect
import os
import sys
import tempfile
import textwrap
import types
import typing
from pathlib import Path
from typing import Any, Literal, Union, get_args, get_origin

import annotated_types
from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from hyperlab.spec.study import Budget, DataSection, Factor, Isolation, Search, StudySpec, TrainSection

BEGIN = "<!-- BEGIN GENERATED REFERENCE: python -m hyperlab.spec.docs -->"
END = "<!-- END GENERATED REFERENCE -->"
DOC_PATH = Path(__file__).resolve().parents[3] / "docs" / "study-file.md"

# (heading, key prefix, model) of the top-level sections, in the order a study file has them.
_SECTIONS: list[tuple[str, str, Any]] = [
    ("Top level", "", StudySpec),
    ("[data]", "data", DataSection),
    ("[model]", "model", StudySpec.model_fields["model"]),
    ("[train]", "train", TrainSection),
    ("[budget]", "budget", Budget),
    ("[[factor]]", "factor", Factor),
    ("[search]", "search", Search),
    ("[isolation]", "isolation", Isolation),
]
_SKIP_NESTED = {("", "data"), ("", "model"), ("", "train"), ("", "budget"), ("", "factor"), ("", "search"),
                ("", "isolation")}


def field_doc(model: type[BaseModel], name: str) -> str:
    """A field's docstring: pydantic's description, else the string literal under the field."""
    info = model.model_fields[name]
    if info.description:
        return info.description
    return _attribute_docstrings(model).get(name, "")


def _attribute_docstrings(model: type) -> dict[str, str]:
    docs: dict[str, str] = {}
    for cls in reversed(model.__mro__):
        if not (isinstance(cls, type) and issubclass(cls, BaseModel)) or cls is BaseModel:
            continue
        try:
            tree = ast.parse(textwrap.dedent(inspect.getsource(cls)))
        except (OSError, TypeError, SyntaxError):
            continue
        body = tree.body[0].body if tree.body and isinstance(tree.body[0], ast.ClassDef) else []
        for node, after in zip(body, body[1:], strict=False):
            if (isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)
                    and isinstance(after, ast.Expr) and isinstance(after.value, ast.Constant)
                    and isinstance(after.value.value, str)):
                docs[node.target.id] = inspect.cleandoc(after.value.value)
    return docs


# --- types and defaults in words -----------------------------------------------------------------


def _constraints(metadata: list[Any]) -> str:
    words = []
    for meta in metadata:
        for attr, symbol in (("ge", ">="), ("gt", ">"), ("le", "<="), ("lt", "<")):
            value = getattr(meta, attr, None)
            if value is not None and isinstance(meta, annotated_types.BaseMetadata | FieldInfo):
                words.append(f"{symbol} {value}")
        if isinstance(meta, annotated_types.MinLen) and meta.min_length:
            words.append(f"min. length {meta.min_length}")
        if isinstance(meta, FieldInfo):
            words.append(_constraints(list(meta.metadata)))
    return ", ".join(w for w in words if w)


def type_words(tp: Any, metadata: list[Any] | None = None) -> str:
    """A type as a study-file writer reads it: "integer >= 1", "list of numbers", "\"relu\", ..."."""
    origin, args = get_origin(tp), get_args(tp)
    if origin is typing.Annotated:
        return type_words(args[0], list(args[1:]) + list(metadata or []))
    bounds = _constraints(metadata or [])
    suffix = f" {bounds}" if bounds else ""
    if origin in (Union, types.UnionType):
        members = [a for a in args if a is not type(None)]
        if all(_is_model(_strip(m)) for m in members) and len(members) > 1:
            tags = [_tag(_strip(m)) for m in members]
            if all(tags) and tags[0][0] == "name":
                return "name or table with `name` (choices below)"
            return f"table with `{tags[0][0]}` (choices below)" if all(tags) else "table"
        return " or ".join(type_words(m) for m in members) + suffix
    if origin is Literal:
        return ", ".join(f"`{_toml(v)}`" for v in args)
    if origin in (list, tuple, set, frozenset):
        items = _plural(type_words(args[0]) if args else "values")
        return f"list of {items}" + (f", {bounds}" if bounds else "")
    if tp is str and bounds == "min. length 1":
        return "non-empty string"
    if origin is dict:
        return "table"
    if _is_model(tp):
        return "table"
    names = {int: "integer", float: "number", str: "string", bool: "true or false"}
    return names.get(tp, "any value" if tp is Any else getattr(tp, "__name__", str(tp))) + suffix


def _plural(words: str) -> str:
    if words.startswith(("integer", "number", "string", "table")):
        head, _, rest = words.partition(" ")
        return f"{head}s {rest}".strip()
    return words


def _strip(tp: Any) -> Any:
    while get_origin(tp) is typing.Annotated:
        tp = get_args(tp)[0]
    return tp


def _is_model(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, BaseModel)


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return repr(value)


def default_words(info: FieldInfo) -> str:
    """The default as TOML, "required", or "absent" (not set: the feature is off)."""
    if info.default_factory is not None:
        value = info.default_factory()
    elif info.default is PydanticUndefined:
        return "required"
    else:
        value = info.default
    if value is None:
        return "absent"
    if isinstance(value, BaseModel):
        tag = next((getattr(value, k) for k in ("name", "kind") if k in type(value).model_fields), None)
        return f"`{_toml(tag)}`" if tag is not None else "all defaults"
    return f"`{_toml(value)}`"


# --- tables --------------------------------------------------------------------------------------


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def documented_type(info: FieldInfo) -> Any:
    """The type a user writes for a field: a validator's declared input type when it has one (the
    engine's named choices validate a union of choices through a plain validator)."""
    for meta in info.metadata:
        declared = getattr(meta, "json_schema_input_type", Any)
        if declared is not Any and declared is not PydanticUndefined:  # a wrap validator declares none
            return declared
    return info.annotation


def _table(model: type[BaseModel], prefix: str) -> list[str]:
    lines = ["| key | type | default | description |", "| --- | --- | --- | --- |"]
    for name, info in model.model_fields.items():
        key = f"{prefix}.{name}" if prefix else name
        metadata = [m for m in info.metadata if not hasattr(m, "json_schema_input_type")]
        words = type_words(documented_type(info), metadata)
        lines.append(f"| `{key}` | {_cell(words)} | {_cell(default_words(info))} "
                     f"| {_cell(field_doc(model, name))} |")
    return lines


def _nested(tp: Any) -> list[type[BaseModel]]:
    """Model classes reachable in a field type (through Optional, unions, lists, Annotated)."""
    tp = _strip(tp)
    if _is_model(tp):
        return [tp]
    out: list[type[BaseModel]] = []
    for arg in get_args(tp):
        if arg is not type(None) and not isinstance(arg, str | int | float):
            out += _nested(arg)
    return out


def _tag(model: type[BaseModel]) -> tuple[str, Any] | None:
    for tag in ("kind", "name"):
        info = model.model_fields.get(tag)
        if info is not None and get_origin(info.annotation) is Literal:
            return tag, get_args(info.annotation)[0]
    return None


def render_reference() -> str:
    """The generated Markdown: one table per section and per nested table, in file order."""
    # First pass: every (model class, where it is used) in file order, so a class used at several
    # keys (model.l1 and model.l2) is documented once under all its keys.
    order: list[tuple[int, type[BaseModel], bool]] = []  # (heading level, class, one of several choices)
    keys: dict[type[BaseModel], list[str]] = {}

    def visit(level: int, model: type[BaseModel], key: str, choice: bool) -> None:
        if model in keys:
            if key not in keys[model]:
                keys[model].append(key)
            return
        keys[model] = [key]
        order.append((level, model, choice))
        for name, info in model.model_fields.items():
            if (key, name) in _SKIP_NESTED:
                continue
            members = _nested(documented_type(info))
            for member in members:
                visit(min(level + 1, 4), member, f"{key}.{name}" if key else name, len(members) > 1)

    for _, key, target in _SECTIONS:
        if isinstance(target, FieldInfo):  # the model union: one section per kind
            for member in _nested(target.annotation):
                visit(3, member, key, True)
        else:
            visit(2, target, key, False)

    heading_of = {model: heading for heading, _, model in _SECTIONS if not isinstance(model, FieldInfo)}
    model_kinds = _nested(StudySpec.model_fields["model"].annotation)
    out: list[str] = []
    for level, model, choice in order:
        if model is model_kinds[0]:
            out.extend(["## [model]", "", "`kind` picks the family; each has its own keys.", ""])
        where = ", ".join(f"`{k}`" for k in keys[model])
        tag = _tag(model)
        if model in heading_of:
            heading = heading_of[model]
        elif choice and tag:
            heading = f"{where} with {tag[0]} = {_toml(tag[1])}"
        else:
            heading = where
        out.extend([f"{'#' * level} {heading}", ""])
        doc = inspect.cleandoc(model.__doc__ or "")
        if doc:
            out.extend([" ".join(doc.split()), ""])
        out.extend(_table(model, keys[model][0]))
        out.append("")
    return "\n".join(out).rstrip() + "\n"


def splice(document: str, reference: str) -> str:
    """`document` with the text between BEGIN and END replaced by `reference`."""
    start, end = document.index(BEGIN) + len(BEGIN), document.index(END)
    return document[:start] + "\n\n" + reference + "\n" + document[end:]


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    path = Path(next((a for a in args if not a.startswith("-")), DOC_PATH))
    document = path.read_text(encoding="utf-8")
    updated = splice(document, render_reference())
    if "--check" in args:
        if updated != document:
            print(f"{path}: the key reference is out of date; run `python -m hyperlab.spec.docs`")
            return 1
        return 0
    if updated != document:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(updated)
        os.replace(tmp, path)  # atomic: a reader never sees half a file
        print(f"{path}: reference updated")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
