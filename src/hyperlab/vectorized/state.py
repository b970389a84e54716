"""One trial of a stack: its own model (for its names, penalties and final evaluation), its dropout
generator, its share of the stack's time, and the engine's bookkeeping (hyperlab.engine.TrialBook):
history, early stopping, divergence, result, checkpoint document; nothing restated here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import nn

from hyperlab.data.splits import Splits
from hyperlab.engine.book import TrialBook, under
from hyperlab.engine.determinism import derive_seed
from hyperlab.engine.identity import trial_identity
from hyperlab.models._common import PENALTIES_ATTR


class TrialState:
    """What the stack keeps for one trial besides its slice of the stacked weights."""

    def __init__(self, index: int, config: Any, seed: int, model: nn.Module, workdir: Path | None,
                 splits: Splits, data_fingerprint: str | None = None) -> None:
        self.index, self.config, self.seed, self.model, self.workdir = index, config, seed, model, workdir
        train = config.train
        # the engine's own bookkeeping, under the identity the engine's checkpoints carry
        self.book = TrialBook(train, trial_identity(config, seed, data_fingerprint), classification=True,
                              n_train=len(splits.x_train), params=sum(p.numel() for p in model.parameters()),
                              workdir=workdir)
        self.seconds = 0.0  # this trial's share of the stack's wall time (vectorized.train._Group.charge)
        # the engine seeds the global generator with this; only dropout draws from it
        self.dropout = torch.Generator().manual_seed(derive_seed(seed, "global"))
        self.augment_key = train.augment.model_dump_json() + f"/{seed}" if train.augment else None
        self.resumed: tuple[dict[str, torch.Tensor], dict] | None = None  # its checkpoint, until restored

    def resume(self, device: torch.device) -> None:
        """Read this trial's checkpoint (if its workdir holds one of this trial): the book (history,
        early stopping, epoch, best weights), the weights into its model, and the rest kept in
        `resumed` for the stack to restore (optimizer state, generators)."""
        loaded = self.book.restore(device)
        if loaded is None:
            return
        tensors, document = loaded
        self.model.load_state_dict(under(tensors, "model/"))
        self.seconds = self.book.seconds_before
        self.resumed = (tensors, document)

    def penalties(self) -> dict[str, tuple[float, float]]:
        """{parameter name in the model: (l1, l2)} of the penalties its spec declared."""
        terms = getattr(self.model, PENALTIES_ATTR, None) or []
        names = {id(p): name for name, p in self.model.named_parameters()}
        out: dict[str, tuple[float, float]] = {}
        for param, l1, l2 in terms:
            a, b = out.get(names[id(param)], (0.0, 0.0))
            out[names[id(param)]] = (a + l1, b + l2)
        return out
