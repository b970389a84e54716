"""SGD over stacked parameters with per-trial hyperparameters: torch.optim.SGD's update, K at once.

Every parameter has the trial as its leading dimension; lr, momentum, dampening, weight decay and
Nesterov are (K,) tensors broadcast over it, so one step is a handful of tensor ops per layer instead
of K optimizers. Per-trial gradient clipping follows torch.nn.utils.clip_grad_norm_.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch


class StackedSGD:
    """torch.optim.SGD semantics per trial (buffer = gradient at the first step, then
    buffer = momentum * buffer + (1 - dampening) * gradient; Nesterov adds momentum * buffer)."""

    def __init__(self, params: Sequence[torch.Tensor], lr: Sequence[float], momentum: Sequence[float],
                 dampening: Sequence[float], weight_decay: Sequence[float], nesterov: Sequence[bool]) -> None:
        self.params = list(params)
        self._lr = torch.tensor(list(lr), dtype=torch.float32)  # (K,)
        self.momentum = torch.tensor(list(momentum), dtype=torch.float32)
        # torch ignores dampening without momentum: a zero-momentum trial's buffer is then its gradient
        damp = [d if m > 0 else 0.0 for d, m in zip(dampening, momentum, strict=True)]
        self.keep_grad = torch.tensor([1 - d for d in damp], dtype=torch.float32)
        self.weight_decay = torch.tensor(list(weight_decay), dtype=torch.float32)
        self.nesterov = torch.tensor(list(nesterov), dtype=torch.bool)
        self.buffers: list[torch.Tensor | None] = [None] * len(self.params)
        self._flags()

    def _flags(self) -> None:
        self.any_decay = bool((self.weight_decay > 0).any())
        self.any_momentum = bool((self.momentum > 0).any())
        self.any_damp = bool((self.keep_grad != 1).any())
        self.any_nesterov = bool(self.nesterov.any())
        # (K, 1, ...) views per parameter, made once: a step then allocates nothing for them
        names = ("momentum", "keep_grad", "weight_decay", "nesterov")
        self._views = [{name: self._per_trial(getattr(self, name), p) for name in names} for p in self.params]
        self._set_lr_views()

    def _set_lr_views(self) -> None:
        for p, views in zip(self.params, self._views, strict=True):
            views["neg_lr"] = self._per_trial(-self._lr, p)

    @property
    def lr(self) -> torch.Tensor:
        """Per-trial learning rates (K,); the schedule sets them before a step."""
        return self._lr

    @lr.setter
    def lr(self, values: torch.Tensor) -> None:
        if not torch.equal(values, self._lr):
            self._lr = values
            self._set_lr_views()

    @staticmethod
    def _per_trial(values: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
        """(K,) -> (K, 1, ...) broadcastable against `like` (booleans stay booleans)."""
        dtype = torch.bool if values.dtype == torch.bool else like.dtype
        return values.to(device=like.device, dtype=dtype).view(-1, *([1] * (like.ndim - 1)))

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None

    @torch.no_grad()
    def step(self) -> None:
        for i, p in enumerate(self.params):
            grad, views = p.grad, self._views[i]
            if grad is None:
                continue
            if self.any_decay:  # in place on p.grad (ours to change): no new tensor per parameter
                grad.addcmul_(p, views["weight_decay"])
            if self.any_momentum:
                buf = self.buffers[i]
                if buf is None:
                    buf = self.buffers[i] = grad.clone()
                else:
                    buf.mul_(views["momentum"])
                    if self.any_damp:
                        buf.addcmul_(grad, views["keep_grad"])
                    else:
                        buf.add_(grad)
                if self.any_nesterov:
                    grad = torch.where(views["nesterov"], grad + views["momentum"] * buf, buf)
                else:
                    grad = buf
            p.addcmul_(grad, views["neg_lr"])

    @torch.no_grad()
    def clip_grad_norm(self, max_norm: torch.Tensor) -> None:
        """Scale each trial's gradients to a global L2 norm of at most max_norm[k] (inf: no clipping)."""
        grads = [p.grad for p in self.params if p.grad is not None]
        if not grads:
            return
        norms = torch.stack([torch.linalg.vector_norm(g.flatten(1), 2, dim=1) for g in grads])  # (P, K)
        total = torch.linalg.vector_norm(norms, 2, dim=0)  # (K,)
        limit = max_norm.to(total.device)
        scale = (limit / (total + 1e-6)).clamp(max=1.0)
        coef = torch.where(torch.isinf(limit), torch.ones_like(total), scale)
        for g in grads:
            g.mul_(self._per_trial(coef, g))

    def rebind(self, params: Sequence[torch.Tensor], index: torch.Tensor) -> None:
        """After the stack dropped trials: the new parameter tensors and only the kept trials' state."""
        self.params = list(params)
        self.buffers = [None if b is None else b.index_select(0, index.to(b.device)).contiguous()
                        for b in self.buffers]
        self._lr = self._lr.index_select(0, index)
        for name in ("momentum", "keep_grad", "weight_decay", "nesterov"):
            setattr(self, name, getattr(self, name).index_select(0, index))
        self._flags()

    def buffer_of(self, i: int, k: int) -> torch.Tensor | None:
        """Trial k's momentum buffer of parameter i (None before the first step or without momentum)."""
        buf = self.buffers[i]
        if buf is None or float(self.momentum[k]) == 0:
            return None
        return buf[k]
