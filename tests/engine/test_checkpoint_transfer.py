"""Checkpoints sent between machines as bytes (`--executor ray`): verified before they are written."""

from __future__ import annotations

import pytest
import torch

from hyperlab.engine.checkpoint import (
    PREVIOUS_DIR,
    STATE_FILE,
    CheckpointError,
    checkpoint_files,
    install_checkpoint,
    save_checkpoint,
    verify_checkpoint,
)


def saved(folder, epoch: int):
    save_checkpoint(folder, {"w": torch.full((3,), float(epoch))}, {"epoch": epoch})
    return checkpoint_files(folder)


def test_a_checkpoint_sent_as_bytes_is_installed_exactly_as_it_was_saved(tmp_path):
    first, second = saved(tmp_path / "node", 1), saved(tmp_path / "node", 2)
    driver = tmp_path / "driver"
    assert install_checkpoint(driver, *first) == 1
    assert install_checkpoint(driver, *second) == 2
    tensors, state = verify_checkpoint(driver)
    assert state["epoch"] == 2 and torch.equal(tensors["w"], torch.full((3,), 2.0))
    assert verify_checkpoint(driver / PREVIOUS_DIR)[1]["epoch"] == 1  # rotated as save_checkpoint does
    assert checkpoint_files(driver) == second


def test_damaged_bytes_are_refused_and_nothing_is_written(tmp_path):
    tensors, state = saved(tmp_path / "node", 1)
    flipped = bytearray(tensors)
    flipped[-1] ^= 1
    with pytest.raises(CheckpointError, match="SHA-256"):
        install_checkpoint(tmp_path / "driver", bytes(flipped), state)
    with pytest.raises(CheckpointError, match="not valid JSON"):
        install_checkpoint(tmp_path / "driver", tensors, state[:-5])
    assert not (tmp_path / "driver" / STATE_FILE).exists()


def test_the_newest_checkpoint_that_verifies_is_the_one_sent(tmp_path):
    saved(tmp_path, 1)
    saved(tmp_path, 2)
    (tmp_path / STATE_FILE).write_bytes(b"{torn")  # the current pair is damaged: the previous one is sent
    files = checkpoint_files(tmp_path)
    assert files is not None and install_checkpoint(tmp_path / "copy", *files) == 1
    assert checkpoint_files(tmp_path / "empty") is None
