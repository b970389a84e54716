"""kind = "python": any nn.Module the user writes, made by `factory(input_shape, n_outputs, **kwargs)`.

This imports and runs the user's code (at build time, never at validation time): only use study files
you trust.
"""

from __future__ import annotations

import importlib
import os
import re
import sys
from typing import TYPE_CHECKING, Any, Literal

from pydantic import field_validator

from hyperlab.errors import UserError
from hyperlab.models._common import SpecBase, invalid

if TYPE_CHECKING:  # torch loads where tensors are used, so configs validate without it
    from torch import nn

_FACTORY = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_][\w.]*$")


class PythonSpec(SpecBase):
    """A model made by a Python function (runs user code)."""

    kind: Literal["python"] = "python"
    """Model family: a user factory function."""

    factory: str
    """The function as "package.module:function", importable from the working directory or the
    Python path; called as function(input_shape, n_outputs, **kwargs), it must return an nn.Module.
    For L1/L2 penalties the module may set `hyperlab_penalties` (see hyperlab.models.Penalty)."""

    kwargs: dict[str, Any] = {}
    """Keyword arguments passed to the factory (JSON/TOML values)."""

    @field_validator("factory")
    @classmethod
    def _module_colon_function(cls, value: str) -> str:
        if not _FACTORY.match(value):
            raise invalid(f"must be 'package.module:function', got {value!r}")
        return value


def build_python(spec: PythonSpec, input_shape: tuple[int, ...], n_outputs: int) -> nn.Module:
    """Import the factory and call it; every failure is a UserError that names the factory."""
    from torch import nn

    module_name, _, attr_path = spec.factory.partition(":")
    cwd_missing = os.getcwd() not in sys.path  # the `hyperlab` script does not put it there itself
    if cwd_missing:
        sys.path.insert(0, os.getcwd())
    try:
        target: Any = importlib.import_module(module_name)
    except Exception as exc:  # ImportError, or any error raised while importing the user's module
        raise UserError(f"model.factory: cannot import {module_name!r} for {spec.factory!r}: "
                        f"{type(exc).__name__}: {exc}") from exc
    finally:
        if cwd_missing:
            sys.path.remove(os.getcwd())
    for attr in attr_path.split("."):
        if not hasattr(target, attr):
            raise UserError(f"model.factory: {spec.factory!r}: {module_name!r} has no attribute "
                            f"{attr_path!r}")
        target = getattr(target, attr)
    if not callable(target):
        raise UserError(f"model.factory: {spec.factory!r} is not callable")
    try:
        model = target(tuple(input_shape), n_outputs, **spec.kwargs)
    except Exception as exc:
        raise UserError(f"model.factory: {spec.factory}(input_shape={tuple(input_shape)}, "
                        f"n_outputs={n_outputs}, **{spec.kwargs}) raised {type(exc).__name__}: {exc}"
                        ) from exc
    if not isinstance(model, nn.Module):
        raise UserError(f"model.factory: {spec.factory!r} returned {type(model).__name__}, "
                        f"not a torch.nn.Module")
    return model
