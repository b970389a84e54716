"""hyperlab: find out, rigorously and fast, how each hyperparameter changes what a network learns."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hyperlab._version import __version__

__all__ = ["Study", "__version__"]

if TYPE_CHECKING:
    from hyperlab.api import Study


def __getattr__(name: str) -> Any:
    # Lazy: `import hyperlab` stays cheap (no torch) until the Python API is used.
    if name == "Study":
        from hyperlab.api import Study

        return Study
    raise AttributeError(f"module 'hyperlab' has no attribute {name!r}")
