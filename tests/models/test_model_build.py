"""Builders: the notebooks' exact parameter counts, seeding, initialisation, layer order, shapes."""

from __future__ import annotations

import math
import sys
import textwrap

import pytest
import torch
from torch import nn

from hyperlab.errors import UserError
from hyperlab.models import build_model

CIFAR = (3, 32, 32)


def n_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def lenet(c1: int, c2: int, f1: int, f2: int, bn: bool = False) -> dict:
    """Notebook 004's Net: conv-(bn)-relu-pool twice, flatten, two hidden dense layers, output 10."""
    b = ["bn"] if bn else []
    return {"kind": "sequential", "layers": [
        f"conv {c1} k5", *b, "relu", "maxpool 2", f"conv {c2} k5", *b, "relu", "maxpool 2", "flatten",
        f"dense {f1}", *b, "relu", f"dense {f2}", *b, "relu"]}


@pytest.mark.parametrize("spec, shape, expected", [
    (lenet(6, 16, 120, 84), CIFAR, 62_006),  # notebook 004, the tutorial LeNet
    (lenet(25, 50, 100, 50), CIFAR, 163_860),  # notebook 004, 2-2 (kept)
    (lenet(25, 50, 100, 50, bn=True), CIFAR, 164_310),  # notebook 004, 3-1 batch norm
    (lenet(32, 64, 128, 64), CIFAR, 267_530),  # notebook 004, 2-1 (over the 256k budget)
    ({"kind": "mlp", "hidden": [256, 256, 128]}, (1, 28, 28), 300_938),  # notebook 003, MNIST
    # notebook 000
    ({"kind": "mlp", "hidden": [32, 16, 64, 32, 16, 64], "init": "he_normal"}, CIFAR, 104_298),
])
def test_seed_notebook_parameter_counts(spec, shape, expected):
    assert n_params(build_model(spec, shape, 10, seed=0)) == expected


def test_lenet_layer_by_layer_matches_the_notebook_summary():
    model = build_model(lenet(6, 16, 120, 84), CIFAR, 10, seed=0)
    counts = {name: n_params(m) for name, m in model.named_children() if n_params(m)}
    # torchsummary in notebook 004: 456, 2,416, 48,120, 10,164, 850
    assert counts == {"conv1": 456, "conv2": 2416, "dense1": 48120, "dense2": 10164, "output": 850}
    assert model(torch.zeros(2, *CIFAR)).shape == (2, 10)


def test_same_seed_same_weights_and_global_rng_untouched():
    spec = lenet(6, 16, 120, 84)
    torch.manual_seed(123)
    expected_next = torch.rand(3)
    torch.manual_seed(123)
    a = build_model(spec, CIFAR, 10, seed=7)
    b = build_model({**spec}, CIFAR, 10, seed=7)
    c = build_model(spec, CIFAR, 10, seed=8)
    assert torch.equal(torch.rand(3), expected_next)  # building consumed nothing from the global RNG
    for (name, pa), pb, pc in zip(a.state_dict().items(), b.state_dict().values(), c.state_dict().values(),
                                  strict=True):
        assert torch.equal(pa, pb), name
        if name.endswith("weight") and pa.numel() > 1 and "bn" not in name:
            assert not torch.equal(pa, pc), name


@pytest.mark.parametrize("init, variance", [
    ("he_normal", 2 / 784), ("lecun_normal", 1 / 784), ("glorot_normal", 2 / (784 + 256))])
def test_normal_inits_are_keras_truncated_normals_with_zero_bias(init, variance):
    model = build_model({"kind": "mlp", "hidden": [256], "init": init}, (1, 28, 28), 10, seed=0)
    weight, bias = model.dense1.weight, model.dense1.bias
    std = math.sqrt(variance)  # Keras widens the truncated normal so the variance stays scale / fan
    assert weight.std().item() == pytest.approx(std, rel=0.02)
    assert weight.abs().max().item() <= 2 * std / 0.87962566103423978 + 1e-6  # truncated at 2 sigma
    assert torch.count_nonzero(bias) == 0


def test_conv_fans_count_the_kernel():
    model = build_model({"kind": "sequential", "layers": ["conv 64 k5", "flatten"], "init": "he_uniform"},
                        (16, 5, 5), 2, seed=0)
    limit = math.sqrt(6 / (16 * 5 * 5))  # fan_in = in_channels * kH * kW
    assert 0.95 * limit < model.conv1.weight.abs().max().item() <= limit


