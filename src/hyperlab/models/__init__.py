"""Model specs (validated `[model]` tables) and the builders that turn them into torch modules.

    spec = parse_model_spec({"kind": "mlp", "hidden": [256, 128]})
    model = build_model(spec, input_shape=(1, 28, 28), n_outputs=10, seed=0)
    loss = loss + (regularization_loss(model) or 0)

Kinds: mlp, sequential (a list of layer strings), resnet, python (a user factory). docs/models.md
is the reference, with every notebook architecture written as a spec.
"""

from __future__ import annotations

from hyperlab.models._common import ACTIVATIONS, INITS, Penalties, Penalty, regularization_loss
from hyperlab.models._layers import LAYER_TYPES, parse_layer
from hyperlab.models.mlp import MLPSpec
from hyperlab.models.python import PythonSpec
from hyperlab.models.registry import KINDS, ModelSpec, build_model, parse_model_spec
from hyperlab.models.resnet import ResNetSpec
from hyperlab.models.sequential import SequentialSpec

__all__ = [
    "ACTIVATIONS",
    "INITS",
    "KINDS",
    "LAYER_TYPES",
    "MLPSpec",
    "ModelSpec",
    "Penalties",
    "Penalty",
    "PythonSpec",
    "ResNetSpec",
    "SequentialSpec",
    "build_model",
    "parse_layer",
    "parse_model_spec",
    "regularization_loss",
]
