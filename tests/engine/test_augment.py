"""Augmentation: per-example random parameters, reproducible from the seed, whole-batch ops."""

from __future__ import annotations

import pytest
import torch
from engine_helpers import metrics_only, mlp, train_config

from hyperlab.engine import Augment, Augmenter, fit


def ramp_batch(n: int = 64, size: int = 8) -> torch.Tensor:
    """n copies of one image whose pixel values increase left to right (so a flip is visible)."""
    row = torch.arange(size, dtype=torch.float32) + 1
    return row.expand(n, 3, size, size).clone()


def test_flips_differ_between_examples_of_a_batch_and_repeat_for_the_same_seed():
    batch = ramp_batch()
    flipped = Augmenter(Augment(hflip=True), seed=7)(batch)
    was_flipped = (flipped == batch.flip(3)).flatten(1).all(1)
    kept = (flipped == batch).flatten(1).all(1)
    assert (was_flipped ^ kept).all()  # every image is either flipped or untouched
    assert 0 < int(was_flipped.sum()) < len(batch)  # two examples of one batch drew differently
    again = Augmenter(Augment(hflip=True), seed=7)(batch)
    assert torch.equal(again, flipped)
    other = Augmenter(Augment(hflip=True), seed=8)(batch)
    assert not torch.equal(other, flipped)


def test_crop_with_padding_shifts_each_image_by_its_own_offset_and_fills_with_zeros():
    batch = ramp_batch(n=32)
    cropped = Augmenter(Augment(crop_padding=2), seed=0)(batch)
    assert cropped.shape == batch.shape
    # Each crop is the padded image shifted by (dy, dx) in [-2, 2]; find it and check it exactly.
    padded = torch.nn.functional.pad(batch, (2, 2, 2, 2))
    shifts = set()
    for i in range(len(batch)):
        matches = [(dy, dx) for dy in range(5) for dx in range(5)
                   if torch.equal(cropped[i], padded[i, :, dy:dy + 8, dx:dx + 8])]
        assert matches, f"example {i} is not a crop of its padded image"
        shifts.add(matches[0])
    assert len(shifts) > 1


def test_rotation_translation_and_cutout_keep_shape_and_are_reproducible():
    config = Augment(rotate=30, translate=0.1, cutout=3)
    batch = torch.rand(16, 3, 8, 10, generator=torch.Generator().manual_seed(0))
    out = Augmenter(config, seed=1)(batch)
    assert out.shape == batch.shape and torch.isfinite(out).all()
    assert torch.equal(out, Augmenter(config, seed=1)(batch))
    assert not torch.allclose(out[0], batch[0])
    zeros = (out == 0).flatten(1).sum(1)
    assert (zeros >= 1).all()  # each example lost a (possibly clipped) cutout square


def test_cutout_zeroes_a_square_of_the_given_side():
    batch = torch.ones(200, 1, 16, 16)
    out = Augmenter(Augment(cutout=4), seed=3)(batch)
    zeros = (out == 0).flatten(1).sum(1)
    assert zeros.max() == 16  # a full 4x4 square when it lies inside the image
    assert (zeros <= 16).all() and (zeros >= 4).all()  # clipped at a corner: at least 2x2


def test_no_op_augmentation_leaves_the_batch_unchanged():
    batch = ramp_batch()
    assert torch.equal(Augmenter(Augment(), seed=0)(batch), batch)


def test_augmented_training_is_reproducible_and_differs_from_plain(digit_images):
    cfg = train_config(epochs=2, augment={"hflip": True, "crop_padding": 1})
    first = fit(mlp(), digit_images, cfg, seed=0)
    second = fit(mlp(), digit_images, cfg, seed=0)
    plain = fit(mlp(), digit_images, train_config(epochs=2), seed=0)
    assert first.status == "completed"
    assert metrics_only(first.epochs) == metrics_only(second.epochs)
    assert first.epochs[-1]["train_loss"] != plain.epochs[-1]["train_loss"]


def test_augmenting_non_image_inputs_is_a_failed_trial(digits):
    result = fit(mlp(), digits, train_config(augment={"hflip": True}), seed=0)
    assert result.status == "failed" and "needs images" in result.error


@pytest.mark.parametrize("n", [1, 5])
def test_small_batches_work(n):
    out = Augmenter(Augment(hflip=True, crop_padding=1, rotate=10, cutout=2), seed=0)(ramp_batch(n))
    assert out.shape == (n, 3, 8, 8)
