"""Key paths and error wording on their own: union labels dropped, one line per problem."""

from __future__ import annotations

from typing import Annotated, Literal, Union

import pytest
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from hyperlab.spec.messages import Problem, problems_from
from hyperlab.spec.paths import PathNotFound, format_path, get_path, parse_path, set_path


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Dense(_Strict):
    kind: Literal["dense"]
    hidden: list[int]
    dropout: Annotated[float, Field(ge=0, lt=1)] | list[Annotated[float, Field(ge=0, lt=1)]] = 0.0


class _Conv(_Strict):
    kind: Literal["conv"]
    layers: list[str]


class _Config(_Strict):
    net: Annotated[Union[_Dense, _Conv], Field(discriminator="kind")]  # noqa: UP007
    validation: float | Literal["test"] = 0.1
    epochs: int = Field(default=1, ge=1)


def problems(data: dict) -> list[Problem]:
    with pytest.raises(ValidationError) as info:
        _Config.model_validate(data)
    return problems_from(info.value, _Config, data)


def test_paths_round_trip() -> None:
    assert parse_path("model.hidden.0") == ("model", "hidden", 0)
    assert format_path(("factor", 2, "levels", 1)) == "factor[2].levels[1]"
    with pytest.raises(ValueError):
        parse_path("model..hidden")


def test_set_path_fills_missing_tables_from_the_defaults() -> None:
    tree = {"train": {"optimizer": "adam"}}
    defaults = {"train": {"optimizer": {"name": "adam", "lr": 0.001}, "epochs": 10}}
    set_path(tree, ("train", "optimizer", "lr"), 0.01, defaults)
    assert tree == {"train": {"optimizer": {"name": "adam", "lr": 0.01}}}
    set_path(tree, ("data", "subset"), 5, defaults)
    assert tree["data"] == {"subset": 5}
    with pytest.raises(ValueError):
        set_path({"a": [1]}, ("a", 3), 0)


def test_get_path_says_what_is_there() -> None:
    with pytest.raises(PathNotFound) as info:
        get_path({"train": {"epochs": 1, "optimizer": {}}}, ("train", "epoch"))
    assert str(info.value) == "no key 'epoch' in train (did you mean 'epochs'?); allowed: epochs, optimizer"


def test_a_discriminated_union_tag_is_not_part_of_the_path() -> None:
    found = problems({"net": {"kind": "dense", "hidden": [1, "a"]}})
    assert found == [Problem("net.hidden[1]", "must be an integer, got 'a'")]


def test_unknown_key_in_a_union_member_lists_that_members_keys() -> None:
    found = problems({"net": {"kind": "conv", "layers": [], "hiden": 1}})
    assert found == [Problem("net.hiden", "unknown key; allowed: kind, layers")]


def test_one_value_rejected_by_every_member_is_one_line() -> None:
    assert problems({"net": {"kind": "conv", "layers": []}, "validation": "tset"}) == [
        Problem("validation", "must be a number or 'test', got 'tset'")]


def test_the_member_the_input_meant_wins() -> None:
    # a list: the list member's error; a number out of range: the bound, not "must be a list"
    assert problems({"net": {"kind": "dense", "hidden": [], "dropout": [0.5, 1.5]}}) == [
        Problem("net.dropout[1]", "must be < 1, got 1.5")]
    assert problems({"net": {"kind": "dense", "hidden": [], "dropout": 1.5}}) == [
        Problem("net.dropout", "must be < 1, got 1.5")]


def test_unknown_tag_and_missing_key() -> None:
    assert problems({"net": {"kind": "dnse"}}) == [
        Problem("net", "unknown kind 'dnse' (did you mean 'dense'?); allowed: dense, conv")]
    assert problems({"net": {"kind": "conv"}, "epochs": 0}) == [
        Problem("net.layers", "required key is missing"), Problem("epochs", "must be >= 1, got 0")]


def test_problems_that_are_already_known_are_skipped() -> None:
    data = {"net": {"kind": "conv"}, "epochs": 0}
    with pytest.raises(ValidationError) as info:
        _Config.model_validate(data)
    assert problems_from(info.value, _Config, data, skip={("epochs", "must be >= 1, got 0")}) == [
        Problem("net.layers", "required key is missing")]
