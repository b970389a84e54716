"""regularization_loss: the declared L1/L2 penalties, Keras convention, on the right parameters."""

from __future__ import annotations

import copy

import pytest
import torch
from torch import nn

from hyperlab.models import Penalty, build_model, regularization_loss


def seed000_l2(value: float) -> dict:
    return {"kind": "mlp", "hidden": [32, 16, 64, 32, 16, 64], "init": "he_normal",
            "output_init": "glorot_uniform", "l2": {"output_kernel": value, "output_bias": value}}


def test_no_penalty_gives_none():
    assert regularization_loss(build_model({"kind": "mlp", "hidden": [4]}, (3,), 2, seed=0)) is None
    assert regularization_loss(nn.Linear(3, 2)) is None


@pytest.mark.parametrize("value", [0.01, 0.5])
def test_seed000_l2_on_output_kernel_and_bias_only(value):
    model = build_model(seed000_l2(value), (3, 32, 32), 10, seed=0)
    with torch.no_grad():
        model.output.bias.fill_(0.5)  # glorot init zeroes it; make the bias term visible
    expected = value * (model.output.weight.square().sum() + model.output.bias.square().sum())
    assert regularization_loss(model).item() == pytest.approx(expected.item(), rel=1e-6)  # not 0.5 * l2

    regularization_loss(model).backward()
    assert torch.allclose(model.output.weight.grad, 2 * value * model.output.weight)
    assert model.dense1.weight.grad is None  # hidden layers carry no penalty


def test_l1_and_l2_per_group_on_a_sequential_with_residual_block():
    spec = {"kind": "sequential", "layers": ["res 4 bn=false", "flatten", "dense 8", "relu"],
            "l1": {"hidden_kernel": 0.1}, "l2": {"hidden_bias": 0.2, "output_kernel": 0.3}}
    model = build_model(spec, (2, 3, 3), 2, seed=0)
    hidden = [model.res1.conv1, model.res1.conv2, model.res1.shortcut[0], model.dense1]
    expected = (0.1 * sum(m.weight.abs().sum() for m in hidden)
                + 0.2 * sum(m.bias.square().sum() for m in hidden)
                + 0.3 * model.output.weight.square().sum())
    assert regularization_loss(model).item() == pytest.approx(expected.item(), rel=1e-6)


def test_resnet_batchnorm_parameters_are_never_penalised():
    spec = {"kind": "resnet", "widths": [4], "l2": {"hidden_kernel": 1.0, "hidden_bias": 1.0}}
    model = build_model(spec, (3, 8, 8), 2, seed=0)
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    expected = sum(m.weight.square().sum() for m in convs)  # convs have no bias under batch norm
    assert regularization_loss(model).item() == pytest.approx(expected.item(), rel=1e-6)


def test_penalties_follow_the_model_through_to_and_deepcopy():
    model = build_model(seed000_l2(0.01), (3, 32, 32), 10, seed=0)
    as_double = model.to(torch.float64)
    assert regularization_loss(as_double).dtype == torch.float64
    clone = copy.deepcopy(model)
    with torch.no_grad():
        clone.output.weight.mul_(2)
    assert regularization_loss(clone).item() > 3.9 * regularization_loss(model).item() - 1e-3
    assert "hyperlab_penalties" not in dict(model.named_parameters())  # not a registered attribute
    assert set(model.state_dict()) == set(clone.state_dict())


def test_python_models_may_declare_penalties():
    model = nn.Linear(3, 1)
    model.hyperlab_penalties = [Penalty(model.weight, 0.5, 0.0)]
    assert regularization_loss(model).item() == pytest.approx(0.5 * model.weight.abs().sum().item())
