"""The training loop: it learns, it is deterministic, and training problems are results."""

from __future__ import annotations

import contextlib
import json
import time

import pytest
import torch
from engine_helpers import digits_splits, metrics_only, mlp, train_config
from torch import nn

from hyperlab.engine import RunSettings, fit
from hyperlab.engine.evaluate import evaluate

CLASSIFICATION_KEYS = {"epoch", "train_loss", "train_accuracy", "val_loss", "val_accuracy", "lr", "seconds",
                       "examples_per_s"}


def test_mlp_on_digits_reaches_90_percent_validation_accuracy_in_seconds(digits):
    started = time.perf_counter()
    result = fit(mlp(hidden=64), digits, train_config(epochs=5), seed=0)
    assert time.perf_counter() - started < 10
    assert result.status == "completed" and result.stop_reason == "completed 5 epochs"
    assert result.epochs[-1]["val_accuracy"] >= 0.90
    assert [r["epoch"] for r in result.epochs] == [1, 2, 3, 4, 5]
    assert set(result.epochs[0]) == CLASSIFICATION_KEYS
    assert result.params == 64 * 64 + 64 + 64 * 10 + 10
    final = result.final
    assert final["test_accuracy"] >= 0.88
    assert final["val_accuracy"] == result.epochs[-1]["val_accuracy"]
    assert len(final["per_class_test"]) == 10 and len(final["confusion_val"]) == 10
    assert sum(map(sum, final["confusion_test"])) == 297
    assert sum(map(sum, final["confusion_val"])) == 300
    correct = sum(final["confusion_test"][i][i] for i in range(10))
    assert correct / 297 == pytest.approx(final["test_accuracy"])
    assert json.loads(json.dumps(result.to_dict(), allow_nan=False))["final"] == final


def test_train_metrics_are_running_means_over_the_epoch(digits):
    """Keras-style: the mean of the batch losses weighted by batch size, during training."""
    result = fit(mlp(), digits, train_config(epochs=1, optimizer={"name": "sgd", "lr": 1e-9}), seed=0)
    # With a negligible lr, the running mean equals the loss of the initial model on the train set.
    model = mlp()
    model.eval()  # no dropout in this model: train and eval mode compute the same
    with torch.no_grad():
        initial = nn.functional.cross_entropy(model(digits.x_train), digits.y_train).item()
    assert result.epochs[0]["train_loss"] == pytest.approx(initial, rel=1e-5)


def test_same_seed_gives_identical_metrics_and_another_seed_does_not(digits):
    cfg = train_config(epochs=3, optimizer="adam")
    first = fit(mlp(dropout=0.2), digits, cfg, seed=11)
    second = fit(mlp(dropout=0.2), digits, cfg, seed=11)
    other = fit(mlp(dropout=0.2), digits, cfg, seed=12)
    assert metrics_only(first.epochs) == metrics_only(second.epochs)
    assert first.final == second.final
    assert metrics_only(first.epochs) != metrics_only(other.epochs)


def test_the_data_order_depends_on_the_seed_only(digits):
    """Two variants that differ in batch size see the examples in the same order (paired designs)."""
    seen: dict[int, list[torch.Tensor]] = {32: [], 100: []}

    class Recorder(nn.Module):
        def __init__(self, batch_size: int) -> None:
            super().__init__()
            self.inner, self.batch_size = mlp(), batch_size

        def forward(self, x):
            if self.training:
                seen[self.batch_size].append(x[:, :5].clone())
            return self.inner(x)

    for batch_size in seen:
        fit(Recorder(batch_size), digits, train_config(epochs=1, batch_size=batch_size), seed=5)
    assert torch.equal(torch.cat(seen[32]), torch.cat(seen[100]))
    assert len(seen[100]) == 12 and len(seen[100][-1]) == 100  # 1200 / 100, last batch kept
    assert len(seen[32][-1]) == 1200 - 37 * 32  # the last, partial batch is kept


def test_a_huge_learning_rate_diverges_with_the_epoch_instead_of_raising(digits):
    result = fit(mlp(), digits, train_config(epochs=3, optimizer={"name": "sgd", "lr": 1e3}), seed=0)
    assert result.status == "diverged"
    assert result.stop_reason.startswith("diverged at epoch 1")
    assert result.final == {} and result.error is None


