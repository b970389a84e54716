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
            new, old = self._per_trial(-self._lr, p), views.get("neg_lr")
            if old is not None and old.device.type == "cuda":
                # in place: a captured step (vectorized/capture.py) reads the rate from this very tensor
                old.copy_(new)
            else:
                views["neg_lr"] = new

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
        norms = torch.stack([torch.linalg.vector_norm(g.flatten(1), 2, dim=1) for g in grads], dim=1)
        # norms: (K, P). One reduction per trial along its own row: a column reduction over (P, K)
        # rounds differently for every K
        total = torch.linalg.vector_norm(norms, 2, dim=1)  # (K,)
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

    def load_trial_state(self, k: int, state: dict[int, dict]) -> None:
        """Trial k's state from a torch.optim.SGD state dict's `state` (parameter index -> state)."""
        for i, p in enumerate(self.params):
            buf = state.get(i, {}).get("momentum_buffer")
            if buf is None:
                continue
            if self.buffers[i] is None:
                self.buffers[i] = torch.zeros_like(p, memory_format=torch.contiguous_format)
            self.buffers[i][k].copy_(buf)

    def torch_state(self, i: int, k: int) -> dict | None:
        """Trial k's torch.optim.SGD state of parameter i (None before the first step or without
        momentum)."""
        buf = self.buffers[i]
        if buf is None or float(self.momentum[k]) == 0:
            return None
        return {"momentum_buffer": buf[k].detach()}


class StackedAdam(StackedSGD):
    """torch.optim.Adam / AdamW semantics per trial (torch's single-tensor update on CPU):
    m = lerp(m, g, 1 - beta1); v = beta2 v + (1 - beta2) g^2; p -= lr / (1 - beta1^t) * m /
    (sqrt(v) / sqrt(1 - beta2^t) + eps). Adam adds weight_decay * p to g; AdamW (`decoupled`)
    shrinks p by lr * weight_decay first. AMSGrad is not vectorized (why_not_vectorized says so)."""

    def __init__(self, params: Sequence[torch.Tensor], lr: Sequence[float],
                 betas: Sequence[tuple[float, float]], eps: Sequence[float], weight_decay: Sequence[float],
                 decoupled: bool) -> None:
        self.params = list(params)
        self._lr = torch.tensor(list(lr), dtype=torch.float32)
        self.beta1 = torch.tensor([b[0] for b in betas], dtype=torch.float64)  # bias corrections in double
        self.beta2 = torch.tensor([b[1] for b in betas], dtype=torch.float64)
        self.eps = torch.tensor(list(eps), dtype=torch.float32)
        self.weight_decay = torch.tensor(list(weight_decay), dtype=torch.float32)
        self.decoupled = decoupled
        self.steps = 0  # every trial of a stack steps together
        self.exp_avg: list[torch.Tensor | None] = [None] * len(self.params)
        self.exp_avg_sq: list[torch.Tensor | None] = [None] * len(self.params)
        self.any_decay = bool((self.weight_decay > 0).any())

    def _view(self, values: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
        return self._per_trial(values.to(torch.float32), like)

    @torch.no_grad()
    def step(self) -> None:
        self.steps += 1
        t = self.steps
        step_size = (self._lr.double() / (1 - self.beta1 ** t)).float()  # (K,)
        bias2_sqrt = ((1 - self.beta2 ** t) ** 0.5).float()
        for i, p in enumerate(self.params):
            grad = p.grad
            if grad is None:
                continue
            if self.any_decay and self.decoupled:
                p.mul_(1 - self._view(self._lr * self.weight_decay, p))
            elif self.any_decay:
                grad = grad.addcmul(p, self._view(self.weight_decay, p))
            if self.exp_avg[i] is None:
                self.exp_avg[i] = torch.zeros_like(p)
                self.exp_avg_sq[i] = torch.zeros_like(p)
            m, v = self.exp_avg[i], self.exp_avg_sq[i]
            # Fused kernels (lerp, addcmul) only with a per-trial (K, 1, ...) operand, which torch
            # iterates trial by trial; otherwise one rounding per op (mul, add, div, sqrt), equal on
            # the vectorized and the scalar path: a trial's update cannot depend on where its slice
            # starts in the stack (the numerics contract, docs/performance.md).
            m.lerp_(grad, self._view(1 - self.beta1, p))
            v.mul_(self._view(self.beta2, p)).add_(grad.square().mul_(self._view(1 - self.beta2, p)))
            denom = (v.sqrt() / self._view(bias2_sqrt, p)).add_(self._view(self.eps, p))
            p.add_((m * -self._view(step_size, p)).div_(denom))

    def rebind(self, params: Sequence[torch.Tensor], index: torch.Tensor) -> None:
        self.params = list(params)

        def kept(buffers: list[torch.Tensor | None]) -> list[torch.Tensor | None]:
            return [None if b is None else b.index_select(0, index.to(b.device)).contiguous()
                    for b in buffers]

        self.exp_avg, self.exp_avg_sq = kept(self.exp_avg), kept(self.exp_avg_sq)
        for name in ("_lr", "beta1", "beta2", "eps", "weight_decay"):
            setattr(self, name, getattr(self, name).index_select(0, index))
        self.any_decay = bool((self.weight_decay > 0).any())

    @property
    def lr(self) -> torch.Tensor:
        return self._lr

    @lr.setter
    def lr(self, values: torch.Tensor) -> None:
        self._lr = values

    def load_trial_state(self, k: int, state: dict[int, dict]) -> None:
        """Trial k's state from a torch.optim.Adam state dict's `state`; every trial of a stack has
        taken the same number of steps (they resume from one epoch)."""
        for i, p in enumerate(self.params):
            per_param = state.get(i)
            if not per_param:
                continue
            if self.exp_avg[i] is None:
                self.exp_avg[i] = torch.zeros_like(p, memory_format=torch.contiguous_format)
                self.exp_avg_sq[i] = torch.zeros_like(p, memory_format=torch.contiguous_format)
            self.exp_avg[i][k].copy_(per_param["exp_avg"])
            self.exp_avg_sq[i][k].copy_(per_param["exp_avg_sq"])
            self.steps = int(float(per_param["step"]))

    def torch_state(self, i: int, k: int) -> dict | None:
        """Trial k's torch.optim.Adam state of parameter i (None before the first step)."""
        if self.exp_avg[i] is None:
            return None
        return {"step": torch.tensor(float(self.steps), dtype=torch.float32),
                "exp_avg": self.exp_avg[i][k].detach(), "exp_avg_sq": self.exp_avg_sq[i][k].detach()}
