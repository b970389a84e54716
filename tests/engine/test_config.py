"""The [train] section: validation messages, defaults, and what each optimizer builds."""

from __future__ import annotations

import pytest
import torch
from pydantic import ValidationError

from hyperlab.engine import LOSSES, OPTIMIZERS, SCHEDULES, TrainConfig


def errors_of(**train) -> list[dict]:
    with pytest.raises(ValidationError) as caught:
        TrainConfig(**train)
    return caught.value.errors()


def test_an_argument_the_optimizer_does_not_take_is_an_error_naming_it_and_what_it_takes():
    [error] = errors_of(optimizer={"name": "sgd", "lr": 0.1, "betas": [0.9, 0.99]})
    assert error["loc"] == ("optimizer",)
    assert "'betas'" in error["msg"]
    assert "lr, weight_decay, momentum, dampening, nesterov" in error["msg"]


def test_momentum_is_not_silently_dropped_for_adam():
    [error] = errors_of(optimizer={"name": "adam", "momentum": 0.9})
    assert "'momentum'" in error["msg"] and "betas" in error["msg"]


def test_unknown_optimizer_lists_the_choices():
    [error] = errors_of(optimizer="adamax")
    assert "'adamax'" in error["msg"]
    assert "adagrad, adam, adamw, rmsprop, sgd" in error["msg"]


def test_argument_errors_carry_the_key_path_of_the_study_file():
    errors = errors_of(optimizer={"name": "sgd", "lr": -1, "momentum": 2})
    assert [e["loc"] for e in errors] == [("optimizer", "lr"), ("optimizer", "momentum")]


def test_nesterov_without_momentum_is_refused():
    [error] = errors_of(optimizer={"name": "sgd", "nesterov": True})
    assert "nesterov needs momentum > 0" in error["msg"]


def test_unknown_train_key_is_refused():
    [error] = errors_of(epoch=3)
    assert error["loc"] == ("epoch",) and error["type"] == "extra_forbidden"


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_each_optimizer_builds_its_torch_class_with_exactly_the_configured_arguments(name):
    choice = TrainConfig(optimizer={"name": name, "lr": 0.05, "weight_decay": 0.001}).optimizer
    optimizer = choice.build([torch.nn.Parameter(torch.zeros(3))])
    assert type(optimizer) is type(choice).torch_class
    group = optimizer.param_groups[0]
    for key, value in choice.model_dump(exclude={"name"}).items():
        assert group[key] == (tuple(value) if isinstance(value, list) else value), key
    assert group["lr"] == 0.05 and group["weight_decay"] == 0.001


def test_names_are_shorthand_for_tables_and_the_config_round_trips_through_json():
    config = TrainConfig(optimizer="adamw", schedule={"name": "step", "step_size": 2}, loss="nll",
                         early_stopping={"patience": 2}, augment={"hflip": True})
    assert config.optimizer.name == "adamw" and config.optimizer.weight_decay == 0.01
    assert TrainConfig.model_validate_json(config.model_dump_json()) == config
    assert config.model_dump()["optimizer"]["betas"] == (0.9, 0.999)  # the subclass's fields are dumped


@pytest.mark.parametrize(("registry", "field"), [(OPTIMIZERS, "optimizer"), (SCHEDULES, "schedule"),
                                                  (LOSSES, "loss")])
def test_every_field_of_every_choice_has_a_docstring(registry, field):
    for cls in registry.values():
        for key, info in cls.model_fields.items():
            assert info.description, f"{field} {cls.__name__}.{key} has no docstring"
    for key, info in TrainConfig.model_fields.items():
        assert info.description, f"train.{key} has no docstring"
