"""A study page's poll recomputes the study's state only when the study changed (issue 29: every
poll of every open tab rebuilt it, 2.3-2.8 s each during a 30-trial search)."""

from __future__ import annotations

import json
import shutil
import sqlite3

from starlette.requests import Request

from hyperlab.serve import create_app, state


def _poll(app, name: str) -> dict:
    route = next(r for r in app.routes if getattr(r, "path", "") == "/api/study/{name}")
    scope = {"type": "http", "method": "GET", "path": f"/api/study/{name}", "path_params": {"name": name},
             "query_string": b"", "headers": []}
    return json.loads(route.endpoint(Request(scope)).body)


def test_polls_reuse_the_state_until_the_study_changes(workspace, tmp_path, monkeypatch):
    copy = tmp_path / "ws"
    shutil.copytree(workspace, copy)  # the shared workspace stays untouched (other tests check it)
    computed = []
    original = state.study_state
    monkeypatch.setattr(state, "study_state", lambda *a, **k: computed.append(1) or original(*a, **k))
    app = create_app(copy)
    first = _poll(app, "wide")
    assert _poll(app, "wide") == first and _poll(app, "wide") == first
    assert len(computed) == 1
    with sqlite3.connect(copy / "hyperlab.db") as db:  # a runner's heartbeat: the study changed
        db.execute("UPDATE trials SET heartbeat = 2e9 WHERE key = (SELECT trial_key FROM study_trials "
                   "WHERE study = 'wide' LIMIT 1)")
    changed = _poll(app, "wide")
    assert len(computed) == 2 and changed["updated"] == 2e9


def test_a_pruned_trial_counts_the_epochs_it_trained_as_planned(workspace, tmp_path):
    # issue 29: a finished search read "Epochs recorded: 869 of 1250" (pruned trials at full length)
    copy = tmp_path / "ws"
    shutil.copytree(workspace, copy)
    with sqlite3.connect(copy / "hyperlab.db") as db:
        (key,) = db.execute("SELECT trial_key FROM study_trials WHERE study = 'wide' LIMIT 1").fetchone()
        db.execute("UPDATE trials SET status = 'pruned' WHERE key = ?", (key,))
        db.execute("DELETE FROM epochs WHERE trial_key = ? AND epoch > 1", (key,))
    shown = _poll(create_app(copy), "wide")
    assert shown["epochs_total"] == shown["epochs_planned"] == 4 * (shown["trials_total"] - 1) + 1
