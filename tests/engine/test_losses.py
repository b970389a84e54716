"""Losses: sparse vs one-hot cross entropy agree, each loss's conventions, task mismatches."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from engine_helpers import metrics_only, mlp, train_config
from sklearn.metrics import mean_absolute_error, r2_score

from devices import DEVICE
from hyperlab.data.splits import Splits
from hyperlab.engine import LOSSES, fit

torch.manual_seed(0)
LOGITS = torch.randn(50, 10) * 3
LABELS = torch.randint(0, 10, (50,))


@pytest.mark.parametrize("smoothing", [0.0, 0.1])
def test_one_hot_categorical_and_integer_cross_entropy_give_the_same_loss(smoothing):
    sparse = LOSSES["cross_entropy"](label_smoothing=smoothing).per_example(LOGITS, LABELS)
    one_hot = LOSSES["categorical_cross_entropy"](label_smoothing=smoothing).per_example(LOGITS, LABELS)
    torch.testing.assert_close(one_hot, sparse, rtol=1e-6, atol=1e-6)
    assert sparse.mean() > 0


def test_one_hot_and_sparse_cross_entropy_train_to_the_same_numbers(digits):
    sparse = fit(mlp(), digits, train_config(loss="cross_entropy"), seed=3)
    one_hot = fit(mlp(), digits, train_config(loss="categorical_cross_entropy"), seed=3)
    for a, b in zip(metrics_only(sparse.epochs), metrics_only(one_hot.epochs), strict=True):
        assert a.keys() == b.keys()
        for key in a:
            assert a[key] == pytest.approx(b[key], rel=1e-4, abs=1e-6), key


def test_nll_applies_log_softmax_so_log_probability_outputs_train_unchanged():
    nll = LOSSES["nll"]()
    expected = F.cross_entropy(LOGITS, LABELS, reduction="none")
    torch.testing.assert_close(nll.per_example(LOGITS, LABELS), expected)
    log_probs = F.log_softmax(LOGITS, dim=1)
    torch.testing.assert_close(nll.per_example(log_probs, LABELS), expected)


def test_bce_uses_one_logit_and_predicts_its_sign():
    bce = LOSSES["bce"]()
    logits, labels = torch.tensor([[2.0], [-1.0], [0.5]]), torch.tensor([1, 1, 0])
    expected = F.binary_cross_entropy_with_logits(logits[:, 0], labels.float(), reduction="none")
    torch.testing.assert_close(bce.per_example(logits, labels), expected)
    assert bce.predict(logits).tolist() == [1, 0, 1]
    assert bce.output_width(2) == 1
    assert "exactly 2 classes" in bce.check("classification", 10)


def test_regression_losses_average_over_targets_then_examples():
    predictions, targets = torch.tensor([[1.0, 2.0], [0.0, 5.0]]), torch.tensor([[0.0, 0.0], [0.0, 1.0]])
    assert LOSSES["mse"]().per_example(predictions, targets).tolist() == [2.5, 8.0]
    assert LOSSES["mae"]().per_example(predictions, targets).tolist() == [1.5, 2.0]
    assert LOSSES["huber"](delta=1.0).per_example(predictions, targets).tolist() == [1.0, 1.75]
    column = LOSSES["mse"]().per_example(torch.tensor([[3.0], [1.0]]), torch.tensor([1.0, 1.0]))
    assert column.tolist() == [4.0, 0.0]  # (N, 1) outputs against (N,) targets


def regression_splits() -> Splits:
    g = torch.Generator().manual_seed(0)
    x = torch.randn(600, 4, generator=g)
    y = x @ torch.tensor([1.0, -2.0, 0.5, 0.0]) + 0.1 * torch.randn(600, generator=g)
    return Splits("regression", (4,), [], x[:400], y[:400], x[400:500], y[400:500], x[500:], y[500:])


def test_regression_trial_records_mse_mae_r2_and_no_accuracy():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(4, 16), torch.nn.ReLU(), torch.nn.Linear(16, 1))
    splits = regression_splits().to(DEVICE)
    cfg = train_config(loss="mse", epochs=8, optimizer={"name": "adam", "lr": 0.01})
    result = fit(model, splits, cfg, seed=0)
    assert result.status == "completed", result.stop_reason
    last = result.epochs[-1]
    assert {"train_mse", "val_mse", "val_mae", "val_r2"} <= last.keys()
    assert "val_accuracy" not in last and "train_accuracy" not in last
    assert last["val_loss"] == pytest.approx(last["val_mse"])
    assert last["val_r2"] > 0.9
    with torch.no_grad():
        predictions = model(splits.x_test)[:, 0].cpu()
    truth = splits.y_test.cpu()
    assert result.final["test_r2"] == pytest.approx(r2_score(truth, predictions), abs=1e-5)
    assert result.final["test_mae"] == pytest.approx(mean_absolute_error(truth, predictions), abs=1e-5)


def test_a_loss_for_the_wrong_task_is_a_failed_trial_with_the_reason(digits):
    result = fit(mlp(), digits, train_config(loss="mse"), seed=0)
    assert result.status == "failed"
    assert "loss 'mse' is for regression" in result.error
