"""Adam: adaptive moments; weight_decay is added to the gradient (coupled L2)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from hyperlab.engine.optimizers.base import OptimizerChoice

Betas = tuple[float, float]


class Adam(OptimizerChoice):
    """torch.optim.Adam with torch's defaults."""

    torch_name = "Adam"

    name: Literal["adam"] = "adam"
    """Which optimizer."""

    betas: Betas = (0.9, 0.999)
    """Decay rates of the first and second moment estimates."""

    eps: float = Field(default=1e-8, gt=0.0)
    """Added to the denominator for numerical stability."""

    amsgrad: bool = False
    """Use the maximum of past second moments (AMSGrad)."""
