"""Damaged checkpoints are discarded with a warning; the trial resumes from the previous good one or
starts over, and ends with exactly the undisturbed numbers: never `failed`, never wrong numbers."""

from __future__ import annotations

import pytest
from campaign import CORRUPTIONS, digits_splits, try_corrupt_checkpoint


@pytest.fixture(scope="module")
def splits():
    return digits_splits()


@pytest.mark.parametrize("how", CORRUPTIONS)
def test_a_damaged_checkpoint_is_discarded_and_the_trial_ends_with_the_right_numbers(how, rng, tmp_path,
                                                                                    splits):
    result = try_corrupt_checkpoint(rng, tmp_path, splits, how)
    assert result.clean, result.detail
