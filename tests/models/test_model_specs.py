"""Spec validation: every problem is reported at once, each at the key the user wrote."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel, ValidationError

from hyperlab.models import (
    KINDS,
    LAYER_TYPES,
    MLPSpec,
    ModelSpec,
    ResNetSpec,
    SequentialSpec,
    parse_layer,
    parse_model_spec,
)


def errors_of(data: dict) -> list[tuple[tuple, str]]:
    with pytest.raises(ValidationError) as info:
        parse_model_spec(data)
    return [(err["loc"], err["msg"]) for err in info.value.errors()]


def test_kind_selects_the_spec_class():
    assert isinstance(parse_model_spec({"kind": "mlp", "hidden": [4]}), MLPSpec)
    assert isinstance(parse_model_spec({"kind": "sequential", "layers": ["dense 4"]}), SequentialSpec)
    assert isinstance(parse_model_spec({"kind": "resnet"}), ResNetSpec)


def test_bad_layer_entries_are_reported_by_index_all_at_once():
    errors = errors_of({"kind": "sequential",
                        "layers": ["conv 25 k5", "bn", "relu", "maxpol 2", "output", "conv 8 x3", "flatten"]})
    assert [loc for loc, _ in errors] == [("layers", 3), ("layers", 4), ("layers", 5)]
    assert errors[0][1].startswith("unknown layer 'maxpol 2'; allowed: conv, maxpool,")
    assert "last entry" in errors[1][1]
    assert "'x3'" in errors[2][1]


@pytest.mark.parametrize("entry, fragment", [
    ("conv", "expected conv C"),
    ("conv 0 k3", "not a positive integer"),
    ("conv 8 s2 p=same", "p=same needs stride 1"),
    ("conv 8 k3 k5", "repeated option"),
    ("maxpool 2 p2", "at most half the window"),
    ("dropout 1.0", "got rate 1.0"),
    ("dropout x", "expected dropout P"),
    ("relu 3", "no arguments"),
    ("res 16 bn=maybe", "unknown or repeated option"),
    ("", "empty layer"),
])
def test_layer_grammar_rejects(entry, fragment):
    with pytest.raises(ValueError, match=fragment.replace("(", r"\(")):
        parse_layer(entry)


def test_layer_grammar_accepts_the_documented_forms():
    conv = parse_layer("conv 32 k3 s1 p1")
    assert (conv.type, conv.size, conv.kernel, conv.stride, conv.padding) == ("conv", 32, 3, 1, 1)
    assert parse_layer("conv 32 k=3 p=same").padding == "same"
    assert parse_layer("conv 32").kernel == 3  # documented default
    pool = parse_layer("maxpool 3 s2 p1")
    assert (pool.size, pool.stride, pool.padding) == (3, 2, 1)
    assert parse_layer("avgpool 2").stride == 2  # stride defaults to the window
    assert parse_layer("res 64 s2 bn=false").batchnorm is False
    assert parse_layer("Dropout 0.25").rate == 0.25
    for name in LAYER_TYPES:
        if name not in ("conv", "maxpool", "avgpool", "dense", "res", "dropout"):
            assert parse_layer(name).type == name


def test_layers_are_stored_in_canonical_spacing():
    spec = parse_model_spec({"kind": "sequential", "layers": ["  conv   6  K5 ", "ReLU"]})
    assert spec.layers == ["conv 6 k5", "relu"]


def test_kind_errors_name_the_kind_key():
    assert errors_of({"kind": "cnn"}) == [
        (("kind",), "must be one of mlp, sequential, resnet, python, got 'cnn'")]
    assert errors_of({"hidden": [3]})[0][0] == ("kind",)


def test_error_paths_do_not_contain_the_kind_when_nested():
    class Trial(BaseModel):
        model: ModelSpec

    with pytest.raises(ValidationError) as info:
        Trial(model={"kind": "mlp", "hidden": [8, 0], "bogus": 1})
    assert {err["loc"] for err in info.value.errors()} == {("model", "hidden", 1), ("model", "bogus")}


def test_mlp_dropout_rules():
    assert errors_of({"kind": "mlp", "hidden": [8, 8], "dropout": [0.1]}) == [
        (("dropout",), "a list needs one rate per hidden layer (2), got 1")]
    assert errors_of({"kind": "mlp", "hidden": [8], "dropout": [0.1], "dropout_every": 2})[0][0] == (
        "dropout_every",)
    assert errors_of({"kind": "mlp", "hidden": [8], "dropout": 1.0})[0][0][0] == "dropout"
    spec = parse_model_spec({"kind": "mlp", "hidden": [32, 16, 64, 32, 16, 64], "dropout": 0.2,
                             "dropout_every": 2})
    assert spec.dropout_rates() == [0.2, 0, 0.2, 0, 0.2, 0]  # notebook 000: n % 2 == 0, n 0-based


def test_unknown_keys_activation_and_init_are_rejected():
    errors = errors_of({"kind": "mlp", "hidden": [8], "activation": "relu6", "init": "he",
                        "l2": {"output": 0.1}, "widths": [3]})
    assert {loc for loc, _ in errors} == {("activation",), ("init",), ("l2", "output"), ("widths",)}


def test_resnet_blocks_list_must_match_widths():
    assert errors_of({"kind": "resnet", "widths": [16, 32], "blocks": [1, 2, 3]})[0] == (
        ("blocks",), "a list needs one count per stage (2 widths), got 3")


def test_python_factory_must_name_module_and_function():
    assert errors_of({"kind": "python", "factory": "mynets.lenet"})[0] == (
        ("factory",), "must be 'package.module:function', got 'mynets.lenet'")


def test_every_field_has_a_docstring_and_is_documented():
    doc = (Path(__file__).parents[2] / "docs" / "models.md").read_text(encoding="utf-8")
    for kind, (spec_class, _) in KINDS.items():
        assert f'kind = "{kind}"' in doc
        for name, field in spec_class.model_fields.items():
            assert field.description, f"{spec_class.__name__}.{name} has no docstring"
            assert f"`{name}`" in doc or name == "kind", f"{kind}.{name} is not in docs/models.md"
        assert spec_class.model_config["extra"] == "forbid"
