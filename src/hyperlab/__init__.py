"""hyperlab: find out, rigorously and fast, how each hyperparameter changes what a network learns."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hyperlab._version import __version__

__all__ = ["Study", "__version__", "results"]

if TYPE_CHECKING:
    from hyperlab.api import Study, results


def __getattr__(name: str) -> Any:
    # Lazy: `import hyperlab` stays cheap (no torch) until the Python API is used.
    if name in ("Study", "results"):
        from hyperlab import api

        return getattr(api, name)
    raise AttributeError(f"module 'hyperlab' has no attribute {name!r}")
