"""The captured (CUDA graph) step's fallback logic, on a CPU: which stacks it declines and why, and
that a capture that fails changes nothing (the stack goes on eagerly, with the same numbers)."""

from __future__ import annotations

import pytest
import torch
from vectorized_helpers import MLP, trial, with_model

import hyperlab.vectorized.train as train_module
from hyperlab.engine import TIMING_KEYS
from hyperlab.vectorized import train_group
from hyperlab.vectorized.capture import StepGraph, why_not_captured


def asked(monkeypatch, configs, digits):
    """Train `configs` (seed 0) and return, as the trainer asked at its first step: the stack, what
    `why_not_captured` answered it, and what it would have answered on CUDA."""
    seen = []
    real = train_module.why_not_captured

    def spy(group, device_type=None):
        answer = real(group, device_type)
        seen.append((group, answer, real(group, "cuda")))
        return answer

    monkeypatch.setattr(train_module, "why_not_captured", spy)
    train_group(configs, [0] * len(configs), splits=digits)
    return seen[0]


def one_epoch(**train: object):
    return trial(epochs=1, **train)


def test_on_a_cpu_the_step_is_never_captured(monkeypatch, digits):
    configs = [one_epoch(), one_epoch(optimizer={"name": "sgd", "lr": 0.01})]
    group, answer, on_cuda = asked(monkeypatch, configs, digits)
    assert answer == "not on CUDA" and on_cuda is None
    assert group.step_graph is None and group.capture_reason == "not on CUDA"


@pytest.mark.parametrize(("change", "reason"), [
    ({}, None),
    ({"model": with_model(MLP, dropout=0.2)}, "dropout masks are drawn from each trial's CPU generator"),
    ({"optimizer": {"name": "adam", "lr": 0.001}}, "Adam's bias corrections are computed on the host"),
    ({"schedule": {"name": "cosine"}}, "a per-batch learning-rate schedule"),
    ({"precision": "bf16"}, "precision bf16"),
])
def test_what_cuda_would_capture_and_why_not(monkeypatch, digits, change, reason):
    model = change.pop("model", None)
    configs = [trial(model, epochs=1, **change), trial(model, epochs=1, **{**change, "grad_clip": 1.0})]
    group, _, said = asked(monkeypatch, configs, digits)
    assert said is None if reason is None else said.startswith(reason), said
    monkeypatch.setenv("HYPERLAB_CUDA_GRAPH", "0")
    assert why_not_captured(group, device_type="cuda") == "turned off (HYPERLAB_CUDA_GRAPH=0)"


def test_a_failed_capture_says_why_and_is_not_tried_again():
    calls = []
    graph = StepGraph(lambda index: calls.append(index))
    # on a CPU, recording fails (no CUDA): the step is left to the caller, the reason kept
    assert graph.run(torch.arange(4), zero_grad=lambda: None) is False
    assert graph.failed and graph.reason.startswith("capture failed: ")
    assert graph.run(torch.arange(4), zero_grad=lambda: None) is False
    assert graph.replays == 0


def test_a_stack_whose_capture_fails_trains_exactly_as_an_eager_one(monkeypatch, digits):
    """The capture path taken as far as a CPU allows (warm-up steps, a capture attempt that fails at
    the first full batch): every number equals the plain eager run's, bit for bit."""
    configs = [trial(epochs=2), trial(epochs=2, optimizer={"name": "sgd", "lr": 0.01, "momentum": 0.5})]
    plain = train_group(configs, [0, 1], splits=digits)
    monkeypatch.setattr(train_module, "why_not_captured", lambda group, device_type=None: None)
    monkeypatch.setattr(train_module, "side_stream_step", lambda step, *args: step(*args))
    tried = []
    real_run = StepGraph.run

    def run(self, index, zero_grad):
        tried.append(len(index))
        return real_run(self, index, zero_grad)

    monkeypatch.setattr(StepGraph, "run", run)
    fallen_back = train_group(configs, [0, 1], splits=digits)
    assert tried  # the captured path was attempted after the warm-up steps
    for mine, theirs in zip(fallen_back, plain, strict=True):
        assert [{k: v for k, v in e.items() if k not in TIMING_KEYS} for e in mine.epochs] == [
            {k: v for k, v in e.items() if k not in TIMING_KEYS} for e in theirs.epochs]
        assert mine.final == theirs.final
