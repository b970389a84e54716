"""A search study's panel on the dashboard: the optimization history (each searched trial's objective
and the best so far, pruned and infeasible trials marked) and PED-ANOVA importance with its 95% intervals.

Both come from `hyperlab.analysis.search.analyze_search`, the report's own analysis (compute, then
render: `search_panel` returns plain data, `dashboard.js` draws it). One analysis recomputes
PED-ANOVA on 200 bootstrap resamples (seconds), so `SearchPanels` keeps the last one per study and
recomputes it, in one background thread, only when the number of finished trials changes; a poll
never waits for a refit, it gets the last panel and `computing: true`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from hyperlab.analysis.search import SearchAnalysis, analyze_search
from hyperlab.store import StudyFrames

UNFINISHED = ("pending", "running", "interrupted")  # statuses that change again: not yet in the history


def finished_trials(frames: StudyFrames) -> int:
    """How many of the study's trials (searched and confirmation) have a final status."""
    return int((~frames.trials["status"].isin(UNFINISHED)).sum())


def search_panel(frames: StudyFrames) -> dict:
    """What the search panel draws, from one snapshot of a search study's tables."""
    return panel_of(analyze_search(frames), finished_trials(frames))


def panel_of(a: SearchAnalysis, finished: int) -> dict:
    history = [{"number": t.number, "variant": t.variant, "status": t.status, "value": t.value,
                "best": best, "epochs": t.epochs}
               for t, (_, _, best) in zip(a.trials, a.history, strict=True) if t.status not in UNFINISHED]
    best = a.best
    return {
        "finished": finished, "objective": a.objective, "maximize": a.maximize, "sampler": a.sampler,
        "pruner": a.pruner, "factors": list(a.factors), "counts": a.counts, "history": history,
        "best": None if best is None else {"number": best.number, "variant": best.variant,
                                           "value": best.value, "values": best.values},
        "importance": [{"factor": i.factor, "importance": i.importance, "lo": i.lo, "hi": i.hi}
                       for i in a.importance],
        "importance_note": a.importance_note,
        "verdict": a.verdict if a.confirmation is not None else None,
    }


class SearchPanels:
    """The last search panel of each study, recomputed in the background when trials finish."""

    def __init__(self, compute: Callable[[StudyFrames], dict] = search_panel) -> None:
        self._compute = compute
        self._lock = threading.Lock()
        self._panels: dict[str, dict] = {}  # study -> its last panel
        self._errors: dict[str, tuple[int, str]] = {}  # study -> (finished count, why it failed)
        self._busy: dict[str, threading.Thread] = {}

    def get(self, name: str, frames: StudyFrames) -> dict:
        """The study's last panel (or none yet) with `computing`; starts a recompute when it is stale."""
        finished = finished_trials(frames)
        with self._lock:
            panel = self._panels.get(name)
            failed = self._errors.get(name)
            stale = (panel is None or panel["finished"] != finished) and \
                (failed is None or failed[0] != finished)
            if stale and name not in self._busy:
                worker = threading.Thread(target=self._refresh, args=(name, frames), daemon=True,
                                          name=f"search-panel {name}")
                self._busy[name] = worker
                worker.start()
            computing = name in self._busy
        out = dict(panel) if panel else {"finished": None, "history": [], "importance": []}
        out["computing"] = computing
        out["error"] = failed[1] if failed and not panel else None
        return out

    def wait(self, name: str, timeout: float | None = None) -> None:
        """Block until the study's recompute (if any) has ended; for tests and shutdown."""
        with self._lock:
            worker = self._busy.get(name)
        if worker is not None:
            worker.join(timeout)

    def _refresh(self, name: str, frames: StudyFrames) -> None:
        finished = finished_trials(frames)
        try:
            panel = self._compute(frames)
            with self._lock:
                self._panels[name] = panel
                self._errors.pop(name, None)
        except Exception as exc:  # noqa: BLE001 - shown on the page; the next finished trial retries
            with self._lock:
                self._errors[name] = (finished, f"{type(exc).__name__}: {exc}")
        finally:
            with self._lock:
                del self._busy[name]