def test_glorot_uniform_bounds_and_torch_default():
    model = build_model({"kind": "mlp", "hidden": [300], "init": "glorot_uniform"}, (500,), 10, seed=0)
    limit = math.sqrt(6 / (500 + 300))
    assert model.dense1.weight.abs().max().item() <= limit
    assert model.dense1.weight.abs().max().item() > 0.95 * limit
    default = build_model({"kind": "mlp", "hidden": [300]}, (500,), 10, seed=0)
    assert torch.count_nonzero(default.dense1.bias) > 0  # torch's uniform bias, as asked
    assert default.dense1.weight.abs().max().item() <= 1 / math.sqrt(500)  # kaiming_uniform(a=sqrt 5)


def test_output_init_can_differ_from_hidden_init():
    spec = {"kind": "mlp", "hidden": [64], "init": "he_uniform", "output_init": "default"}
    model = build_model(spec, (100,), 10, seed=0)
    assert torch.count_nonzero(model.dense1.bias) == 0
    assert torch.count_nonzero(model.output.bias) > 0


def test_mlp_layer_order_dropout_every_other_and_batchnorm():
    spec = {"kind": "mlp", "hidden": [8, 8, 8, 8], "dropout": 0.2, "dropout_every": 2, "batchnorm": True,
            "activation": "tanh"}
    model = build_model(spec, (3, 4, 4), 2, seed=0)
    assert [type(m).__name__ for m in model][:6] == ["Flatten", "Linear", "BatchNorm1d", "Tanh", "Dropout",
                                                       "Linear"]
    assert [name for name in model._modules if name.startswith("dropout")] == ["dropout1", "dropout3"]
    linear = build_model({"kind": "mlp", "hidden": [8], "activation": "linear"}, (4,), 2, seed=0)
    assert [type(m).__name__ for m in linear] == ["Flatten", "Linear", "Linear"]
    per_layer = build_model({"kind": "mlp", "hidden": [8, 8], "dropout": [0.0, 0.5]}, (4,), 2, seed=0)
    assert [m.p for m in per_layer if isinstance(m, nn.Dropout)] == [0.5]


def test_sequential_output_layer_rules():
    body = ["flatten", "dense 16", "relu"]
    appended = build_model({"kind": "sequential", "layers": body}, (2, 3, 3), 4, seed=0)
    explicit = build_model({"kind": "sequential", "layers": [*body, "output"]}, (2, 3, 3), 4, seed=0)
    final_dense = build_model({"kind": "sequential", "layers": [*body, "dense 4"]}, (2, 3, 3), 4, seed=0)
    for model in (appended, explicit, final_dense):
        assert list(model._modules)[-1] == "output"
        assert model.output.out_features == 4
        assert n_params(model) == 18 * 16 + 16 + 16 * 4 + 4
    with pytest.raises(UserError, match=r"model\.layers\[3\]: 'dense 5': a final dense layer is the output"):
        build_model({"kind": "sequential", "layers": [*body, "dense 5"]}, (2, 3, 3), 4, seed=0)


@pytest.mark.parametrize("layers, shape, message", [
    (["conv 8 k3", "dense 10"], CIFAR, r"model\.layers\[1\]: 'dense 10': needs a flat input, got shape "
                                       r"\(8, 30, 30\); put 'flatten' before it"),
    (["conv 8 k3"], (8,),
     r"model\.layers\[0\]: 'conv 8 k3': needs an image input \(C, H, W\), got shape \(8,\)"),
    (["maxpool 2", "maxpool 2", "maxpool 2"], (1, 4, 4),
     r"model\.layers\[2\]: 'maxpool 2': the input of shape"),
    (["conv 8 k3"], CIFAR, r"model\.layers: the output layer needs a flat input"),
])
def test_sequential_shape_errors_name_the_entry(layers, shape, message):
    with pytest.raises(UserError, match=message):
        build_model({"kind": "sequential", "layers": layers}, shape, 10, seed=0)


