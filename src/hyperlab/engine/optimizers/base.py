"""What every optimizer choice shares: a learning rate, weight decay, and how it builds itself."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, ClassVar

from pydantic import Field

from hyperlab.engine._registry import Choice

if TYPE_CHECKING:  # torch loads where tensors are used, so configs validate without it
    import torch


class _TorchOptimizerClass:
    """`torch_class`: the `torch.optim` class named by the choice's `torch_name`, looked up when first
    read, so that a study's configs validate (and read-only commands run) without importing torch."""

    def __get__(self, instance: object, owner: type[OptimizerChoice]) -> type[torch.optim.Optimizer]:
        import torch

        return getattr(torch.optim, owner.torch_name)


class OptimizerChoice(Choice):
    """An optimizer's arguments; each field is passed to `torch_class` under the same name."""

    torch_name: ClassVar[str]  # the class's name in torch.optim
    torch_class: ClassVar[_TorchOptimizerClass] = _TorchOptimizerClass()

    lr: float = Field(default=0.001, gt=0.0)
    """Learning rate (the schedule's base value)."""

    weight_decay: float = Field(default=0.0, ge=0.0)
    """L2 weight decay applied by the optimizer to every parameter (decoupled for adamw)."""

    def build(self, params: Iterable[torch.nn.Parameter]) -> torch.optim.Optimizer:
        """A fresh torch optimizer over `params` with exactly these arguments."""
        return self.torch_class(params, **self.model_dump(exclude={"name"}))

    def stepper(self, optimizer: torch.optim.Optimizer) -> Callable[[], object]:
        """The function the training loop calls for one step of `optimizer` (built by `build`): its
        own `step`, unless a choice has a leaner call with bit-identical results."""
        return optimizer.step
