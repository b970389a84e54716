"""Named choices (optimizers, schedules, losses): one pydantic model per choice, chosen by `name`.

A study writes `optimizer = {name = "sgd", lr = 0.1, momentum = 0.9}` or just `optimizer = "adam"`.
The validator below turns a wrong name or an argument the chosen kind does not take into one message
that names it and lists what is allowed: an argument silently dropped would make a study compare
something other than what its file says.
"""

from __future__ import annotations

from typing import Annotated, Any, Union

from pydantic import BaseModel, ConfigDict, PlainValidator, SerializeAsAny
from pydantic_core import PydanticCustomError


class Choice(BaseModel):
    """Base of every named choice: unknown keys are errors, field docstrings become descriptions."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True, frozen=True)

    name: str
    """Which choice (each subclass narrows it to its own literal name)."""

    @classmethod
    def arguments(cls) -> list[str]:
        """The keys this choice takes besides `name`, in declaration order."""
        return [key for key in cls.model_fields if key != "name"]


def choice_field(what: str, base: type[Choice], registry: dict[str, type[Choice]]) -> Any:
    """The annotated type of a field holding one of `registry`'s choices, all subclasses of `base`."""

    def check(value: Any) -> Any:
        if isinstance(value, Choice):
            value = value.model_dump()
        if isinstance(value, str):
            value = {"name": value}
        if not isinstance(value, dict):
            raise PydanticCustomError("invalid", f"a {what} is a name or a table with `name`")
        name = value.get("name")
        if name not in registry:
            raise PydanticCustomError(
                "invalid", f"unknown {what} {name!r}; choose one of: {', '.join(sorted(registry))}")
        cls = registry[name]
        unknown = [key for key in value if key != "name" and key not in cls.model_fields]
        if unknown:
            takes = ", ".join(cls.arguments()) or "no arguments"
            raise PydanticCustomError(
                "invalid",
                f"{what} {name!r} does not take {', '.join(map(repr, unknown))}; it takes: {takes}")
        # Validating here, not through a pydantic discriminated union, keeps error locations the
        # study file's key paths (`optimizer.lr`, not `optimizer.sgd.lr`).
        return cls.model_validate(value)

    union = Union[tuple(registry.values())]  # noqa: UP007 (built at run time from the registry)
    # SerializeAsAny: dump the chosen subclass's fields, not only the base's.
    return Annotated[SerializeAsAny[base], PlainValidator(check, json_schema_input_type=union)]
