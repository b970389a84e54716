"""`train_group`: K trials of one architecture trained together, each reported as if trained alone.

Same semantics as `hyperlab.engine.train_trial`, trial by trial: the initial weights (each trial's
own model, built with its seed), the data order (per seed: trials of one seed share every batch),
augmentation, dropout masks (each trial's own generator, seeded like the engine's global one), the
SGD update, penalties, schedules, divergence, early stopping, the epoch records and the final
metrics. A trial that diverges, stops early or finishes leaves the stack; the others go on.
Checkpoints are the engine's own format, so `train_trial` resumes any trial interrupted here.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import torch

from hyperlab.data import make_splits
from hyperlab.data.splits import Splits
from hyperlab.engine import TrialResult, train_trial
from hyperlab.engine.augment import Augmenter
from hyperlab.engine.checkpoint import unflatten_optimizer
from hyperlab.engine.determinism import derive_seed, reproducible_torch, resolve_device, restore_generator
from hyperlab.engine.loop import EpochCallback
from hyperlab.engine.numerics import current_numerics
from hyperlab.engine.settings import RunSettings
from hyperlab.errors import UserError
from hyperlab.faults import environment_fault
from hyperlab.models import build_model
from hyperlab.vectorized.capture import WARMUP_STEPS, StepGraph, side_stream_step, why_not_captured
from hyperlab.vectorized.checkpoint import CheckpointWriter, save_trial
from hyperlab.vectorized.optim import StackedAdam, StackedSGD
from hyperlab.vectorized.stack import StackedNet
from hyperlab.vectorized.state import TrialState
from hyperlab.vectorized.support import group_key, why_not_vectorized

log = logging.getLogger(__name__)

# (index of the trial in the call, epoch record) -> None, or hyperlab.engine.Prune(why): it ends `pruned`
GroupEpochCallback = Callable[[int, dict], object]
GroupResultCallback = Callable[[int, TrialResult], None]


def train_group(configs: Sequence[Any], seeds: Sequence[int], *, splits: Splits | None = None,
                workdirs: Sequence[Path | None] | None = None, on_epoch: GroupEpochCallback | None = None,
                on_result: GroupResultCallback | None = None,
                should_stop: Callable[[], bool] | None = None, settings: RunSettings | None = None,
                data_fingerprints: Sequence[str | None] | None = None,
                checkpoint_writer: CheckpointWriter | None = None,
                on_note: Callable[[str], None] | None = None) -> list[TrialResult]:
    """Train trial i = (configs[i], seeds[i]) for every i in one stack; returns their results in order.

    The configs must share one `hyperlab.vectorized.group_key` (ignoring the seed): ValueError
    otherwise. `on_epoch(i, record)` after each evaluated epoch of trial i (before its checkpoint);
    an answer of `hyperlab.engine.Prune(why)` ends trial i there, `pruned`, as the engine ends it.
    `on_result(i, result)` as soon as trial i leaves the stack. `workdirs[i]`: where trial i's
    checkpoint goes (the engine's format); a checkpoint of trial i found there is resumed, bit for
    bit (weights, optimizer state, every generator, schedule position): the trials of one call
    must then all resume from the same epoch (ValueError otherwise). `settings` and
    `data_fingerprints[i]` as `train_trial`'s `settings` and `data_fingerprint`; a stack writes its
    trials' checkpoints every `settings.checkpoint_every` evaluated epochs or `checkpoint_seconds`
    (and at each trial's end), through `checkpoint_writer(workdir, tensors, document)` when given (a
    background writer: it gets snapshots), else here. `on_note(text)`: how the stack's step runs on
    CUDA ("step captured as a CUDA graph", or why not), once per stack (also logged).
    """
    settings = settings or RunSettings()
    fingerprints = list(data_fingerprints) if data_fingerprints is not None else [None] * len(configs)
    if not configs or len(configs) != len(seeds):
        raise ValueError(f"need one seed per config, got {len(configs)} configs and {len(seeds)} seeds")
    keys = [group_key(config, device=settings.device) for config in configs]
    for i, key in enumerate(keys):
        if key is None or key != keys[0]:
            why = (why_not_vectorized(configs[i], settings.device)
                   or "it differs from trial 0 in what a stack shares")
            raise ValueError(f"trial {i} cannot train in this stack: {why}")
    workdirs = list(workdirs) if workdirs is not None else [None] * len(configs)
    results: list[TrialResult | None] = [None] * len(configs)
    try:
        device = resolve_device(settings.device)
    except RuntimeError as error:  # the machine, not the trials: the caller checks before claiming
        raise UserError(f"--device: {error}") from None
    if splits is None:
        splits = make_splits(configs[0].data, device=str(device), root=settings.data_root)
    states: list[TrialState] = []
    for i, (config, seed) in enumerate(zip(configs, seeds, strict=True)):
        try:
            n_outputs = config.train.loss.output_width(splits.n_outputs)
            model = build_model(config.model, splits.input_shape, n_outputs, derive_seed(seed, "model"))
        except Exception as error:  # as train_trial: a model that cannot be built is a failed trial
            message = f"{type(error).__name__}: {error}"
            results[i] = TrialResult(status="failed", stop_reason=f"failed building the model: {message}",
                                     error=message)
            continue
        states.append(TrialState(i, config, seed, model, workdirs[i], splits, fingerprints[i]))

    def deliver(state: TrialState, result: TrialResult) -> None:
        results[state.index] = result
        if on_result is not None:
            on_result(state.index, result)

    for state in states:
        state.resume(device)
    if len({state.book.epoch for state in states}) > 1:
        epochs = ", ".join(f"trial {s.index}: {s.book.epoch}" for s in states)
        raise ValueError(f"the trials of one stack must resume from one epoch, got {epochs}")
    if states:
        with reproducible_torch(device), _no_nan_fill():
            for state in states:
                state.book.trains_under(current_numerics(device, state.config.train.precision))
            group = _Group(states, splits.to(device), device, settings.eval_batch_size)
            group.checkpoints = CheckpointPolicy(settings.checkpoint_every, settings.checkpoint_seconds)
            group.writer = checkpoint_writer
            group.on_note = on_note
            group.train(deliver, on_epoch, should_stop)
    return [r for r in results if r is not None]


def train_one(config: Any, seed: int, *, workdir: Path | None = None, on_epoch: EpochCallback | None = None,
              splits: Splits | None = None, should_stop: Callable[[], bool] | None = None,
              settings: RunSettings | None = None, data_fingerprint: str | None = None) -> TrialResult:
    """One trial on the numerical path every executor takes for it (`hyperlab.engine.train_trial`'s
    arguments and promises): a stack of one when the trial stacks on `settings.device`, so it is
    computed by the very kernels that compute it in a stack of K, else the engine's loop. One by one
    (`--executor local`, `--no-vectorize`), `--workers`, Ray and a resumed trial all come here, so
    a trial's numbers depend on its identity and the numerics (docs/performance.md), not on how it ran."""
    settings = settings or RunSettings()
    if why_not_vectorized(config, settings.device) is not None:
        return train_trial(config, seed, workdir=workdir, on_epoch=on_epoch, splits=splits,
                           should_stop=should_stop, settings=settings, data_fingerprint=data_fingerprint)
    records: list[dict] = []

    def report(_: int, record: dict) -> object:
        records.append(record)
        return _call(on_epoch, record) if on_epoch is not None else None

    try:
        (result,) = train_group([config], [seed], splits=splits, workdirs=[workdir], on_epoch=report,
                                should_stop=should_stop and (lambda: _call(should_stop)), settings=settings,
                                data_fingerprints=[data_fingerprint])
        return result
    except _CallerError as error:
        raise error.__cause__ from None
    except (UserError, KeyboardInterrupt):
        raise
    except Exception as error:  # as train_trial: a training problem is a failed trial, never raised
        fault = environment_fault(error)
        if fault is not None:
            raise fault from error
        message = f"{type(error).__name__}: {error}"
        epoch = records[-1]["epoch"] if records else 0
        return TrialResult(status="failed", stop_reason=f"failed at epoch {epoch}: {message}", epochs=records,
                           error=message)


class _CallerError(Exception):
    """Wraps an exception of the caller's on_epoch / should_stop: it propagates, it is not a failed trial."""


def _call(function: Callable, *args: object) -> object:
    try:
        return function(*args)
    except Exception as error:
        raise _CallerError from error


@contextmanager
def _no_nan_fill() -> Iterator[None]:
    """Deterministic mode (reproducible_torch) makes torch fill every new tensor with NaN
    (torch.utils.deterministic.fill_uninitialized_memory); every kernel here overwrites what it
    allocates, so the fill changes no result and costs ~15% of an MLP step on CPU. Off inside."""
    previous = torch.utils.deterministic.fill_uninitialized_memory
    torch.utils.deterministic.fill_uninitialized_memory = False
    try:
        yield
    finally:
        torch.utils.deterministic.fill_uninitialized_memory = previous


class CheckpointPolicy:
    """When a stack writes its trials' checkpoints: at an evaluated epoch `every` epochs or `seconds`
    after the last one, whichever comes first (None: that rule is off). A trial that ends, is pruned
    or interrupted is checkpointed regardless (the engine resumes from that). What it costs: a
    killed stack's trials resume from their last checkpoint, retraining up to `every` epochs (or
    `seconds` of training); the epochs the store already has are stored again."""

    def __init__(self, every: int | None = 1, seconds: float | None = None) -> None:
        self.every, self.seconds = every, seconds
        self.epoch, self.at = 0, time.monotonic()

    def due(self, epoch: int) -> bool:
        return ((self.every is not None and epoch - self.epoch >= self.every)
                or (self.seconds is not None and time.monotonic() - self.at >= self.seconds))

    def written(self, epoch: int) -> None:
        self.epoch, self.at = epoch, time.monotonic()


class _Group:
    """The stack while it trains: the active trials, in stack order."""

    def __init__(self, states: list[TrialState], splits: Splits, device: torch.device,
                 eval_batch_size: int) -> None:
        self.states, self.splits, self.device = states, splits, device
        self.eval_batch_size = eval_batch_size
        self.started = time.perf_counter()
        self._charged = self.started  # wall time up to here is split among the trials (charge)
        self.cfg = states[0].config.train  # what every trial shares (batch size, precision, eval)
        for state in states:
            state.model.to(device)
        self.net = StackedNet([s.model for s in states], [s.dropout for s in states]).to(device)
        opts = [s.config.train.optimizer for s in states]
        params = [p for p, _ in self.net.parameter_names()]
        if opts[0].name == "sgd":  # a stack shares its optimizer kind (group_key)
            self.optimizer: StackedSGD = StackedSGD(
                params, [o.lr for o in opts], [o.momentum for o in opts], [o.dampening for o in opts],
                [o.weight_decay for o in opts], [o.nesterov for o in opts])
        else:
            self.optimizer = StackedAdam(params, [o.lr for o in opts], [o.betas for o in opts],
                                         [o.eps for o in opts], [o.weight_decay for o in opts],
                                         decoupled=opts[0].name == "adamw")
        self.orders = {s.seed: torch.Generator().manual_seed(derive_seed(s.seed, "data order"))
                       for s in states}
        self.augmenters = {s.augment_key: Augmenter(s.config.train.augment, derive_seed(s.seed, "augment"),
                                                     device)
                           for s in states if s.config.train.augment is not None}
        self.steps_per_epoch = math.ceil(len(splits.x_train) / self.cfg.batch_size)
        self.epoch = 0
        self.batch_buffers: dict[int, torch.Tensor] = {}  # rows -> reused input batch (shared batches)
        self.checkpoints = CheckpointPolicy()  # every evaluated epoch unless train_group says otherwise
        self.writer: CheckpointWriter | None = None  # None: checkpoints are written in this thread
        self.on_note: Callable[[str], None] | None = None
        self._restore()
        self._prepare()

    def _restore(self) -> None:
        """Resumed trials (train_group checked they share one epoch): their optimizer state and
        generators, from the checkpoints TrialState.resume read (weights and book are in already)."""
        for k, state in enumerate(self.states):
            if state.resumed is None:
                continue
            tensors, document = state.resumed
            self.epoch = state.book.epoch
            state.dropout.set_state(tensors["rng/torch"])  # the engine's global generator: dropout's
            self.orders[state.seed].set_state(tensors["rng/data_order"])
            augmenter = self.augmenters.get(state.augment_key)
            if augmenter is not None:
                restore_generator(augmenter.generator, tensors["rng/augment"], "augmentation")
            self.optimizer.load_trial_state(k, unflatten_optimizer(tensors, document["optimizer"])["state"])
            state.resumed = None

    def _prepare(self) -> None:
        """Per-trial constants of the current stack (recomputed when trials leave it)."""
        states = self.states
        self.shared = len({s.seed for s in states}) == 1 and len({s.augment_key for s in states}) == 1
        clips = [s.config.train.grad_clip for s in states]
        self.clip = (torch.tensor([c if c is not None else math.inf for c in clips], device=self.device)
                     if any(clips) else None)
        self.sums = torch.zeros(2, len(states), device=self.device)  # the epoch's loss sum and correct
        # the captured step (CUDA) is recorded again for a changed stack, after a few eager steps
        self.step_graph: StepGraph | None = None
        self.capture_reason: str | None = None
        self.capture_reported = False
        self.steps_done = 0
        self.loss_groups: dict[str, list[int]] = {}
        for k, s in enumerate(states):
            self.loss_groups.setdefault(s.config.train.loss.model_dump_json(), []).append(k)
        # per loss: (its loss, its trials as an index on the device), made once per stack, not per step
        self.loss_index = [(states[members[0]].config.train.loss, torch.tensor(members, device=self.device))
                           for members in self.loss_groups.values()]
        # trial k's row in the epoch's (seeds, n) permutation table: one gather draws every trial's batch
        self.seed_list = list(dict.fromkeys(s.seed for s in states))
        self.seed_rows = torch.tensor([self.seed_list.index(s.seed) for s in states], device=self.device)
        self.penalties = self._penalty_terms()

    def _penalty_terms(self) -> list[tuple[torch.Tensor, torch.Tensor | None, torch.Tensor | None]]:
        """(stacked parameter, per-trial l1 (K,) or None, per-trial l2 (K,) or None), in the order the
        trial's model lists its penalties."""
        coefficients = [s.penalties() for s in self.states]  # per trial: {name: (l1, l2)}
        terms = []
        for k_param, (param, _name) in enumerate(self.net.parameter_names()):
            names = self.param_names[k_param]
            l1 = [coefficients[k].get(names[k], (0.0, 0.0))[0] for k in range(len(self.states))]
            l2 = [coefficients[k].get(names[k], (0.0, 0.0))[1] for k in range(len(self.states))]
            if any(l1) or any(l2):
                terms.append((param, torch.tensor(l1, device=self.device) if any(l1) else None,
                              torch.tensor(l2, device=self.device) if any(l2) else None))
        return terms

    @property
    def param_names(self) -> list[list[str]]:
        """[parameter][trial] -> that parameter's name in the trial's own model."""
        out = []
        for layer, names in zip(self.net.layers, self.net.names, strict=True):
            for key, _ in layer.named_parameters(recurse=False):
                out.append([f"{n}.{key}" for n in names])
        return out

    def autocast(self) -> AbstractContextManager:
        return torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.cfg.precision == "bf16")

    # --- the epoch loop ------------------------------------------------------------------------------

    def train(self, deliver: Callable[[TrialState, TrialResult], None], on_epoch: GroupEpochCallback | None,
              should_stop: Callable[[], bool] | None) -> None:
        """The engine's epoch loop (hyperlab.engine.loop._Run.train) for every trial of the stack, each
        trial's rules applied by its own TrialBook; a trial that ends leaves the stack."""
        finished = {k: self._finish(s, self.net.state_dict_of(k)) for k, s in enumerate(self.states)
                    if s.book.done}  # resumed from its last checkpoint, killed before its outcome was stored
        for k in sorted(finished):
            deliver(self.states[k], finished[k])
        if finished:
            self._drop(sorted(finished))
        while self.states:
            if should_stop is not None and should_stop():
                self.charge()
                for k, state in enumerate(self.states):
                    status, reason = state.book.interrupted(lambda k=k: self._save(k))
                    deliver(state, state.book.result(status, reason, state.seconds))
                return
            self.epoch += 1
            epoch_started = time.perf_counter()
            sums = self._train_epoch()
            train_seconds = time.perf_counter() - epoch_started
            self.charge()
            leaving: dict[int, TrialResult] = {}
            for k, state in enumerate(self.states):
                book = state.book
                book.epoch = self.epoch
                divergence = book.diverged(sums["train_loss"][k], sums["finite"][k], sums["first_loss"][k])
                if divergence:
                    leaving[k] = book.result("diverged", divergence, state.seconds)
            evaluated = [k for k, s in enumerate(self.states) if k not in leaving and s.book.evaluates()]
            if evaluated:
                val = self._evaluate_val()
                self.charge()
                # Timing is each trial's share of the stack's epoch (the stack's time / trials in it),
                # so seconds per epoch compare with trials trained alone and add up to the wall time.
                share = len(self.states)
                to_save: list[int] = []  # every trial's epoch is reported before any is checkpointed
                for k in evaluated:
                    state = self.states[k]
                    train = {"train_loss": sums["train_loss"][k], "train_accuracy": sums["train_accuracy"][k],
                             "lr": sums["lr"][k]}
                    ended = state.book.close_epoch(
                        train, val[k], (time.perf_counter() - epoch_started) / share, train_seconds / share,
                        lambda k=k: self.net.state_dict_of(k),
                        on_epoch and (lambda record, i=state.index: on_epoch(i, record)),
                        lambda k=k, to_save=to_save: to_save.append(k))
                    if ended:
                        leaving[k] = state.book.result(*ended, state.seconds)
                self._checkpoint(to_save, leaving)
            for k, state in enumerate(self.states):
                if k not in leaving and state.book.done:
                    leaving[k] = self._finish(state, self.net.state_dict_of(k))
            for k in sorted(leaving):
                deliver(self.states[k], leaving[k])
            if leaving:
                self._drop(sorted(leaving))

    def _checkpoint(self, evaluated: list[int], leaving: dict[int, TrialResult]) -> None:
        """Checkpoint the evaluated trials when the policy says so; those that end here always."""
        due = self.checkpoints.due(self.epoch)
        for k in evaluated:
            if due or k in leaving or self.states[k].book.done:
                self._save(k)
        if due and evaluated:
            self.checkpoints.written(self.epoch)

    def _finish(self, state: TrialState, weights: dict[str, torch.Tensor]) -> TrialResult:
        """The engine's end of the trial, on its own model holding its last weights."""
        state.model.load_state_dict(weights)
        self.charge()  # the final evaluation is this trial's alone
        started = time.perf_counter()
        book = state.book
        status, reason, final = book.finish(state.model, self.splits, self.eval_batch_size, self.autocast)
        self._charged = time.perf_counter()
        return book.result(status, reason, state.seconds + self._charged - started, final)

    def elapsed(self) -> float:
        return time.perf_counter() - self.started

    def charge(self) -> None:
        """Split the wall time since the last charge equally among the trials in the stack. A trial's
        `seconds` is its share, so a stacked trial's time means what a lone trial's does (docs/results.md)
        and the trials' times add up to the stack's."""
        now = time.perf_counter()
        share = (now - self._charged) / max(len(self.states), 1)
        for state in self.states:
            state.seconds += share
        self._charged = now

    def _drop(self, gone: list[int]) -> None:
        kept = [k for k in range(len(self.states)) if k not in gone]
        self.states = [self.states[k] for k in kept]
        if not kept:
            return
        index = torch.tensor(kept, dtype=torch.long)
        self.net.keep(index.to(self.device))
        self.optimizer.rebind([p for p, _ in self.net.parameter_names()], index)
        self.orders = {seed: g for seed, g in self.orders.items() if any(s.seed == seed for s in self.states)}
        self.augmenters = {key: a for key, a in self.augmenters.items()
                           if any(s.augment_key == key for s in self.states)}
        self._prepare()

    # --- one epoch -------------------------------------------------------------------------------------

    def _index(self, perms: dict[int, torch.Tensor], start: int) -> torch.Tensor:
        """The rows of the step's batch: (B,) when shared, else every trial's (K * B,), one gather."""
        size = self.cfg.batch_size
        if self.shared:
            return perms[self.states[0].seed][start:start + size]
        if self.perm_table is None:  # (seeds, n): made once per epoch, not per step
            self.perm_table = torch.stack([perms[seed] for seed in self.seed_list])
        return self.perm_table[:, start:start + size].index_select(0, self.seed_rows).reshape(-1)

    def _batch(self, perms: dict[int, torch.Tensor], start: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Inputs (B, ...) and targets (B,) when shared, else (K, B, ...) and (K, B)."""
        x, y, size = self.splits.x_train, self.splits.y_train, self.cfg.batch_size
        if self.shared:
            index = self._index(perms, start)
            # into a reused buffer: twice as fast as a fresh tensor for CIFAR batches (no page faults);
            # safe because the step's backward, the only reader of a saved input, ends before the next
            inputs = self._buffer(len(index))
            torch.index_select(x, 0, index, out=inputs)
            targets = y.index_select(0, index)
            augmenter = self.augmenters.get(self.states[0].augment_key)
            return (augmenter(inputs) if augmenter is not None else inputs), targets
        if not self.augmenters:  # each trial its seed's batch, every trial's rows in one gather
            index = self._index(perms, start)  # (K * B,)
            k = len(self.states)
            return (x.index_select(0, index).view(k, -1, *x.shape[1:]),
                    y.index_select(0, index).view(k, -1))
        per_seed = {seed: perm[start:start + size] for seed, perm in perms.items()}
        cache: dict[Any, torch.Tensor] = {}
        inputs_k = []
        for state in self.states:
            key = (state.seed, state.augment_key)
            if key not in cache:  # trials of one seed and augmentation see one batch: draw it once
                batch = x.index_select(0, per_seed[state.seed])
                augmenter = self.augmenters.get(state.augment_key)
                cache[key] = augmenter(batch) if augmenter is not None else batch
            inputs_k.append(cache[key])
        targets = torch.stack([y.index_select(0, per_seed[s.seed]) for s in self.states])
        return torch.stack(inputs_k), targets

    def _buffer(self, rows: int) -> torch.Tensor:
        buffer = self.batch_buffers.get(rows)
        if buffer is None:
            x = self.splits.x_train
            buffer = torch.empty((rows, *x.shape[1:]), dtype=x.dtype, device=x.device)
            self.batch_buffers[rows] = buffer
        return buffer

    def _losses(self, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """Per-trial mean loss (K,) of outputs (K, B, C) against targets (B,) or (K, B)."""
        k, batch, classes = outputs.shape
        if targets.ndim == 1:
            targets = targets.expand(k, batch)
        if self.states[0].config.train.loss.name == "bce":
            # elementwise over the examples (a log1p of an exp): one call per trial, so a trial's
            # values do not depend on its position in the stack (its scalar tail)
            return torch.stack([self.states[i].config.train.loss.per_example(outputs[i], targets[i]).mean()
                                for i in range(k)])
        if len(self.loss_groups) == 1:
            loss = self.states[0].config.train.loss
            values = loss.per_example(outputs.reshape(k * batch, classes), targets.reshape(-1))
            return values.view(k, batch).mean(1)
        parts = torch.empty(k, device=outputs.device)
        for loss, index in self.loss_index:
            sub_out, sub_t = outputs.index_select(0, index), targets.index_select(0, index)
            values = loss.per_example(sub_out.reshape(-1, classes), sub_t.reshape(-1))
            values = values.view(len(index), batch)
            parts = parts.index_copy(0, index, values.mean(1))
        return parts

    def _penalty(self) -> torch.Tensor | None:
        total = None
        for param, l1, l2 in self.penalties:
            if l1 is not None:
                term = l1 * param.abs().flatten(1).sum(1)
                total = term if total is None else total + term
            if l2 is not None:
                term = l2 * param.square().flatten(1).sum(1)
                total = term if total is None else total + term
        return total

    def _set_lr(self, step: int, total_steps: list[int]) -> list[float]:
        rates = [s.config.train.schedule.lr_at(s.config.train.optimizer.lr, step, self.steps_per_epoch, total)
                 for s, total in zip(self.states, total_steps, strict=True)]
        self.optimizer.lr = torch.tensor(rates, dtype=torch.float32)
        return rates

    def _train_epoch(self) -> dict[str, list[float]]:
        """One epoch of every trial: per step a constant number of Python calls whatever the stack's
        size (one gather, one forward, one backward, one optimizer step; on CUDA one graph replay),
        the metrics summed on the device and read once at the end."""
        size = self.cfg.batch_size
        n = len(self.splits.x_train)
        self.net.train()
        perms = {seed: torch.randperm(n, generator=g).to(self.device) for seed, g in self.orders.items()}
        self.perm_table: torch.Tensor | None = None  # this epoch's permutations of every seed (_index)
        first_step = (self.epoch - 1) * self.steps_per_epoch
        total_steps = [s.config.train.epochs * self.steps_per_epoch for s in self.states]
        per_batch = any(s.config.train.schedule.per_batch for s in self.states)
        self.sums.zero_()
        first_loss = torch.tensor([s.book.initial_loss for s in self.states], device=self.device)
        graph = self._graph()
        rates: list[float] = []
        for step, start in enumerate(range(0, n, size), start=first_step):
            if step == first_step or per_batch:
                rates = self._set_lr(step, total_steps)
            replay = graph is not None and start + size <= n and self.steps_done >= WARMUP_STEPS
            if not (replay and graph.run(self._index(perms, start), self.optimizer.zero_grad)):
                inputs, targets = self._batch(perms, start)
                if graph is not None and not graph.failed and self.steps_done < WARMUP_STEPS:
                    batch_loss = side_stream_step(self._step, inputs, targets)
                else:
                    batch_loss = self._step(inputs, targets)
                if step == 0:
                    first_loss = batch_loss.detach().clone()
            self.steps_done += 1
        if graph is not None and graph.failed and not self.capture_reported:
            self.capture_reported = True
            self._note(f"step not captured ({graph.reason})")
        with torch.no_grad():
            params = [p for p, _ in self.net.parameter_names()]
            finite = torch.stack([p.isfinite().flatten(1).all(1) for p in params]).all(0)
            values = torch.stack([self.sums[0], self.sums[1], finite.float(), first_loss]).tolist()  # 1 sync
        return {"train_loss": [v / n for v in values[0]], "train_accuracy": [v / n for v in values[1]],
                "finite": [v == 1.0 for v in values[2]], "first_loss": values[3], "lr": rates}

    def _step(self, inputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """One optimizer step of every trial on its batch; adds the batch's loss and correct
        predictions to `self.sums`; returns the per-trial loss (K,)."""
        net, optimizer = self.net, self.optimizer
        rows = targets.shape[-1]
        with self.autocast():
            outputs = net(inputs, self.shared)  # (K, B, C)
        outputs = outputs.float()  # losses and metrics in float32 under bf16 autocast
        batch_loss = self._losses(outputs, targets)  # (K,)
        penalty = self._penalty()
        if penalty is not None:
            batch_loss = batch_loss + penalty
        optimizer.zero_grad()
        batch_loss.sum().backward()  # trial k's loss reaches only trial k's weights
        if self.clip is not None:
            optimizer.clip_grad_norm(self.clip)
        optimizer.step()
        with torch.no_grad():
            self.sums[0] += batch_loss.detach() * rows
            # one prediction rule per stack (the output width decides it: arg max, or bce's logit > 0)
            predicted = self.states[0].config.train.loss.predict(
                outputs.reshape(-1, outputs.shape[2])).view(outputs.shape[0], outputs.shape[1])
            self.sums[1] += (predicted == targets).sum(dim=-1)
        return batch_loss

    def _graph(self) -> StepGraph | None:
        """This stack's captured step, made on first use; None where it cannot be captured (the
        reason is logged once per stack)."""
        if self.step_graph is None and self.capture_reason is None:
            self.capture_reason = why_not_captured(self)
            if self.capture_reason is None:
                self.step_graph = StepGraph(self._graph_body)
                self._note("step captured as a CUDA graph")
            elif self.device.type == "cuda":
                self._note(f"step not captured ({self.capture_reason})")
        return self.step_graph

    def _note(self, text: str) -> None:
        log.info("stack of %d trials: %s", len(self.states), text)
        if self.on_note is not None:
            self.on_note(text)

    def _graph_body(self, index: torch.Tensor) -> None:
        """The step a graph records: the batch gathered at `index` (a buffer the graph owns), then `_step`."""
        x, y = self.splits.x_train, self.splits.y_train
        if self.shared:
            self._step(x.index_select(0, index), y.index_select(0, index))
            return
        k = len(self.states)
        self._step(x.index_select(0, index).view(k, -1, *x.shape[1:]), y.index_select(0, index).view(k, -1))

    @torch.inference_mode()
    def _evaluate_val(self) -> list[dict]:
        """Every trial's validation loss, accuracy and confusion matrix, with one sync."""
        s, net = self.splits, self.net
        net.eval()
        chunks = []
        for start in range(0, len(s.x_val), self.eval_batch_size):
            with self.autocast():
                chunks.append(net(s.x_val[start:start + self.eval_batch_size], True).float())
        outputs = torch.cat(chunks, dim=1)  # (K, N, C)
        classes, n = s.n_outputs, len(s.y_val)
        table = torch.empty(len(self.states), 1 + classes * classes, dtype=torch.float64,
                            device=outputs.device)
        for loss, index in self.loss_index:  # a loss's trials at once: a few ops per loss, not per trial
            group = outputs.index_select(0, index)  # (G, N, C)
            flat = group.reshape(-1, group.shape[2])
            losses = loss.per_example(flat, s.y_val.repeat(len(index))).view(len(index), n).mean(1)
            cell = (s.y_val * classes + loss.predict(flat).view(len(index), n)
                    + torch.arange(len(index), device=outputs.device).view(-1, 1) * classes * classes)
            cells = torch.bincount(cell.reshape(-1), minlength=len(index) * classes * classes)
            table.index_copy_(0, index, torch.cat([losses.double().view(-1, 1),
                                                   cells.double().view(len(index), -1)], dim=1))
        values = table.tolist()  # one sync
        out = []
        for row in values:
            confusion = [[int(c) for c in row[1 + r * classes:1 + (r + 1) * classes]] for r in range(classes)]
            correct = sum(confusion[r][r] for r in range(classes))
            out.append({"loss": row[0], "accuracy": correct / len(s.y_val), "confusion": confusion})
        return out

    def _save(self, k: int) -> None:
        state = self.states[k]
        seed = state.seed
        augmenter = self.augmenters.get(state.augment_key)
        save_trial(state, self.net.state_dict_of(k), self.optimizer, k, self.net.parameter_names(),
                   self.orders[seed].get_state(), augmenter.generator.get_state() if augmenter else None,
                   state.seconds, self.writer)
