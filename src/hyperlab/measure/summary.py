"""summarize(model, input_shape): parameters, MACs and FLOPs per layer and by operation type."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from hyperlab.measure._ops import OPS, leaf_ops

# Training cost per example = forward + backward; backward costs about twice the forward (a gradient
# for the inputs and one for the weights, each about as costly as the forward), so training = 3x.
TRAIN_FLOPS_FACTOR = 3


@dataclass
class LayerRow:
    """One call of a leaf module during the measured forward pass (a module called twice gives two
    rows; its parameters are counted on the first)."""

    name: str  # dotted module name, e.g. "conv1" or "stage2_block1.conv1"
    type: str  # module class, e.g. "Conv2d"
    output_shape: tuple[int, ...]  # per example, e.g. (6, 28, 28)
    params: int
    trainable_params: int
    macs: int  # multiply-accumulates (conv, dense, any matmul), from torch's FlopCounterMode
    flops_by_op: dict[str, int]  # FLOPs by operation type (keys: OPS)
    flops: int = 0  # sum of flops_by_op

    def __post_init__(self) -> None:
        self.flops = sum(self.flops_by_op.values())


@dataclass
class ModelSummary:
    """Size and forward cost of a model for ONE example (the batch dimension is not counted).

    Conventions (docs/models.md, "Measurement"): `macs` counts the multiply-accumulates of
    convolutions, dense layers and other matmuls (torch.utils.flop_counter); `flops` is the forward
    total: 2 per MAC plus the element-wise work in `flops_by_op` (bias adds, batch norm 2 per element,
    activations 1 per element, max pooling window-1 comparisons per output element, average pooling
    window-1 additions + 1 multiplication, residual adds 1 per element). `train_flops` = forward +
    backward with backward = 2 x forward, i.e. 3 x `flops` (the optimizer update is not included).
    """

    input_shape: tuple[int, ...]
    output_shape: tuple[int, ...]
    params: int
    trainable_params: int
    macs: int
    flops: int
    flops_by_op: dict[str, int]
    train_flops: int
    layers: list[LayerRow] = field(default_factory=list)
    uncounted: list[str] = field(default_factory=list)  # leaf module types whose element-wise work
    # has no counting rule (matmuls inside them are still counted)

    def to_dict(self) -> dict:
        """A JSON-serialisable dict (tuples become lists)."""
        return asdict(self)

    def table(self) -> str:
        """The layer summary, like Keras' model.summary()."""
        return format_summary(self)

    def __str__(self) -> str:
        return self.table()


