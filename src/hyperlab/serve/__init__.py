"""`hyperlab serve`: a live dashboard over a workspace (read-only), and study-to-study comparison.

    app = create_app(Path("hyperlab-runs"))      # a Starlette app; `hyperlab serve` runs it with uvicorn

Starlette + uvicorn: a small, well-kept ASGI stack (no ORM, no forms, no auth we would not use) whose
routing and static-file serving (with its own path checks) we would otherwise write by hand; uvicorn
is the reference ASGI server and needs no configuration for one local process.
"""

from __future__ import annotations

from hyperlab.serve.app import create_app

__all__ = ["create_app"]
