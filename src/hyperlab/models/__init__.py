"""Model specs (validated `[model]` tables) and the builders that turn them into torch modules.

    spec = parse_model_spec({"kind": "mlp", "hidden": [256, 128]})
    model = build_model(spec, input_shape=(1, 28, 28), n_outputs=10, seed=0)
    loss = loss + (regularization_loss(model) or 0)

Kinds: mlp, sequential (a list of layer strings), resnet, python (a user factory). docs/models.md
is the reference, with every notebook architecture written as a spec.
"""

from __future__ import annotations

from hyperlab._lazy import lazy_exports

_EXPORTS = {
    "ACTIVATIONS": "hyperlab.models._common",
    "INITS": "hyperlab.models._common",
    "Penalties": "hyperlab.models._common",
    "Penalty": "hyperlab.models._common",
    "regularization_loss": "hyperlab.models._common",
    "LAYER_TYPES": "hyperlab.models._layers",
    "parse_layer": "hyperlab.models._layers",
    "MLPSpec": "hyperlab.models.mlp",
    "PythonSpec": "hyperlab.models.python",
    "KINDS": "hyperlab.models.registry",
    "ModelSpec": "hyperlab.models.registry",
    "build_model": "hyperlab.models.registry",
    "parse_model_spec": "hyperlab.models.registry",
    "ResNetSpec": "hyperlab.models.resnet",
    "SequentialSpec": "hyperlab.models.sequential",
}

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


# Exports load on first use (PEP 562): commands that only read the store import this package's
# pure modules (configs, versions) without pulling in torch through the others.
__getattr__ = lazy_exports(__name__, _EXPORTS)
