"""The layer-string grammar of kind = "sequential" ("conv 32 k3 s1 p1", "maxpool 2", "dense 100", ...).

Parsing happens when the spec is validated, so a typo is reported before anything is built or trained.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from hyperlab.models._common import ACTIVATIONS

# type -> syntax shown in error messages and docs/models.md (the order is the order shown)
SYNTAX: dict[str, str] = {
    "conv": "conv C [kK] [sS] [pP | p=same]   (C output channels; kernel 3, stride 1, padding 0 by default)",
    "maxpool": "maxpool K [sS] [pP]   (K x K window; stride K by default)",
    "avgpool": "avgpool K [sS] [pP]   (K x K window; stride K by default)",
    "gap": "gap   (global average pooling: (C, H, W) -> (C,))",
    "bn": "bn   (batch norm: 2-d after conv/pool, 1-d after flatten/dense)",
    "dropout": "dropout P   (0 <= P < 1)",
    "flatten": "flatten",
    "dense": "dense N   (N units; a final 'dense N' is the output layer and needs N = number of outputs)",
    "res": "res C [sS] [bn=false]   (residual block: two 3x3 convs + identity or 1x1 shortcut)",
    "output": "output   (the output layer, dense to the number of outputs; only as the last entry)",
}
LAYER_TYPES: tuple[str, ...] = (*SYNTAX, *ACTIVATIONS)

_OPTION = re.compile(r"^(?P<key>[a-z]+)(?:=)?(?P<value>\d+|same|valid|true|false)$")
_TAKES_NUMBER = {"conv", "maxpool", "avgpool", "dense", "res", "dropout"}
_OPTIONS = {"conv": {"k", "s", "p"}, "maxpool": {"s", "p"}, "avgpool": {"s", "p"}, "res": {"s", "bn"}}


@dataclass(frozen=True)
class Layer:
    """One parsed entry of `layers`."""

    type: str  # a key of SYNTAX, or an activation name
    size: int = 0  # conv/res: out channels; dense: units; pools: window
    kernel: int = 3  # conv only
    stride: int = 1  # conv/res: 1 by default; pools: the window by default
    padding: int | str = 0  # an int or "same" (conv only)
    rate: float = 0.0  # dropout only
    batchnorm: bool = True  # res only


def parse_layer(text: str) -> Layer:
    """Parse one entry; raises ValueError with a message that names the entry and what is allowed."""
    tokens = text.strip().lower().split()
    if not tokens:
        raise ValueError("empty layer; allowed: " + ", ".join(LAYER_TYPES))
    kind, args = tokens[0], tokens[1:]
    if kind not in LAYER_TYPES:
        raise ValueError(f"unknown layer {text!r}; allowed: {', '.join(LAYER_TYPES)}")
    usage = f"{text!r}: expected {SYNTAX.get(kind, kind).split('   ')[0]}"
    if kind not in _TAKES_NUMBER:
        if args:
            raise ValueError(f"{usage} (no arguments)")
        return Layer(kind)
    if not args:
        raise ValueError(usage)
    number, options = args[0], args[1:]
    if kind == "dropout":
        try:
            rate = float(number)
        except ValueError:
            raise ValueError(usage) from None
        if options or not 0.0 <= rate < 1.0:
            raise ValueError(f"{usage}, got rate {number}" if not options else usage)
        return Layer("dropout", rate=rate)
    if not number.isdigit() or int(number) < 1:
        raise ValueError(f"{usage}; {number!r} is not a positive integer")
    size = int(number)
    values: dict[str, int | str] = {}
    for option in options:
        match = _OPTION.match(option)
        if match is None or match["key"] not in _OPTIONS.get(kind, set()) or match["key"] in values:
            raise ValueError(f"{usage}; unknown or repeated option {option!r}")
        values[match["key"]] = match["value"]
    return _layer_with_options(kind, size, values, usage)


def _layer_with_options(kind: str, size: int, values: dict[str, int | str], usage: str) -> Layer:
    def integer(key: str, default: int, minimum: int) -> int:
        value = values.get(key, default)
        if not str(value).isdigit() or int(value) < minimum:
            raise ValueError(f"{usage}; {key} must be an integer >= {minimum}, got {value!r}")
        return int(value)

    if kind == "dense":
        return Layer("dense", size)
    if kind == "res":
        flag = values.get("bn", "true")
        if flag not in ("true", "false"):
            raise ValueError(f"{usage}; bn must be true or false, got {flag!r}")
        return Layer("res", size, stride=integer("s", 1, 1), batchnorm=flag == "true")
    if kind == "conv":
        kernel, stride = integer("k", 3, 1), integer("s", 1, 1)
        padding: int | str = values.get("p", "0")
        if padding == "valid":
            padding = 0
        elif padding == "same":
            if stride != 1:
                raise ValueError(f"{usage}; p=same needs stride 1 (give the padding as a number)")
        else:
            padding = integer("p", 0, 0)
        return Layer("conv", size, kernel=kernel, stride=stride, padding=padding)
    # maxpool / avgpool: torch requires padding <= window / 2
    stride, padding = integer("s", size, 1), integer("p", 0, 0)
    if 2 * padding > size:
        raise ValueError(f"{usage}; padding must be at most half the window, got p{padding} for {size}")
    return Layer(kind, size, kernel=size, stride=stride, padding=padding)