class PoisonedAfter(nn.Module):
    """A model whose training outputs turn NaN after `calls` forward passes."""

    def __init__(self, calls: int) -> None:
        super().__init__()
        self.inner, self.calls, self.left = mlp(), calls, calls

    def forward(self, x):
        out = self.inner(x)
        if self.training:
            self.left -= 1
            if self.left < 0:
                return out * float("nan")
        return out


def test_a_non_finite_loss_is_diverged_at_its_epoch(digits):
    steps_per_epoch = 19  # ceil(1200 / 64)
    result = fit(PoisonedAfter(steps_per_epoch + 3), digits, train_config(divergence_factor=None), seed=0)
    assert result.status == "diverged"
    assert result.stop_reason == "diverged at epoch 2: train loss is nan"
    assert [r["epoch"] for r in result.epochs] == [1] and result.best_epoch == 1


class Exploding(nn.Module):
    """A user model whose forward raises on its third call."""

    def __init__(self) -> None:
        super().__init__()
        self.inner, self.calls = mlp(), 0

    def forward(self, x):
        self.calls += 1
        if self.calls == 3:
            raise RuntimeError("boom in user code")
        return self.inner(x)


def test_an_exception_in_the_model_is_a_failed_trial_with_its_message(digits):
    result = fit(Exploding(), digits, train_config(), seed=0)
    assert result.status == "failed"
    assert result.error == "RuntimeError: boom in user code"
    assert "failed at epoch 1" in result.stop_reason


def test_an_exception_in_the_callers_on_epoch_propagates(digits):
    def on_epoch(record):
        raise KeyError("store is broken")

    with pytest.raises(KeyError, match="store is broken"):
        fit(mlp(), digits, train_config(epochs=1), seed=0, on_epoch=on_epoch)


def test_early_stopping_restores_the_best_weights(digits):
    cfg = train_config(epochs=40, optimizer={"name": "sgd", "lr": 0.3, "momentum": 0.9},
                       early_stopping={"monitor": "val_loss", "patience": 2, "min_delta": 0.005})
    model = mlp()
    result = fit(model, digits, cfg, seed=0)
    assert result.status == "early_stopped", result.stop_reason
    last = result.epochs[-1]["epoch"]
    assert last < 40 and result.best_epoch == last - 2
    best_record = result.epochs[result.best_epoch - 1]
    assert best_record["val_loss"] == min(r["val_loss"] for r in result.epochs)
    kept = evaluate(model, digits.x_test, digits.y_test, cfg.loss, 10, 1024, contextlib.nullcontext)
    assert kept["accuracy"] == result.final["best_test_accuracy"]
    assert result.final["val_loss"] == pytest.approx(best_record["val_loss"])
    assert result.final["test_accuracy"] != result.final["best_test_accuracy"] or \
        result.final["test_loss"] != result.final["best_test_loss"]


def test_eval_every_evaluates_those_epochs_and_the_last(digits):
    calls = []
    result = fit(mlp(), digits, train_config(epochs=5, eval_every=2), seed=0, on_epoch=calls.append)
    assert [r["epoch"] for r in result.epochs] == [2, 4, 5]
    assert calls == result.epochs


def test_bf16_autocast_and_gradient_clipping_train(digits):
    result = fit(mlp(), digits, train_config(epochs=3, precision="bf16", grad_clip=1.0), seed=0)
    assert result.status == "completed", result.stop_reason
    assert result.epochs[-1]["val_accuracy"] > 0.85


def test_fit_leaves_the_process_settings_as_it_found_them(digits):
    before = (torch.get_num_threads(), torch.are_deterministic_algorithms_enabled())
    fit(mlp(), digits, train_config(epochs=1), seed=0)
    assert (torch.get_num_threads(), torch.are_deterministic_algorithms_enabled()) == before


def test_channels_last_is_a_layout_choice_that_does_not_change_what_is_learned():
    torch.set_num_threads(1)
    splits = digits_splits(images=True)

    def convnet() -> nn.Module:
        torch.manual_seed(0)
        return nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                             nn.Linear(8 * 4 * 4, 10))

    plain = fit(convnet(), splits, train_config(epochs=2), seed=0)
    layout = fit(convnet(), splits, train_config(epochs=2), seed=0, settings=RunSettings(channels_last=True))
    assert plain.status == layout.status == "completed"
    for a, b in zip(plain.epochs, layout.epochs, strict=True):
        assert abs(a["train_loss"] - b["train_loss"]) < 1e-4
        assert abs(a["val_accuracy"] - b["val_accuracy"]) <= 1 / 300 + 1e-9  # at most one example
