"""Package exports loaded on first use (PEP 562), so that commands which only read the store import a
package's pure modules without pulling in torch through the others
(tests/cli/test_read_only_without_torch.py)."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable


def lazy_exports(package: str, exports: dict[str, str]) -> Callable[[str], object]:
    """The `__getattr__` of `package`: each name of `exports` (name -> module) imported from its module
    when first read, then kept in the package's namespace."""
    namespace = vars(sys.modules[package])

    def __getattr__(name: str) -> object:
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        namespace[name] = value
        return value

    return __getattr__
