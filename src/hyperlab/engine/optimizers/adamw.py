"""AdamW: Adam with decoupled weight decay."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from hyperlab.engine.optimizers.adam import Betas
from hyperlab.engine.optimizers.base import OptimizerChoice


class AdamW(OptimizerChoice):
    """torch.optim.AdamW with torch's defaults (weight_decay 0.01)."""

    torch_name = "AdamW"

    name: Literal["adamw"] = "adamw"
    """Which optimizer."""

    weight_decay: float = Field(default=0.01, ge=0.0)
    """Decoupled weight decay: each step shrinks the weights by lr * weight_decay."""

    betas: Betas = (0.9, 0.999)
    """Decay rates of the first and second moment estimates."""

    eps: float = Field(default=1e-8, gt=0.0)
    """Added to the denominator for numerical stability."""

    amsgrad: bool = False
    """Use the maximum of past second moments (AMSGrad)."""