def test_sequential_shapes_bn_choice_same_padding_and_residual_blocks():
    spec = {"kind": "sequential", "layers": ["conv 8 k3 p=same", "bn", "relu", "res 8", "res 16 s2",
                                              "avgpool 2", "gap", "bn", "dropout 0.1", "dense 12", "gelu"]}
    model = build_model(spec, (3, 16, 16), 5, seed=0)
    assert isinstance(model.bn1, nn.BatchNorm2d) and isinstance(model.bn2, nn.BatchNorm1d)
    assert isinstance(model.res1.shortcut, nn.Identity)  # same shape: identity shortcut
    assert isinstance(model.res2.shortcut[0], nn.Conv2d) and model.res2.shortcut[0].stride == (2, 2)
    assert model.res2.conv1.bias is None  # followed by batch norm
    x = torch.randn(4, 3, 16, 16)
    assert model(x).shape == (4, 5)
    assert model[:4](x).shape == (4, 8, 16, 16)
    assert model[:5](x).shape == (4, 16, 8, 8)
    no_bn = build_model({"kind": "sequential", "layers": ["res 4 bn=false", "flatten"]}, (2, 4, 4), 3, seed=0)
    assert no_bn.res1.conv1.bias is not None
    assert not any(isinstance(m, nn.BatchNorm2d) for m in no_bn.modules())


def test_resnet_parameter_count_by_hand():
    model = build_model({"kind": "resnet", "widths": [8, 16], "blocks": 1}, CIFAR, 10, seed=0)
    stem = 3 * 9 * 8 + 2 * 8  # conv without bias + bn
    stage1 = 2 * (8 * 9 * 8) + 2 * 2 * 8  # two 3x3 convs + two bn, identity shortcut
    stage2 = 8 * 9 * 16 + 16 * 9 * 16 + 2 * 2 * 16 + 8 * 16 + 2 * 16  # convs, bns, 1x1 shortcut + bn
    output = 16 * 10 + 10
    assert n_params(model) == stem + stage1 + stage2 + output
    assert model(torch.randn(2, *CIFAR)).shape == (2, 10)
    resnet20 = build_model({"kind": "resnet", "widths": [16, 32, 64], "blocks": 3}, CIFAR, 10, seed=0)
    assert sum(isinstance(m, nn.Conv2d) and m.kernel_size == (3, 3) for m in resnet20.modules()) == 19
    with pytest.raises(UserError, match="resnet needs an image input"):
        build_model({"kind": "resnet"}, (8,), 1, seed=0)


@pytest.fixture
def user_module(tmp_path, monkeypatch):
    (tmp_path / "usernets.py").write_text(textwrap.dedent("""
        import math
        from torch import nn

        def tiny(input_shape, n_outputs, width=4):
            return nn.Sequential(nn.Flatten(), nn.Linear(math.prod(input_shape), width), nn.ReLU(),
                                 nn.Linear(width, n_outputs))

        def broken(input_shape, n_outputs):
            raise RuntimeError("no GPU here")

        def not_a_module(input_shape, n_outputs):
            return 42
    """))
    monkeypatch.syspath_prepend(str(tmp_path))
    return "usernets"


def test_python_factory_gets_shape_outputs_and_kwargs_and_is_seeded(user_module):
    spec = {"kind": "python", "factory": f"{user_module}:tiny", "kwargs": {"width": 6}}
    a = build_model(spec, (2, 3), 5, seed=1)
    b = build_model(spec, (2, 3), 5, seed=1)
    assert n_params(a) == 6 * 6 + 6 + 6 * 5 + 5
    assert all(torch.equal(x, y) for x, y in zip(a.parameters(), b.parameters(), strict=True))


@pytest.mark.parametrize("factory, message", [
    ("no_such_package.nets:tiny", r"model\.factory: cannot import 'no_such_package\.nets'"),
    ("usernets:missing", r"model\.factory: 'usernets:missing': 'usernets' has no attribute 'missing'"),
    ("usernets:broken", r"model\.factory: usernets:broken\(.*\) raised RuntimeError: no GPU here"),
    ("usernets:not_a_module", r"returned int, not a torch\.nn\.Module"),
])
def test_python_factory_errors_name_the_factory(user_module, factory, message):
    with pytest.raises(UserError, match=message):
        build_model({"kind": "python", "factory": factory}, (4,), 2, seed=0)


def test_python_factory_is_importable_from_the_working_directory(tmp_path, monkeypatch):
    (tmp_path / "cwdnets.py").write_text("from torch import nn\n\ndef make(shape, n):\n"
                                         "    return nn.Linear(shape[0], n)\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p not in ("", str(tmp_path))])
    model = build_model({"kind": "python", "factory": "cwdnets:make"}, (3,), 2, seed=0)
    assert n_params(model) == 8
    assert str(tmp_path) not in sys.path  # restored afterwards
