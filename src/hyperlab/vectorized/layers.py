"""Stacked layers: K copies of one layer, each with its own weights, applied in one set of ops.

Activations travel between layers with a layout tag, so that a batch shared by every trial (same
data-order seed: the paired design) stays shared until the first layer with per-trial weights, which
then becomes one large matrix product (or one convolution with K x the output channels):

    shared_image   (B, C, H, W)        the same images for every trial
    stacked_image  (K, B, C, H, W)     each trial its own images (different data order or augmentation)
    wide_image     (B, K*C, H, W)      trial k owns channels [k*C, (k+1)*C): convolutions run grouped
    shared_flat    (B, F)
    stacked_flat   (K, B, F)           dense layers run as batched matrix products

Every parameter is stored with the trial as its leading dimension (K, ...) so that the optimizer
step is a few tensor ops per layer, and `weights(k)` gives trial k's tensors in torch's layout.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F
from torch import nn

SHARED_IMAGE, STACKED_IMAGE, WIDE_IMAGE = "shared_image", "stacked_image", "wide_image"
SHARED_FLAT, STACKED_FLAT = "shared_flat", "stacked_flat"

Activation = tuple[torch.Tensor, str]  # (tensor, layout)

# Convolutions run per trial (see StackedConv2d) in torch's default layout, the engine's: each trial's
# convolution, batch norm and pooling are then the very kernels the engine runs for it alone. With
# channels_last (3x faster for the grouped convolution this replaced) the per-trial kernels rounded
# differently from the engine's and a convnet's val loss drifted 2e-4 from it in 3 epochs
# (tests/vectorized/test_equivalence.py, 1e-5); the cost is in docs/performance.md.
MEMORY_FORMAT = torch.contiguous_format

# Dense layers with at least this many weights per trial multiply weight-first (StackedLinear.run).
WEIGHT_FIRST_FROM = 65_536


def to_wide(x: torch.Tensor, layout: str, k: int) -> torch.Tensor:
    """Any image layout -> (B, K*C, H, W)."""
    if layout == WIDE_IMAGE:
        return x
    if layout == SHARED_IMAGE:
        return x.repeat(1, k, 1, 1)
    trials, batch, channels, height, width = x.shape  # stacked_image
    return x.transpose(0, 1).reshape(batch, trials * channels, height, width)


def per_trial_images(x: torch.Tensor, layout: str, k: int) -> list[torch.Tensor]:
    """Each trial's images (B, C, H, W) of a stacked or wide layout, each contiguous in MEMORY_FORMAT:
    the tensor a stack of one would hold (split: its backward is one concatenation, not K scatters)."""
    parts = x.unbind(0) if layout == STACKED_IMAGE else x.split(x.shape[1] // k, dim=1)
    return [part.contiguous(memory_format=MEMORY_FORMAT) for part in parts]


class _JoinTrials(torch.autograd.Function):
    """Per-trial images (B, C_i, H, W) -> the wide layout, whose backward hands each trial its gradient
    contiguous in MEMORY_FORMAT, as a stack of one has it: a strided slice would make the kernels
    below it (a convolution's backward) take another code path and round differently."""

    @staticmethod
    def forward(ctx, *parts: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        ctx.widths = [part.shape[1] for part in parts]
        return torch.cat(parts, dim=1).contiguous(memory_format=MEMORY_FORMAT)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> tuple[torch.Tensor, ...]:  # type: ignore[override]
        return tuple(g.contiguous(memory_format=MEMORY_FORMAT) for g in grad.split(ctx.widths, dim=1))


def join_trials(parts: list[torch.Tensor]) -> torch.Tensor:
    return _JoinTrials.apply(*parts)


def per_trial(function: Callable | None, x: torch.Tensor, layout: str, k: int,
              functions: Sequence[Callable] | None = None) -> Activation:
    """`function` applied to each trial's values on their own (`functions[i]` for trial i if given),
    in the per-trial layout: the values a stack of one computes, for ops whose vectorized and scalar
    (tail) code paths round differently, so that a trial's position in a stack cannot matter."""
    pick = (lambda i: functions[i]) if functions is not None else (lambda i: function)
    if layout == STACKED_FLAT:
        return torch.stack([pick(i)(xk) for i, xk in enumerate(x.unbind(0))]), STACKED_FLAT
    return join_trials([pick(i)(xk) for i, xk in enumerate(per_trial_images(x, layout, k))]), WIDE_IMAGE


# Activations whose every output element is one correctly rounded operation (a comparison, a copy, one
# multiplication) in forward and backward: equal on every code path, so applied to a whole stack at once.
EXACT_ACTIVATIONS = (nn.ReLU, nn.Identity, nn.LeakyReLU)


def is_exact(module: nn.Module) -> bool:
    return type(module) in EXACT_ACTIVATIONS


def to_stacked(x: torch.Tensor, layout: str, k: int) -> Activation:
    """Any layout -> the per-trial layout of the same kind (stacked_flat or wide_image)."""
    if layout == SHARED_FLAT:
        return x.expand(k, *x.shape), STACKED_FLAT
    if layout in (SHARED_IMAGE, STACKED_IMAGE):
        return to_wide(x, layout, k), WIDE_IMAGE
    return x, layout


def _stack(tensors: list[torch.Tensor]) -> nn.Parameter:
    return nn.Parameter(torch.stack([t.detach() for t in tensors]).contiguous())


class StackedLayer(nn.Module):
    """One position of the network, for all K trials."""

    def run(self, x: torch.Tensor, layout: str) -> Activation:
        raise NotImplementedError

    def weights(self, k: int) -> dict[str, torch.Tensor]:
        """Trial k's parameters and buffers under the original module's names (weight, bias, ...)."""
        return {}

    def keep(self, index: torch.Tensor) -> None:
        """Keep only the trials at `index` (a 1-d long tensor), in that order."""
        for name, param in list(self._parameters.items()):
            if param is not None:
                self._parameters[name] = nn.Parameter(param.detach().index_select(0, index).contiguous())
        for name, buffer in list(self._buffers.items()):
            if buffer is not None and buffer.ndim > 0:
                self._buffers[name] = buffer.index_select(0, index).contiguous()

    @property
    def trials(self) -> int:
        return next(iter(self._parameters.values())).shape[0]


class StatelessLayer(StackedLayer):
    """A layer without weights (activation, pooling, flatten): it only counts the trials it serves."""

    def __init__(self, k: int) -> None:
        super().__init__()
        self.k = k

    @property
    def trials(self) -> int:
        return self.k

    def keep(self, index: torch.Tensor) -> None:
        self.k = len(index)


class StackedLinear(StackedLayer):
    """K nn.Linear of the same shape. Shared input: one (B, in) x (in, K*out) product."""

    def __init__(self, layers: list[nn.Linear]) -> None:
        super().__init__()
        self.weight = _stack([layer.weight for layer in layers])  # (K, out, in)
        has_bias = layers[0].bias is not None
        self.bias = _stack([layer.bias for layer in layers]) if has_bias else None  # (K, out)

    def run(self, x: torch.Tensor, layout: str) -> Activation:
        k, out, width = self.weight.shape
        if layout == SHARED_FLAT:  # (B, in) -> (B, K*out) -> (K, B, out)
            # The bias joins after the product, in the per-trial layout: inside the product its
            # gradient is one reduction over (B, K*out), whose rounding depends on K (measured:
            # bias gradients of a stack of 5 and of 1 differ at out=16); over (K, B, out) each trial
            # is its own reduction, as in a stack of one (the numerics contract, docs/performance.md).
            y = F.linear(x, self.weight.view(k * out, width)).view(len(x), k, out).transpose(0, 1)
            y = y.contiguous()
            return (y + self.bias.unsqueeze(1) if self.bias is not None else y), STACKED_FLAT
        if layout != STACKED_FLAT:
            raise ValueError(f"a dense layer needs a flat input, got {layout}")
        if out * width >= WEIGHT_FIRST_FROM:
            # y^T = W x^T: the weight gradient comes out as (K, out, in), W's own layout; the x W^T
            # form below yields it as (K, in, out) and pays a transposing copy of every gradient
            # (2x slower at 300 x 25,088, 4x at 512 x 4,096; equal or better below 256 x 256).
            if self.bias is None:
                return torch.bmm(self.weight, x.transpose(1, 2)).transpose(1, 2), STACKED_FLAT
            y = torch.baddbmm(self.bias.unsqueeze(2), self.weight, x.transpose(1, 2))
            return y.transpose(1, 2), STACKED_FLAT
        if self.bias is None:
            return torch.bmm(x, self.weight.transpose(1, 2)), STACKED_FLAT
        return torch.baddbmm(self.bias.unsqueeze(1), x, self.weight.transpose(1, 2)), STACKED_FLAT

    def weights(self, k: int) -> dict[str, torch.Tensor]:
        out = {"weight": self.weight[k]}
        if self.bias is not None:
            out["bias"] = self.bias[k]
        return out


class StackedConv2d(StackedLayer):
    """K nn.Conv2d (groups=1) as one convolution: a shared input gets K*out output channels, a wide
    input one grouped convolution (groups=K)."""

    def __init__(self, layers: list[nn.Conv2d]) -> None:
        super().__init__()
        first = layers[0]
        self.weight = _stack([layer.weight for layer in layers])  # (K, out, in, kh, kw)
        self.bias = _stack([layer.bias for layer in layers]) if first.bias is not None else None
        self.stride, self.padding, self.dilation = first.stride, first.padding, first.dilation

    def run(self, x: torch.Tensor, layout: str) -> Activation:
        k, out, channels, kh, kw = self.weight.shape
        weight = self.weight.view(k * out, channels, kh, kw)
        bias = self.bias.view(-1) if self.bias is not None else None
        if layout == SHARED_IMAGE:
            x = x.contiguous(memory_format=MEMORY_FORMAT)
            return F.conv2d(x, weight, bias, self.stride, self.padding, self.dilation), WIDE_IMAGE
        if layout not in (STACKED_IMAGE, WIDE_IMAGE):
            raise ValueError(f"a convolution needs an image input, got {layout}")
        # One convolution per trial, each on its own channels made contiguous: oneDNN's grouped
        # convolution (groups=K) rounds differently from the same convolution with groups=1, so a
        # trial's numbers would depend on how many trials share its stack. A shared input stays one
        # convolution with K*out channels: per output channel that is the kernel a stack of one
        # runs (measured bit-identical, tests/vectorized/test_stack_of_one.py).
        channels_of = per_trial_images(x, layout, k)
        outs = [F.conv2d(xk, self.weight[i], None if self.bias is None else self.bias[i], self.stride,
                         self.padding, self.dilation) for i, xk in enumerate(channels_of)]
        return join_trials(outs), WIDE_IMAGE

    def weights(self, k: int) -> dict[str, torch.Tensor]:
        out = {"weight": self.weight[k]}
        if self.bias is not None:
            out["bias"] = self.bias[k]
        return out


class StackedBatchNorm(StackedLayer):
    """K nn.BatchNorm1d/2d: one batch norm over K*C channels (statistics stay per trial and channel)."""

    def __init__(self, layers: list[nn.BatchNorm1d | nn.BatchNorm2d]) -> None:
        super().__init__()
        first = layers[0]
        if not (first.affine and first.track_running_stats):
            raise ValueError("batch norm without affine weights or running statistics is not stacked")
        self.weight = _stack([layer.weight for layer in layers])  # (K, C)
        self.bias = _stack([layer.bias for layer in layers])
        self.register_buffer("running_mean", torch.stack([layer.running_mean for layer in layers]).clone())
        self.register_buffer("running_var", torch.stack([layer.running_var for layer in layers]).clone())
        self.register_buffer("num_batches_tracked", first.num_batches_tracked.clone())
        self.momentum, self.eps = first.momentum, first.eps

    def run(self, x: torch.Tensor, layout: str) -> Activation:
        x, layout = to_stacked(x, layout, self.trials)
        if self.training:
            self.num_batches_tracked.add_(1)
        momentum = self.momentum
        if momentum is None:  # cumulative moving average, as torch's BatchNorm does
            momentum = 1.0 / float(self.num_batches_tracked)
        # One batch norm per trial (on its own channels, contiguous): over K*C channels torch's
        # channels-last kernels vectorize across channels, so a trial's channels would be computed
        # on the vector or the scalar path depending on its position in the stack (measured: the
        # first convolution's gradients of a stack of 3 and of 1 differed through it).
        def norm(i: int) -> Callable[[torch.Tensor], torch.Tensor]:
            return lambda xk: F.batch_norm(xk, self.running_mean[i], self.running_var[i], self.weight[i],
                                           self.bias[i], self.training, momentum, self.eps)

        return per_trial(None, x, layout, self.trials, [norm(i) for i in range(self.trials)])

    def weights(self, k: int) -> dict[str, torch.Tensor]:
        return {"weight": self.weight[k], "bias": self.bias[k], "running_mean": self.running_mean[k],
                "running_var": self.running_var[k], "num_batches_tracked": self.num_batches_tracked}


class StackedDropout(StackedLayer):
    """Dropout with a rate per trial (0: that trial has no dropout here). Trial k's mask is drawn from
    its own generator with exactly the call torch's CPU dropout makes on the default generator, so
    the masks equal those of the trial trained alone (whose global generator is seeded alike)."""

    def __init__(self, rates: list[float], generators: list[torch.Generator]) -> None:
        super().__init__()
        self.rates, self.generators = list(rates), generators

    @property
    def trials(self) -> int:
        return len(self.rates)

    def keep(self, index: torch.Tensor) -> None:
        self.rates = [self.rates[i] for i in index.tolist()]
        self.generators = [self.generators[i] for i in index.tolist()]

    def run(self, x: torch.Tensor, layout: str) -> Activation:
        if not self.training or not any(self.rates):
            return x, layout
        x, layout = to_stacked(x, layout, len(self.rates)) if layout != STACKED_IMAGE else (x, layout)
        k = len(self.rates)
        if layout == WIDE_IMAGE:
            batch, wide, height, width = x.shape
            shape = (k, batch, wide // k, height, width)
        else:
            shape = tuple(x.shape)
        mask = torch.ones(shape, dtype=x.dtype)  # trial-major and contiguous: mask[k] is what torch draws
        for i, (rate, generator) in enumerate(zip(self.rates, self.generators, strict=True)):
            if rate > 0:
                mask[i].bernoulli_(1 - rate, generator=generator).div_(1 - rate)
        mask = mask.to(x.device)
        if layout == WIDE_IMAGE:
            mask = to_wide(mask, STACKED_IMAGE, k)
        return x * mask, layout


class Elementwise(StatelessLayer):
    """An activation (or any per-element module without state): applied as is, in any layout."""

    def __init__(self, module: nn.Module, k: int) -> None:
        super().__init__(k)
        self.module = module

    def run(self, x: torch.Tensor, layout: str) -> Activation:
        if is_exact(self.module) or layout in (SHARED_FLAT, SHARED_IMAGE):
            return self.module(x), layout  # a shared input is the tensor a stack of one holds
        return per_trial(self.module, x, layout, self.k)


# A set of trials' values along one dimension: a basic index (slices) when they are contiguous there
# (a view: nothing is gathered or scattered; x[index] costs half of x.narrow's Python overhead), else
# the indices (1-d long tensor).
Selection = tuple[slice, ...] | torch.Tensor


def _take(x: torch.Tensor, dim: int, selection: Selection) -> torch.Tensor:
    if isinstance(selection, tuple):
        return x[selection]
    return x.index_select(dim, selection)


def _put(y: torch.Tensor, dim: int, selection: Selection, values: torch.Tensor) -> None:
    if isinstance(selection, tuple):
        y[selection].copy_(values)
    else:
        y.index_copy_(dim, selection, values)


# Activations whose output a kernel writes straight into a slice of y (out=): no temporary, no copy.
# ReLU is clamp_min(x, 0) in torch (the same kernel), Identity a copy.
_INTO = {nn.ReLU: lambda x, out: torch.clamp_min(x, 0, out=out),
         nn.Tanh: lambda x, out: torch.tanh(x, out=out),
         nn.Sigmoid: lambda x, out: torch.sigmoid(x, out=out),
         nn.Identity: lambda x, out: out.copy_(x)}
_DIRECT = {nn.ReLU: torch.relu, nn.Tanh: torch.tanh, nn.Sigmoid: torch.sigmoid, nn.Identity: torch.clone}
_GRAD_INTO = {
    nn.ReLU: lambda grad, y, out: torch.ops.aten.threshold_backward.grad_input(grad, y, 0, grad_input=out),
    nn.Tanh: lambda grad, y, out: torch.ops.aten.tanh_backward.grad_input(grad, y, grad_input=out),
    nn.Sigmoid: lambda grad, y, out: torch.ops.aten.sigmoid_backward.grad_input(grad, y, grad_input=out),
    nn.Identity: lambda grad, y, out: out.copy_(grad)}


class _MixedActivation(torch.autograd.Function):
    """y = majority(x), then each other activation over its own trials' slice, written into y's slice.
    Autograd through index_select/index_copy adds ~8 full-size passes per position (zero-filled
    gradients, out-of-place copies: 5x a relu's forward + backward, measured); here the backward
    applies each activation's own backward formula to its slice, in place. Trials contiguous in the
    stack are a narrow view (no gather, and relu/tanh/sigmoid/identity write through out=)."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, dim: int, majority: nn.Module,  # type: ignore[override]
                minorities: list[tuple[nn.Module, Selection]]) -> torch.Tensor:
        y = _DIRECT.get(type(majority), majority)(x)
        if y is x:  # identity: the copies below must not write into the input
            y = x.clone()
        outs = []
        for module, selection in minorities:
            into = _INTO.get(type(module)) if isinstance(selection, tuple) else None
            if into is not None:
                into(x[selection], y[selection])
                outs.append(None)  # y's slice
                continue
            out = module(_take(x, dim, selection))
            _put(y, dim, selection, out)
            outs.append(out)
        ctx.save_for_backward(x, y, *[o for o in outs if o is not None])
        ctx.dim, ctx.majority, ctx.minorities = dim, majority, minorities
        ctx.own_out = [o is not None for o in outs]
        return y

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> tuple[torch.Tensor | None, ...]:  # type: ignore[override]
        x, y, *saved = ctx.saved_tensors
        dim = ctx.dim
        # y's minority slices are not the majority's outputs: their gradients are overwritten below
        grad_x = _activation_grad(ctx.majority, x, y, grad)
        if grad_x is grad:
            grad_x = grad.clone()
        own = iter(saved)
        for (module, selection), owns in zip(ctx.minorities, ctx.own_out, strict=True):
            if not owns:  # a narrow slice computed into y: its backward kernel writes into grad_x's
                _GRAD_INTO[type(module)](grad[selection], y[selection], grad_x[selection])
                continue
            _put(grad_x, dim, selection, _activation_grad(module, _take(x, dim, selection), next(own),
                                                          _take(grad, dim, selection)))
        return grad_x, None, None, None


def _activation_grad(module: nn.Module, x: torch.Tensor, out: torch.Tensor,
                     grad: torch.Tensor) -> torch.Tensor:
    """The gradient autograd gives an elementwise activation `module` (out = module(x)) for `grad`:
    the backward kernels torch's own ReLU, Tanh and Sigmoid use, else autograd on a recomputation."""
    if isinstance(module, nn.Identity):
        return grad
    if type(module) is nn.ReLU:
        return torch.ops.aten.threshold_backward.default(grad, out, 0)
    if type(module) is nn.Tanh:
        return torch.ops.aten.tanh_backward.default(grad, out)
    if type(module) is nn.Sigmoid:
        return torch.ops.aten.sigmoid_backward.default(grad, out)
    with torch.enable_grad():
        leaf = x.detach().requires_grad_()
        (result,) = torch.autograd.grad(module(leaf), leaf, grad)
    return result


class PerTrialActivation(StatelessLayer):
    """Trials whose activations differ at one position (relu for most, tanh or linear for some): the
    most common activation runs over the whole stack, each other one only over its own trials' slice
    (_MixedActivation). Elementwise, so trial k gets exactly its activation of its own inputs and its
    gradient; the extra cost is a pass per extra activation over its slice, far less than training
    those trials outside the stack."""

    def __init__(self, modules: list[nn.Module]) -> None:
        super().__init__(len(modules))
        self.modules_of = list(modules)
        self._group()

    def _group(self) -> None:
        """The activations' trials, most common first (fixed until trials leave), and the selections
        of each in a layout, made on first use."""
        kinds: dict[str, list[int]] = {}  # activation (its repr) -> the trials that use it
        for i, module in enumerate(self.modules_of):
            kinds.setdefault(repr(module), []).append(i)
        self.members = sorted(kinds.values(), key=len, reverse=True)
        self._selections: dict[tuple[str, int, str], list[tuple[nn.Module, Selection]]] = {}

    def keep(self, index: torch.Tensor) -> None:
        self.modules_of = [self.modules_of[i] for i in index.tolist()]
        self.k = len(self.modules_of)
        self._group()

    def run(self, x: torch.Tensor, layout: str) -> Activation:
        exact = all(is_exact(self.modules_of[trials[0]]) for trials in self.members)
        if len(self.members) == 1 and (exact or layout in (SHARED_FLAT, SHARED_IMAGE)):
            return self.modules_of[0](x), layout
        if layout in (SHARED_FLAT, SHARED_IMAGE):  # the trials' values part here
            x, layout = to_stacked(x, layout, self.k)
        if not exact:  # each trial's own activation on its own values (see `per_trial`)
            return per_trial(None, x, layout, self.k, self.modules_of)
        dim = 1 if layout == WIDE_IMAGE else 0
        channels = x.shape[1] // self.k if layout == WIDE_IMAGE else 1
        key = (layout, channels, x.device)
        minorities = self._selections.get(key)
        if minorities is None:
            minorities = [(self.modules_of[trials[0]], self._selection(trials, dim, channels, x.device))
                          for trials in self.members[1:]]
            self._selections[key] = minorities
        y = _MixedActivation.apply(x, dim, self.modules_of[self.members[0][0]], minorities)
        return y, layout

    @staticmethod
    def _selection(trials: list[int], dim: int, channels: int, device: torch.device) -> Selection:
        """`trials`' values along the trial dimension, or in the wide image layout the channels
        [k*C, (k+1)*C) of each trial k."""
        if trials == list(range(trials[0], trials[-1] + 1)):
            run = slice(trials[0] * channels, (trials[-1] + 1) * channels)
            return (slice(None),) * dim + (run,)
        index = torch.tensor(trials, dtype=torch.long)
        if channels > 1:
            index = (index.view(-1, 1) * channels + torch.arange(channels)).view(-1)
        return index.to(device)


class Pool(StatelessLayer):
    """Max/average pooling and global average pooling: per channel, so any image layout works."""

    def __init__(self, module: nn.Module, k: int, flattens: bool = False) -> None:
        super().__init__(k)
        self.module, self.flattens = module, flattens

    def run(self, x: torch.Tensor, layout: str) -> Activation:
        if layout == STACKED_IMAGE:
            x, layout = to_wide(x, layout, self.k), WIDE_IMAGE
        y = self.module(x)  # (B, C', H', W'), or (B, C') for global pooling
        if not self.flattens:
            return y, layout
        if layout == SHARED_IMAGE:
            return y, SHARED_FLAT
        return y.view(len(y), self.k, -1).transpose(0, 1), STACKED_FLAT


class Flatten(StatelessLayer):
    """nn.Flatten: (C, H, W) -> (C*H*W,) per example, trial by trial."""

    def run(self, x: torch.Tensor, layout: str) -> Activation:
        if layout == SHARED_IMAGE:
            return x.flatten(1), SHARED_FLAT
        if layout == STACKED_IMAGE:
            return x.flatten(2), STACKED_FLAT
        if layout == WIDE_IMAGE:
            return x.reshape(len(x), self.k, -1).transpose(0, 1), STACKED_FLAT
        return x, layout
