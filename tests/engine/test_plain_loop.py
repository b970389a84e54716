"""The engine trains what the plain PyTorch loop of the tutorials trains: given the trial's initial
weights (the "model" stream of its seed) and its batch order (the "data order" stream), a hand-written
loop (torch.optim.SGD, cross entropy, the model's L2 terms, zero_grad/backward/step) reaches the same
losses and accuracies epoch by epoch. Peers that differ from hyperlab only by their own seeds (the
benchmarks in benchmarks/peers.py) therefore differ by seed noise, not by what is trained."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from hyperlab.engine import TrialConfig, train_trial
from hyperlab.engine.determinism import derive_seed
from hyperlab.models import build_model
from hyperlab.models._common import regularization_loss


@pytest.mark.parametrize("changes", [
    {},
    {"train": {"optimizer": {"name": "sgd", "lr": 0.05, "momentum": 0.9, "weight_decay": 1e-3}}},
    {"model": {"kind": "mlp", "hidden": [32, 16], "l2": {"output_kernel": 0.01, "output_bias": 0.01}}},
], ids=["sgd", "momentum-weight-decay", "output-l2"])
def test_the_engine_matches_a_plain_loop_with_the_same_weights_and_batches(digits, changes):
    settings = {
        "data": {"dataset": "digits"},
        "model": {"kind": "mlp", "hidden": [32]},
        "train": {"epochs": 3, "batch_size": 50, "optimizer": {"name": "sgd", "lr": 0.1}},
    }
    settings.update(changes)
    config, seed = TrialConfig.model_validate(settings), 7
    engine = train_trial(config, seed, splits=digits)
    assert engine.status == "completed"

    model = build_model(config.model, digits.input_shape, digits.n_outputs, derive_seed(seed, "model"))
    opt = config.train.optimizer
    optimizer = torch.optim.SGD(model.parameters(), lr=opt.lr, momentum=opt.momentum,
                                weight_decay=opt.weight_decay)
    order_stream = torch.Generator().manual_seed(derive_seed(seed, "data order"))
    x, y, criterion = digits.x_train, digits.y_train, nn.CrossEntropyLoss()
    for epoch in range(config.train.epochs):
        model.train()
        order, total = torch.randperm(len(x), generator=order_stream), 0.0
        for start in range(0, len(x), config.train.batch_size):
            index = order[start:start + config.train.batch_size]
            loss = criterion(model(x[index]), y[index])
            penalty = regularization_loss(model)
            if penalty is not None:
                loss = loss + penalty
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(index)
        model.eval()
        with torch.no_grad():
            correct = int((model(digits.x_val).argmax(1) == digits.y_val).sum())
        record = engine.epochs[epoch]
        assert record["train_loss"] == pytest.approx(total / len(x), rel=1e-5), epoch
        assert record["val_accuracy"] == correct / len(digits.y_val), epoch
