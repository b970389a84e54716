"""A search study on the dashboard: a real `hyperlab run` of the shipped digits search (shrunk with
--set) while `hyperlab serve` watches; the history and importance are the report's analysis."""

from __future__ import annotations

import dataclasses
import json
import signal
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from serve_helpers import (
    ENV,
    QUICKSTART,
    hyperlab_cmd,
    screenshot_without_problems,
    set_options,
    wait_until_registered,
    watched_page,
)

from hyperlab.analysis.search import analyze_search
from hyperlab.serve.search import SearchPanels, finished_trials, search_panel
from hyperlab.store import open_readonly

SEARCH = QUICKSTART.parent / "digits-search.toml"
NAME = "digits-search"
TRIALS = 10  # searched configurations: enough that the history visibly grows while the page is open
SHRINK = set_options([f"search.trials={TRIALS}", "train.epochs=4", "data.subset=400", "search.confirm.top=1",
                      "search.confirm.seeds=2"])


class SearchRuns:
    """The search, first stopped with Ctrl-C once some trials are stored (so the page can open on a
    partial search however fast this machine trains), then resumed by `resume()`: the history must
    grow on the open page while the second run finishes it."""

    def __init__(self, workspace: Path) -> None:
        self.workspace = workspace
        self.run = self._start()
        self._stop_after_first_finished()
        self.resumed = False

    def _start(self) -> subprocess.Popen:
        return subprocess.Popen(hyperlab_cmd("run", str(SEARCH), "--workspace", str(self.workspace), *SHRINK,
                                             "--threads", "1", "--quiet"),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV)

    def _stop_after_first_finished(self) -> None:
        wait_until_registered(self.workspace, NAME, self.run)
        deadline = time.monotonic() + 240
        while self.run.poll() is None:
            with open_readonly(self.workspace) as store:
                if finished_trials(store.frames(NAME)) > 0:
                    break
            assert time.monotonic() < deadline, "no searched trial finished"
            time.sleep(0.05)
        self.run.send_signal(signal.SIGINT)
        _, err = self.run.communicate(timeout=120)
        assert self.run.returncode in (0, 130), err[-2000:]

    def resume(self) -> subprocess.Popen:
        if not self.resumed:
            self.run, self.resumed = self._start(), True
        return self.run


@pytest.fixture(scope="module")
def search_run(workspace) -> Iterator[SearchRuns]:
    """The search, stopped part way; the browser test resumes it, the other tests wait for its end."""
    runs = SearchRuns(workspace)
    try:
        yield runs
    finally:
        if runs.run.poll() is None:
            runs.run.terminate()
        runs.run.communicate(timeout=60)


@pytest.fixture(scope="module")
def finished_search(workspace, search_run) -> Path:
    run = search_run.resume()
    assert run.wait(timeout=300) == 0, run.stderr.read()[-2000:]
    return workspace


def _api(server: str) -> dict:
    with urllib.request.urlopen(f"{server}/api/study/{NAME}", timeout=30) as response:
        return json.loads(response.read())


def test_search_page_grows_its_history_and_shows_importance(workspace, server, browser, search_run,
                                                           tmp_path):
    page, problems = watched_page(browser, 1000)
    try:
        page.goto(f"{server}/study/{NAME}")
        page.evaluate("window.__sameDocument = true")
        marks = "#history-chart .trial"
        page.wait_for_function(f"document.querySelectorAll('{marks}').length > 0", timeout=120_000)
        first = page.locator(marks).count()
        assert first < TRIALS, "the first run was stopped only after the whole search"
        run = search_run.resume()
        page.wait_for_function(f"document.querySelectorAll('{marks}').length > {first}", timeout=120_000)
        page.wait_for_selector("#importance-chart rect.bar-imp", timeout=120_000)
        assert run.wait(timeout=300) == 0, run.stderr.read()[-2000:]
        page.wait_for_function(f"document.querySelectorAll('{marks}').length === {TRIALS}", timeout=60_000)
        page.wait_for_function("!document.querySelector('#search-summary').textContent.includes('updating')",
                               timeout=60_000)
        assert page.evaluate("window.__sameDocument") is True  # never reloaded
        assert page.locator("#importance-chart rect.bar-imp").count() == 4  # one bar per factor
        assert page.locator("#history-chart polyline.best").count() == 1
        assert "best so far: trial" in page.locator("#search-summary").text_content()
        assert page.locator("#search-verdict").text_content().startswith("Confirmation: ")
        screenshot_without_problems(page, problems, tmp_path / "search.png", workspace)
    finally:
        page.close()


def test_the_panel_is_the_reports_analysis(finished_search, server):
    with open_readonly(finished_search) as store:
        frames = store.frames(NAME)
    analysis = analyze_search(frames)
    panel = search_panel(frames)
    assert panel["finished"] == finished_trials(frames) == len(frames.trials)
    assert [t["number"] for t in panel["history"]] == list(range(1, TRIALS + 1))
    assert [(t["value"], t["best"]) for t in panel["history"]] == [(v, b) for _, v, b in analysis.history]
    bests = [t["best"] for t in panel["history"] if t["best"] is not None]
    assert bests == sorted(bests)  # val_accuracy is maximised: the best so far never falls
    unvalued = [t for t in panel["history"] if t["value"] is None]
    assert all(t["status"] in ("pruned", "infeasible", "failed", "diverged") for t in unvalued)
    assert [i["factor"] for i in panel["importance"]] == [i.factor for i in analysis.importance]
    assert all(i["lo"] <= i["importance"] <= i["hi"] for i in panel["importance"])
    shown = _api(server)
    counts = shown["counts"]  # every finished trial is in one group: pruned ones too
    assert counts["running"] == counts["pending"] == 0 and sum(counts.values()) == shown["trials_total"]
    served = shown["search"]
    deadline = time.monotonic() + 120
    while served["computing"] or served["finished"] != panel["finished"]:
        assert time.monotonic() < deadline, served
        time.sleep(0.5)
        served = _api(server)["search"]
    same = json.loads(json.dumps(panel))  # what JSON makes of it (tuples become lists)
    assert served["importance"] == same["importance"]  # fANOVA is seeded: the same fit
    assert served["history"] == same["history"]


def test_panels_refit_only_when_the_finished_count_changes(finished_search):
    with open_readonly(finished_search) as store:
        frames = store.frames(NAME)
    fits: list[int] = []

    def counted(f):
        fits.append(finished_trials(f))
        return search_panel(f)

    panels = SearchPanels(counted)
    first = panels.get(NAME, frames)
    assert first["computing"] and first["history"] == []  # a poll never waits for the fit
    panels.wait(NAME)
    for _ in range(3):
        again = panels.get(NAME, frames)
        assert not again["computing"] and len(again["history"]) == TRIALS
    assert fits == [len(frames.trials)]
    trials = frames.trials.copy()
    trials.loc[trials.index[-1], "status"] = "running"  # as if the last trial had not finished yet
    earlier = dataclasses.replace(frames, trials=trials)
    assert panels.get(NAME, earlier)["computing"]
    panels.wait(NAME)
    assert fits == [len(frames.trials), len(frames.trials) - 1]