def summarize(model: nn.Module, input_shape: Sequence[int]) -> ModelSummary:
    """Measure `model` on one example of `input_shape` (torch layout, without the batch dimension).

    Runs one forward pass of a zero input in eval mode under no_grad (batch norm then uses its
    running statistics, dropout is off), then restores every module's train/eval mode. Matmul and
    convolution work comes from torch.utils.flop_counter.FlopCounterMode; the element-wise work is
    counted by forward hooks on the leaf modules (rules in hyperlab.measure._ops).
    """
    input_shape = tuple(int(s) for s in input_shape)
    first = next(iter(model.parameters()), None)
    device = first.device if first is not None else torch.device("cpu")
    dtype = first.dtype if first is not None and first.is_floating_point() else torch.float32
    leaves = [(name or type(model).__name__, m) for name, m in model.named_modules()
              if next(iter(m.children()), None) is None]
    counter = FlopCounterMode(display=False)
    rows: list[LayerRow] = []
    uncounted: set[str] = set()
    starts: list[int] = []
    seen_params: set[int] = set()

    def before(_module: nn.Module, _inputs: tuple) -> None:
        starts.append(counter.get_total_flops())

    def after(name: str, module: nn.Module, inputs: tuple, output: object) -> None:
        matmul_flops = counter.get_total_flops() - starts.pop()
        tensor = _first_tensor(output)
        ops = leaf_ops(module, inputs, tensor) if tensor is not None else None
        if ops is None:
            ops = {}
            if not isinstance(module, nn.Identity):
                uncounted.add(type(module).__name__)
        if matmul_flops:
            ops = {"mac": matmul_flops, **ops}
        params = [p for p in module.parameters() if id(p) not in seen_params]
        seen_params.update(id(p) for p in params)
        if isinstance(module, nn.Identity) and not params:
            return  # placeholders (e.g. an identity shortcut) would only clutter the table
        rows.append(LayerRow(
            name=name, type=type(module).__name__,
            output_shape=tuple(tensor.shape[1:]) if tensor is not None else (),
            params=sum(p.numel() for p in params),
            trainable_params=sum(p.numel() for p in params if p.requires_grad),
            macs=matmul_flops // 2, flops_by_op=ops,
        ))

    handles = []
    modes = {m: m.training for m in model.modules()}
    try:
        for name, module in leaves:
            handles.append(module.register_forward_pre_hook(before))
            handles.append(module.register_forward_hook(
                lambda mod, inp, out, name=name: after(name, mod, inp, out)))
        model.eval()
        with torch.no_grad(), counter:
            output = model(torch.zeros((1, *input_shape), dtype=dtype, device=device))
    finally:
        for handle in handles:
            handle.remove()
        for module, training in modes.items():
            module.training = training

    total_matmul = counter.get_total_flops()
    outside = total_matmul - sum(row.flops_by_op.get("mac", 0) for row in rows)
    all_params = list(model.parameters())
    stray = [p for p in all_params if id(p) not in seen_params]
    if outside or stray:  # matmuls in a forward() outside leaf modules, or parameters of no called leaf
        rows.append(LayerRow(
            name="(other)", type="-", output_shape=(), params=sum(p.numel() for p in stray),
            trainable_params=sum(p.numel() for p in stray if p.requires_grad),
            macs=outside // 2, flops_by_op={"mac": outside} if outside else {},
        ))
    flops_by_op = {op: sum(row.flops_by_op.get(op, 0) for row in rows) for op in OPS}
    flops = sum(flops_by_op.values())
    out = _first_tensor(output)
    return ModelSummary(
        input_shape=input_shape,
        output_shape=tuple(out.shape[1:]) if out is not None else (),
        params=sum(p.numel() for p in all_params),
        trainable_params=sum(p.numel() for p in all_params if p.requires_grad),
        macs=total_matmul // 2,
        flops=flops,
        flops_by_op=flops_by_op,
        train_flops=TRAIN_FLOPS_FACTOR * flops,
        layers=rows,
        uncounted=sorted(uncounted),
    )


def _first_tensor(value: object) -> torch.Tensor | None:
    if isinstance(value, torch.Tensor):
        return value
    if isinstance(value, list | tuple):
        for item in value:
            found = _first_tensor(item)
            if found is not None:
                return found
    return None


def format_summary(summary: ModelSummary) -> str:
    """Render a ModelSummary as a fixed-width table with totals underneath."""
    header = ("Layer (type)", "Output shape", "Params", "MACs", "FLOPs")
    body = [(f"{row.name} ({row.type})", str(row.output_shape), f"{row.params:,}", f"{row.macs:,}",
             f"{row.flops:,}") for row in summary.layers]
    widths = [max(len(r[i]) for r in [header, *body]) for i in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        left = [cells[0].ljust(widths[0]), cells[1].ljust(widths[1])]
        return "  ".join(left + [c.rjust(w) for c, w in zip(cells[2:], widths[2:], strict=True)])

    rule = "=" * len(line(header))
    by_op = ", ".join(f"{op} {n:,}" for op, n in summary.flops_by_op.items() if n)
    lines = [line(header), rule, *(line(r) for r in body), rule,
             f"Input shape: {summary.input_shape}   output shape: {summary.output_shape}",
             f"Params: {summary.params:,} (trainable {summary.trainable_params:,}, "
             f"non-trainable {summary.params - summary.trainable_params:,})",
             f"MACs (conv, dense, matmul) per example: {summary.macs:,}",
             f"Forward FLOPs per example: {summary.flops:,}" + (f" ({by_op})" if by_op else ""),
             f"Training FLOPs per example (forward + backward = {TRAIN_FLOPS_FACTOR} x forward): "
             f"{summary.train_flops:,}"]
    if summary.uncounted:
        lines.append(f"Not counted (no rule for their element-wise work): {', '.join(summary.uncounted)}")
    return "\n".join(lines)
