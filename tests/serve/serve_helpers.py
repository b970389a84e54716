"""Helpers of the dashboard tests (a module of its own: `from conftest import` is ambiguous when pytest
is given several test folders, each with a conftest)."""

from __future__ import annotations

import os
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from hyperlab_cli import hyperlab_command

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]

# The dashboard's studies are the shipped quickstart shrunk with --set: one factor (the learning rate
# at 0.01), a digits subset, a given width, seeds and epochs.
QUICKSTART = Path(__file__).resolve().parents[2] / "studies" / "quickstart.toml"


def tiny(name: str, *, width: int, seeds: str, epochs: int, subset: int = 240) -> list[str]:
    """The overrides (`--set` values) that make the quickstart a tiny digits study named `name`."""
    return [f'name="{name}"', f'description="Digits MLP of width {width}: the learning rate, seeds {seeds}"',
            f"seeds={seeds}", f"data.subset={subset}", "data.validation=0.25", f"model.hidden=[{width}]",
            f"train.epochs={epochs}",
            'factor=[{name = "learning rate", path = "train.optimizer.lr", levels = [0.01]}]']


# Trained by a real `hyperlab run` while the dashboard is open: 4 trials x 30 epochs, one at a time,
# about ten seconds of training on this 2-core machine, then the report.
LIVE = tiny("live", width=32, seeds="2", epochs=30, subset=400)


def set_options(overrides: list[str]) -> list[str]:
    """`--set A --set B ...` for a `hyperlab` command line."""
    return [arg for option in overrides for arg in ("--set", option)]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def hyperlab_cmd(*args: str) -> list[str]:
    return hyperlab_command(*args)


ENV = {**os.environ, "OMP_NUM_THREADS": "1"}


def server_log(workspace: Path) -> str:
    return (workspace.parent / "serve.log").read_text()[-3000:]


@contextmanager
def serving(workspace: Path, *options: str) -> Iterator[str]:
    """`hyperlab serve --workspace WORKSPACE OPTIONS` on a free loopback port; yields its base URL once
    it answers. Its log is `serve.log` beside the workspace (`server_log`)."""
    port = free_port()
    log = (workspace.parent / "serve.log").open("a")
    command = hyperlab_cmd("serve", "--workspace", str(workspace), "--port", str(port), *options)
    proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, text=True, env=ENV)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                urllib.request.urlopen(url + "/", timeout=5).close()
                break
            except (urllib.error.URLError, ConnectionError):
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"hyperlab serve did not start (rc {proc.poll()}): "
                                       f"{server_log(workspace)}") from None
                time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


def watched_page(browser, height: int) -> tuple[object, list[str]]:
    """A new page and the list its console errors and warnings and uncaught exceptions go into."""
    page = browser.new_page(viewport={"width": 1280, "height": height})
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    return page, problems


def wait_until_registered(workspace: Path, study: str, run: subprocess.Popen) -> None:
    """Until `run` has registered `study` in the workspace (it plans before it trains)."""
    from hyperlab.store import open_readonly

    deadline = time.monotonic() + 120
    while True:
        with open_readonly(workspace) as store:
            if store.study(study) is not None:
                return
        assert run.poll() is None and time.monotonic() < deadline, run.communicate()[1][-2000:]
        time.sleep(0.1)


def screenshot_without_problems(page, problems: list[str], shot: Path, workspace: Path) -> None:
    """Save a full-page screenshot (it must hold a drawn page, not a blank one) and check the console
    stayed clean (else show the server's log)."""
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 20_000
    assert problems == [], server_log(workspace)
