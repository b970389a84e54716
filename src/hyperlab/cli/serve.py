"""`hyperlab serve`: a live dashboard over a workspace, read-only, on 127.0.0.1 by default."""

from __future__ import annotations

import ipaddress
import sys
from pathlib import Path

import typer


def command(
    workspace: Path | None = typer.Option(
        None, "--workspace", envvar="HYPERLAB_WORKSPACE", help="Results folder (default: ./hyperlab-runs)."),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on; anything but loopback "
                             "exposes the dashboard (no authentication) to the network."),
    port: int = typer.Option(8080, "--port", min=1, max=65535, help="TCP port."),
    compare_workspace: list[Path] | None = typer.Option(
        None, "--compare-workspace", help="Another results folder whose studies the compare page "
        "offers too (read-only; repeat for more)."),
) -> None:
    """Serve a live dashboard of the workspace's studies (progress, learning curves, trials,
    reports, comparisons); pages update as epochs are stored. Ctrl-C stops it."""
    from hyperlab.serve import create_app
    from hyperlab.store import resolve_workspace

    root = resolve_workspace(workspace)
    others = [Path(w) for w in compare_workspace or ()]
    app = create_app(root, others)  # UserError (exit 2) when a workspace has no database
    if not _is_loopback(host):
        print(f"hyperlab: warning: --host {host} makes the dashboard reachable from other machines; "
              f"it has no authentication and shows everything in {root}", file=sys.stderr, flush=True)
    shown = f"[{host}]" if ":" in host else host
    also = "".join(f", compare with {w.resolve()}" for w in others)
    print(f"hyperlab serve: http://{shown}:{port}/ (workspace {root}{also}, read-only; Ctrl-C stops)",
          flush=True)
    import uvicorn

    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
