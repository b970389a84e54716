"""summarize(): parameters, MACs (FlopCounterMode, cross-checked by hand) and FLOPs by operation."""

from __future__ import annotations

import json
import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from hyperlab.measure import OPS, summarize
from hyperlab.models import build_model

CIFAR = (3, 32, 32)
LENET = {"kind": "sequential", "layers": ["conv 6 k5", "relu", "maxpool 2", "conv 16 k5", "relu", "maxpool 2",
                                          "flatten", "dense 120", "relu", "dense 84", "relu"]}


def analytic_macs(model: nn.Module, input_shape: tuple[int, ...]) -> list[int]:
    """MACs of every Conv2d / Linear from its hyper-parameters and output size (independent of torch's
    flop counter): conv = C_out * H_out * W_out * (C_in / groups) * kH * kW, linear = in * out."""
    sizes: dict[nn.Module, tuple[int, ...]] = {}
    hooks = [m.register_forward_hook(lambda mod, i, o: sizes.__setitem__(mod, tuple(o.shape[1:])))
             for m in model.modules() if isinstance(m, nn.Conv2d | nn.Linear)]
    model.eval()
    with torch.no_grad():
        model(torch.zeros(1, *input_shape))
    for h in hooks:
        h.remove()
    macs = []
    for m, out in sizes.items():
        if isinstance(m, nn.Conv2d):
            macs.append(math.prod(out) * m.in_channels // m.groups * math.prod(m.kernel_size))
        else:
            macs.append(m.in_features * m.out_features)
    return macs


def test_lenet_macs_are_the_seed_figures():
    summary = summarize(build_model(LENET, CIFAR, 10, seed=0), CIFAR)
    assert summary.params == summary.trainable_params == 62_006
    assert [row.macs for row in summary.layers if row.macs] == [352_800, 240_000, 48_000, 10_080, 840]
    assert summary.macs == 651_720
    assert summary.flops_by_op["mac"] == 2 * 651_720


def test_lenet_max_pool_comparisons_by_hand():
    summary = summarize(build_model(LENET, CIFAR, 10, seed=0), CIFAR)
    # conv1 5x5 valid: 32 -> 28, pool 2: 14; conv2: 14 -> 10, pool: 5. A 2x2 window: 3 comparisons.
    pool1_outputs, pool2_outputs = 6 * 14 * 14, 16 * 5 * 5
    assert summary.flops_by_op["pool_compare"] == (pool1_outputs + pool2_outputs) * (2 * 2 - 1)
    pools = [row for row in summary.layers if row.type == "MaxPool2d"]
    assert [row.output_shape for row in pools] == [(6, 14, 14), (16, 5, 5)]
    assert [row.flops for row in pools] == [pool1_outputs * 3, pool2_outputs * 3]


def test_lenet_rows_match_the_notebook_summary():
    summary = summarize(build_model(LENET, CIFAR, 10, seed=0), CIFAR)
    with_params = [(row.type, row.output_shape, row.params) for row in summary.layers if row.params]
    assert with_params == [("Conv2d", (6, 28, 28), 456), ("Conv2d", (16, 10, 10), 2416),
                           ("Linear", (120,), 48120), ("Linear", (84,), 10164), ("Linear", (10,), 850)]
    # bias adds: one per output element of each conv/dense layer; relu: one per element
    assert summary.flops_by_op["bias_add"] == 6 * 28 * 28 + 16 * 10 * 10 + 120 + 84 + 10
    assert summary.flops_by_op["activation"] == 6 * 28 * 28 + 16 * 10 * 10 + 120 + 84
    assert summary.flops == sum(summary.flops_by_op.values())
    assert summary.train_flops == 3 * summary.flops
    assert summary.output_shape == (10,)


@pytest.mark.parametrize("spec, shape", [
    (LENET, CIFAR),
    ({"kind": "sequential", "layers": ["conv 8 k3 s2 p1", "conv 8 k5 p=same", "res 12 s2", "gap"]},
     (3, 17, 17)),
    ({"kind": "resnet", "widths": [8, 16], "blocks": [1, 2]}, (3, 16, 16)),
    ({"kind": "mlp", "hidden": [32, 16, 64, 32, 16, 64]}, CIFAR),
])
def test_flop_counter_agrees_with_the_conv_and_dense_formulas(spec, shape):
    model = build_model(spec, shape, 10, seed=0)
    summary = summarize(model, shape)
    expected = analytic_macs(model, shape)
    assert summary.macs == sum(expected)
    assert sorted(row.macs for row in summary.layers if row.macs) == sorted(expected)


def test_batchnorm_average_pooling_and_residual_counts_by_hand():
    spec = {"kind": "sequential", "layers": ["conv 4 k3 p1", "bn", "relu", "avgpool 3 s2 p1", "res 4",
                                              "gap", "bn"]}
    summary = summarize(build_model(spec, (2, 8, 8), 3, seed=0), (2, 8, 8))
    by_op = summary.flops_by_op
    pooled = 4 * 4 * 4  # (8 + 2 - 3) // 2 + 1 = 4
    assert by_op["pool_add"] == pooled * (9 - 1) + 4 * (16 - 1)  # avgpool 3x3, then gap over 4x4
    assert by_op["pool_mul"] == pooled + 4
    # bn after conv (4x8x8), two in the res block (4x4x4 each), bn1d on 4 features: 2 per element
    assert by_op["batchnorm"] == 2 * (4 * 8 * 8 + 2 * pooled + 4)
    assert by_op["residual_add"] == pooled
    assert by_op["activation"] == 4 * 8 * 8 + 2 * pooled  # relu after bn, two relus in the block
    assert set(by_op) == set(OPS)


def test_modes_are_restored_and_nothing_is_updated():
    model = build_model({"kind": "mlp", "hidden": [8], "batchnorm": True, "dropout": 0.5}, (4,), 2, seed=0)
    model.train()
    model.output.eval()  # a mixed state must come back exactly
    before = {k: v.clone() for k, v in model.state_dict().items()}
    summarize(model, (4,))
    assert model.training and model.bn1.training and not model.output.training
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert all(p.grad is None for p in model.parameters())
    assert not any(module._forward_hooks or module._forward_pre_hooks for module in model.modules())


class NotebookNet(nn.Module):
    """Notebook 004's style: one pooling module used twice, functional relu, an extra matmul in forward."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(1, 2, 3)
        self.pool = nn.MaxPool2d(2, 2)
        self.norm = nn.LayerNorm(2)
        self.scale = nn.Parameter(torch.ones(2, 2))

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (N, 1, 10, 10)
        x = self.pool(F.relu(self.conv(x)))  # (N, 2, 4, 4)
        x = self.pool(x)  # (N, 2, 2, 2)
        x = self.norm(x.mean(dim=(2,)))  # (N, 2, 2)
        return x.flatten(1) @ torch.ones(4, 2) @ self.scale  # (N, 2)


def test_a_user_model_counts_calls_params_once_and_reports_what_it_cannot_count():
    summary = summarize(NotebookNet(), (1, 10, 10))
    pools = [row for row in summary.layers if row.name == "pool"]
    assert [row.output_shape for row in pools] == [(2, 4, 4), (2, 2, 2)]
    assert [row.flops_by_op["pool_compare"] for row in pools] == [32 * 3, 8 * 3]
    assert summary.params == 2 * 9 + 2 + 2 + 2 + 4 == sum(row.params for row in summary.layers)
    other = next(row for row in summary.layers if row.name == "(other)")
    assert other.params == 4 and other.macs == 4 * 2 + 2 * 2  # the two matmuls in forward()
    assert summary.macs == 2 * 8 * 8 * 9 + other.macs
    assert summary.uncounted == ["LayerNorm"]
    assert summary.flops_by_op["activation"] == 0  # F.relu in forward() is not a module: not counted


def test_summary_table_and_dict():
    summary = summarize(build_model(LENET, CIFAR, 10, seed=0), CIFAR)
    text = str(summary)
    assert text.splitlines()[0].split() == ["Layer", "(type)", "Output", "shape", "Params", "MACs", "FLOPs"]
    assert "conv1 (Conv2d)" in text and "(6, 28, 28)" in text
    assert "Params: 62,006 (trainable 62,006, non-trainable 0)" in text
    assert "MACs (conv, dense, matmul) per example: 651,720" in text
    data = json.loads(json.dumps(summary.to_dict()))
    assert data["params"] == 62_006 and data["layers"][0]["output_shape"] == [6, 28, 28]
