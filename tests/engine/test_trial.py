"""train_trial: a TrialConfig (data + model spec + train) to a TrialResult, through the real data and
model packages."""

from __future__ import annotations

import textwrap

import pytest
import torch
from engine_helpers import metrics_only
from pydantic import ValidationError

from hyperlab.data.config import DataConfig
from hyperlab.data.splits import Splits
from hyperlab.engine import RunSettings, TrialConfig, train_trial
from hyperlab.errors import UserError

FAST = {"epochs": 4, "batch_size": 64,
        "optimizer": {"name": "sgd", "lr": 0.1, "momentum": 0.9}}


def trial(model: dict | None = None, **train) -> TrialConfig:
    return TrialConfig(data=DataConfig(dataset="digits"), model=model or {"kind": "mlp", "hidden": [64]},
                       train={**FAST, **train})


def test_the_full_path_loads_digits_builds_the_mlp_and_trains_it():
    result = train_trial(trial(), seed=0)
    assert result.status == "completed", result.stop_reason
    assert result.epochs[-1]["val_accuracy"] >= 0.90
    assert result.params == 64 * 64 + 64 + 64 * 10 + 10


def test_same_seed_same_numbers_and_the_seed_also_sets_the_initial_weights(digits):
    first = train_trial(trial(), seed=3, splits=digits)
    second = train_trial(trial(), seed=3, splits=digits)
    other = train_trial(trial(), seed=4, splits=digits)
    assert metrics_only(first.epochs) == metrics_only(second.epochs) and first.final == second.final
    assert first.epochs[0]["train_loss"] != other.epochs[0]["train_loss"]


def test_l1_and_l2_penalties_of_the_model_spec_are_added_to_the_training_loss(digits):
    plain = train_trial(trial(), seed=0, splits=digits)
    l2 = train_trial(trial({"kind": "mlp", "hidden": [64], "l2": {"hidden_kernel": 0.01}}), seed=0,
                     splits=digits)
    l1 = train_trial(trial({"kind": "mlp", "hidden": [64], "l1": {"output_kernel": 0.01}}), seed=0,
                     splits=digits)
    # Same initial weights and batches: the only difference is the penalty in the objective.
    for penalised in (l1, l2):
        assert penalised.status == "completed"
        assert penalised.epochs[0]["train_loss"] > plain.epochs[0]["train_loss"]
        assert penalised.final["test_loss"] != plain.final["test_loss"]


def test_bce_builds_a_one_output_model_for_two_classes(digits):
    def zeros_and_ones(x, y):
        return x[y < 2], y[y < 2]

    two = Splits("classification", digits.input_shape, ["0", "1"],
                 *zeros_and_ones(digits.x_train, digits.y_train), *zeros_and_ones(digits.x_val, digits.y_val),
                 *zeros_and_ones(digits.x_test, digits.y_test))
    result = train_trial(trial(loss="bce"), seed=0, splits=two)
    assert result.status == "completed", result.stop_reason
    assert result.params == 64 * 64 + 64 + 64 + 1
    assert result.final["val_accuracy"] > 0.95 and len(result.final["confusion_test"]) == 2


FACTORY = """
    import torch
    from torch import nn

    class Fragile(nn.Module):
        def __init__(self, n_outputs):
            super().__init__()
            self.linear = nn.Linear(64, n_outputs)
            self.calls = 0

        def forward(self, x):
            self.calls += 1
            if self.calls == 5:
                raise ValueError("user forward failed on call 5")
            return self.linear(x.flatten(1))

    def make(input_shape, n_outputs):
        return Fragile(n_outputs)
"""


def test_an_exception_in_a_python_kind_models_forward_is_a_failed_trial(digits, tmp_path, monkeypatch):
    module = tmp_path / "fragile_model_for_engine_test.py"
    module.write_text(textwrap.dedent(FACTORY))
    monkeypatch.syspath_prepend(str(tmp_path))
    result = train_trial(trial({"kind": "python", "factory": "fragile_model_for_engine_test:make"}), seed=0,
                         splits=digits)
    assert result.status == "failed"
    assert result.error == "ValueError: user forward failed on call 5"


def test_a_model_spec_that_does_not_fit_the_data_is_a_failed_trial(digits):
    convolution_on_features = trial({"kind": "sequential", "layers": ["conv 8 k3", "relu"]})
    result = train_trial(convolution_on_features, seed=0, splits=digits)
    assert result.status == "failed" and result.stop_reason.startswith("failed building the model")


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message on a machine without CUDA")
def test_asking_for_cuda_without_one_is_a_user_error_not_a_failed_trial(digits):
    with pytest.raises(UserError, match="no CUDA device"):
        train_trial(trial(), seed=0, splits=digits, settings=RunSettings(device="cuda"))


def test_trial_config_forbids_unknown_keys_and_round_trips_through_json():
    with pytest.raises(ValidationError):
        TrialConfig(model={"kind": "mlp", "hidden": [8]}, trian={})
    config = trial(early_stopping={"patience": 2})
    assert TrialConfig.model_validate_json(config.model_dump_json()) == config
