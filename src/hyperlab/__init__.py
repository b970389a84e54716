"""hyperlab: find out, rigorously and fast, how each hyperparameter changes what a network learns."""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
