"""K models of one architecture as one module: build it from the trials' own models, train it, and
give each trial its weights back under its own module names.

The models are the ones `hyperlab.models.build_model` makes (an nn.Sequential for the mlp and
sequential kinds), built with each trial's seed, so every trial starts from exactly the weights it
would have alone. Dropout layers are aligned by position: a trial without dropout at a position
gets rate 0 there, so trials differing only in dropout rates or placement stack together; activation
layers may differ trial by trial (relu, tanh, linear, ...: each trial runs its own).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from hyperlab.models._blocks import GlobalAvgPool
from hyperlab.vectorized.layers import (
    SHARED_FLAT,
    SHARED_IMAGE,
    STACKED_FLAT,
    STACKED_IMAGE,
    Elementwise,
    Flatten,
    PerTrialActivation,
    Pool,
    StackedBatchNorm,
    StackedConv2d,
    StackedDropout,
    StackedLayer,
    StackedLinear,
)

ELEMENTWISE = (nn.ReLU, nn.LeakyReLU, nn.ELU, nn.SELU, nn.GELU, nn.Tanh, nn.Sigmoid, nn.Identity)
POOLS = (nn.MaxPool2d, nn.AvgPool2d)
WEIGHTED = (nn.Linear, nn.Conv2d, nn.BatchNorm1d, nn.BatchNorm2d)  # an activation may follow these
SUPPORTED = "dense, conv (groups=1), maxpool, avgpool, gap, bn, dropout, flatten and activation layers"


def _positions(model: nn.Module) -> list[tuple[list[tuple[str, nn.Module]], float]]:
    """[(named non-dropout module, dropout rate right after it)]: a leading dropout sits on a
    pseudo-position before the first layer (named ''), so the rates stay aligned by position. A layer
    with weights that no activation follows gets an identity (named '') after it, with the dropout
    that followed it: a `linear` MLP then aligns with a relu one (identity for relu, trial by trial)."""
    if not isinstance(model, nn.Sequential):
        raise ValueError(f"only nn.Sequential models stack, got {type(model).__name__}")
    slots: list[tuple[list[tuple[str, nn.Module]], float]] = [([], 0.0)]
    for name, module in model.named_children():
        if isinstance(module, nn.Dropout):
            members, rate = slots[-1]
            if rate:
                raise ValueError("two dropout layers in a row do not stack")
            slots[-1] = (members, module.p)
            continue
        after_weights = len(slots) > 1 and isinstance(slots[-1][0][0][1], WEIGHTED)
        if after_weights and not isinstance(module, ELEMENTWISE):
            slots.append(([("", nn.Identity())], slots[-1][1]))  # the missing activation, and its dropout
            slots[-2] = (slots[-2][0], 0.0)
        slots.append(([(name, module)], 0.0))
    if len(slots) > 1 and isinstance(slots[-1][0][0][1], WEIGHTED):
        slots.append(([("", nn.Identity())], slots[-1][1]))
        slots[-2] = (slots[-2][0], 0.0)
    return slots


def signature(model: nn.Module) -> str | None:
    """A text equal for two models exactly when they stack (same layers and shapes; dropout rates,
    activations, initial weights and penalties may differ), or None when the model cannot be stacked."""
    try:
        slots = _positions(model)
    except ValueError:
        return None
    parts = []
    for members, _rate in slots[1:]:
        name, module = members[0]
        if not _supported(module):
            return None
        # any activation at any position: PerTrialActivation runs each trial's own
        parts.append("activation" if isinstance(module, ELEMENTWISE) else repr(module))
    return "|".join(parts)


def why_not(model: nn.Module) -> str | None:
    """Why `model` cannot be stacked, or None."""
    try:
        slots = _positions(model)
    except ValueError as error:
        return str(error)
    for members, _rate in slots[1:]:
        name, module = members[0]
        if not _supported(module):
            return f"layer {name!r} ({type(module).__name__}) is not stacked; supported: {SUPPORTED}"
    return None


def _supported(module: nn.Module) -> bool:
    if isinstance(module, nn.Conv2d):
        return module.groups == 1 and module.padding_mode == "zeros"
    if isinstance(module, nn.BatchNorm1d | nn.BatchNorm2d):
        return module.affine and module.track_running_stats
    return isinstance(module, (nn.Linear, nn.Flatten, GlobalAvgPool, *POOLS, *ELEMENTWISE))


class StackedNet(nn.Module):
    """K trials' networks as one. `forward(x, shared)` -> (K, B, outputs).

    `x` is (B, ...) when every trial sees the same batch (`shared=True`), else (K, B, ...).
    `dropout_generators[k]` draws trial k's dropout masks.
    """

    def __init__(self, models: Sequence[nn.Module], dropout_generators: Sequence[torch.Generator]) -> None:
        super().__init__()
        k = len(models)
        slot_lists = [_positions(model) for model in models]
        if len({signature(model) for model in models}) != 1 or signature(models[0]) is None:
            raise ValueError("the models do not share one stackable architecture")
        self.names: list[list[str]] = []  # [position][trial] -> the trial's module name
        layers: list[StackedLayer] = []
        for position in range(len(slot_lists[0])):
            rates = [slots[position][1] for slots in slot_lists]
            if position > 0:
                group = [slots[position][0][0][1] for slots in slot_lists]
                layers.append(_stacked(group, k))
                self.names.append([slots[position][0][0][0] for slots in slot_lists])
            if any(rates):
                layers.append(StackedDropout(rates, list(dropout_generators)))
                self.names.append([""] * k)
        self.layers = nn.ModuleList(layers)

    @property
    def trials(self) -> int:
        return self.layers[0].trials

    def forward(self, x: torch.Tensor, shared: bool) -> torch.Tensor:
        if shared:
            layout = SHARED_IMAGE if x.ndim == 4 else SHARED_FLAT
        else:
            layout = STACKED_IMAGE if x.ndim == 5 else STACKED_FLAT
        for layer in self.layers:
            x, layout = layer.run(x, layout)
        if layout != STACKED_FLAT:
            raise ValueError(f"the network must end with a dense layer, ends in layout {layout}")
        return x

    def state_dict_of(self, k: int) -> dict[str, torch.Tensor]:
        """Trial k's weights under the names of its own model's state_dict (detached views)."""
        out: dict[str, torch.Tensor] = {}
        for layer, names in zip(self.layers, self.names, strict=True):
            for key, value in layer.weights(k).items():
                out[f"{names[k]}.{key}"] = value.detach()
        return out

    def parameter_names(self) -> list[tuple[nn.Parameter, str]]:
        """(stacked parameter, its name within a trial's model, e.g. 'dense1.weight'), in the order of
        a trial's model.parameters() (its optimizer's parameter indices)."""
        out = []
        for layer, names in zip(self.layers, self.names, strict=True):
            for key, param in layer.named_parameters(recurse=False):
                out.append((param, f"{names[0]}.{key}"))
        return out

    def keep(self, index: torch.Tensor) -> None:
        """Keep only the trials at `index` (new leaf parameters: rebuild the optimizer's references)."""
        for layer in self.layers:
            layer.keep(index)
        self.names = [[names[i] for i in index.tolist()] for names in self.names]


def _stacked(group: list[nn.Module], k: int) -> StackedLayer:
    first = group[0]
    if isinstance(first, nn.Linear):
        return StackedLinear(group)
    if isinstance(first, nn.Conv2d):
        return StackedConv2d(group)
    if isinstance(first, nn.BatchNorm1d | nn.BatchNorm2d):
        return StackedBatchNorm(group)
    if isinstance(first, nn.Flatten):
        return Flatten(k)
    if isinstance(first, GlobalAvgPool):
        return Pool(first, k, flattens=True)
    if isinstance(first, POOLS):
        return Pool(first, k)
    if len({repr(module) for module in group}) > 1:
        return PerTrialActivation(group)
    return Elementwise(first, k)
