"""The model kinds: adding one is a module (spec class + builder) and one line in KINDS."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Annotated, Any, Union

from pydantic import Field, TypeAdapter, ValidationError, WrapValidator
from pydantic_core import InitErrorDetails, PydanticCustomError

from hyperlab.models.mlp import MLPSpec, build_mlp
from hyperlab.models.python import PythonSpec, build_python
from hyperlab.models.resnet import ResNetSpec, build_resnet
from hyperlab.models.sequential import SequentialSpec, build_sequential

if TYPE_CHECKING:  # torch loads where tensors are used, so configs validate without it
    from torch import nn

Builder = Callable[[Any, tuple[int, ...], int], "nn.Module"]

KINDS: dict[str, tuple[type, Builder]] = {
    "mlp": (MLPSpec, build_mlp),
    "sequential": (SequentialSpec, build_sequential),
    "resnet": (ResNetSpec, build_resnet),
    "python": (PythonSpec, build_python),
}



def _drop_kind_from_paths(value: Any, handler: Any) -> Any:
    """Pydantic puts the chosen kind in every error path (model.sequential.layers.3); drop it so the
    paths are the keys the user wrote (model.layers.3)."""
    try:
        return handler(value)
    except ValidationError as exc:
        errors = [_without_kind(err) for err in exc.errors()]
        raise ValidationError.from_exception_data(exc.title, errors) from None


def _without_kind(err: Any) -> InitErrorDetails:
    loc, message = err["loc"], err["msg"]
    if loc and loc[0] in KINDS:
        loc = loc[1:]
    elif err["type"] in ("union_tag_invalid", "union_tag_not_found"):
        loc, kinds = ("kind",), ", ".join(KINDS)
        got = err["input"].get("kind") if isinstance(err["input"], Mapping) else None
        message = f"must be one of {kinds}, got {got!r}" if got is not None else f"missing; one of {kinds}"
    return InitErrorDetails(type=PydanticCustomError(err["type"], message), loc=loc, input=err["input"])


# The `[model]` table: pydantic picks the class from `kind`.
ModelSpec = Annotated[
    Union[tuple(spec for spec, _ in KINDS.values())],  # noqa: UP007 (a union built from the registry)
    Field(discriminator="kind"),
    WrapValidator(_drop_kind_from_paths),
]

_ADAPTER: TypeAdapter = TypeAdapter(ModelSpec)


def parse_model_spec(data: Mapping[str, Any]) -> Any:
    """Validate a `[model]` table into its spec class (raises pydantic.ValidationError)."""
    return _ADAPTER.validate_python(data)


def build_model(spec: Any, input_shape: tuple[int, ...], n_outputs: int, seed: int) -> nn.Module:
    """Build the network for one example of `input_shape` (torch layout, e.g. (3, 32, 32) or (8,))
    and `n_outputs` outputs (classes, or 1 for regression).

    Seeded: the same seed gives the same initial weights; the global RNG state is left untouched
    (the CPU generator is forked, seeded, and restored). The model is built on the CPU in training
    mode. `spec` may also be a plain dict (validated first). Raises UserError when the spec does not
    fit the input shape (the message names the key, e.g. model.layers[4]).
    """
    import torch

    if isinstance(spec, Mapping):
        spec = parse_model_spec(spec)
    builder = KINDS[spec.kind][1]
    with torch.random.fork_rng(devices=[]):
        torch.default_generator.manual_seed(seed)  # the CPU generator only: CUDA's stays untouched
        model = builder(spec, tuple(int(s) for s in input_shape), int(n_outputs))
    return model
