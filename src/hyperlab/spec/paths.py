"""Dotted key paths (`train.optimizer.lr`, `model.hidden.0`) over the nested dicts of a study.

A path is a tuple of segments: strings for table keys, ints for list indices. Errors are reported
with `format_path` (`factor[2].levels[1]`, `train.optimizer.lr`), which is how the user reads them.
"""

from __future__ import annotations

import copy
import difflib
from collections.abc import Iterable, Sequence
from typing import Any

Path = tuple[str | int, ...]


def parse_path(text: str) -> Path:
    """`"model.hidden.0"` -> `("model", "hidden", 0)`. Raises ValueError for an empty segment."""
    segments: list[str | int] = []
    for part in text.split("."):
        part = part.strip()
        if not part:
            raise ValueError(f"{text!r} is not a dotted key path (empty part)")
        segments.append(int(part) if part.isdigit() else part)
    return tuple(segments)


def format_path(path: Sequence[str | int]) -> str:
    """`("factor", 2, "levels", 1)` -> `"factor[2].levels[1]"`."""
    out = ""
    for segment in path:
        if isinstance(segment, int):
            out += f"[{segment}]"
        else:
            out += f".{segment}" if out else str(segment)
    return out


def dotted(path: Sequence[str | int]) -> str:
    """`("model", "hidden", 0)` -> `"model.hidden.0"`: the form a user writes in a factor's path."""
    return ".".join(str(s) for s in path)


class PathNotFound(Exception):
    """`path` does not exist in a tree: `missing` is the first segment not found under `found`."""

    def __init__(self, found: Path, missing: str | int, allowed: list[str]):
        self.found, self.missing, self.allowed = found, missing, allowed
        where = dotted(found) or "the top level"
        hint = did_you_mean(str(missing), allowed)
        listing = f"; allowed: {', '.join(allowed)}" if allowed else ""
        super().__init__(f"no key {str(missing)!r} in {where}{hint}{listing}")


def get_path(tree: Any, path: Path) -> Any:
    """The value at `path`, or PathNotFound naming the first missing segment."""
    node = tree
    for depth, segment in enumerate(path):
        if isinstance(node, dict) and str(segment) in node:
            node = node[str(segment)]
        elif isinstance(node, list) and isinstance(segment, int) and 0 <= segment < len(node):
            node = node[segment]
        else:
            allowed = [str(k) for k in node] if isinstance(node, dict) else []
            if isinstance(node, list):
                allowed = [str(i) for i in range(len(node))]
            raise PathNotFound(path[:depth], segment, allowed)
    return node


def set_path(tree: dict, path: Path, value: Any, defaults: Any = None) -> None:
    """Set `path` in `tree` (in place) to `value`.

    A missing or non-table intermediate node is filled with a copy of the same node in `defaults`
    (the resolved config) when it has one, else with an empty table: so `train.optimizer.lr` can be
    set in a file that only wrote `optimizer = "adam"`, keeping the optimizer's name. Raises
    ValueError when `path` goes through a list index that does not exist.
    """
    node: Any = tree
    for depth, segment in enumerate(path[:-1]):
        default_child = _lookup(defaults, path[: depth + 1])
        if isinstance(node, list):
            if not (isinstance(segment, int) and 0 <= segment < len(node)):
                raise ValueError(f"{dotted(path[:depth])} has no item {segment}")
            child = node[segment]
        else:
            segment = str(segment)  # a table key, even when it looks like a number
            child = node.get(segment)
        if not isinstance(child, dict | list):
            child = copy.deepcopy(default_child) if isinstance(default_child, dict | list) else {}
            node[segment] = child
        node = child
    last = path[-1]
    if isinstance(node, list):
        if not (isinstance(last, int) and 0 <= last < len(node)):
            raise ValueError(f"{dotted(path[:-1])} has no item {last}")
    else:
        last = str(last)
    node[last] = copy.deepcopy(value)


def _lookup(tree: Any, path: Path) -> Any:
    try:
        return get_path(tree, path)
    except PathNotFound:
        return None


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """` (did you mean 'x'?)` for the closest choice, or "" when none is close."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""
