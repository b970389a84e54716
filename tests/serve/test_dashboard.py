"""`hyperlab serve` as a real subprocess over a real workspace, read over real HTTP and in Chromium."""

from __future__ import annotations

import hashlib
import http.client
import json
import sqlite3
import subprocess
import urllib.parse
import urllib.request

import pytest
from serve_helpers import (
    ENV,
    LIVE,
    QUICKSTART,
    free_port,
    hyperlab_cmd,
    screenshot_without_problems,
    set_options,
    wait_until_registered,
    watched_page,
)

from hyperlab.store import Store, open_readonly


def get(url: str) -> tuple[int, bytes]:
    """GET the path exactly as written (no client-side normalisation of `..` or %2F)."""
    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        conn.request("GET", url[len(f"{parts.scheme}://{parts.netloc}"):])
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def test_pages_and_api_read_the_store_without_writing_it(workspace, server):
    db = workspace / "hyperlab.db"
    before = hashlib.sha256(db.read_bytes()).hexdigest()
    status, body = get(server + "/")
    assert status == 200 and b'href="/study/narrow"' in body and b'href="/study/wide"' in body
    status, body = get(server + "/api/study/narrow")
    state = json.loads(body)
    with Store.open(workspace, create=False) as store:
        frames = store.frames("narrow")
    assert state["epochs_total"] == len(frames.epochs) == 2 * 3 * 4
    assert [v["name"] for v in state["variants"]] == ["baseline", "learning rate=0.01"]
    assert state["counts"]["done"] == 6 and not state["running"]
    assert state["report_url"] == "/study/narrow/report/index.html"
    loss = next(c for c in state["charts"] if c["title"] == "loss")
    series = next(s for s in loss["series"] if s["variant"] == "baseline" and s["metric"] == "val_loss")
    stored = frames.epochs[frames.epochs["variant"] == "baseline"]
    assert series["mean"][0][1] == pytest.approx(stored[stored["epoch"] == 1]["val_loss"].mean())
    key = state["trials"][0]["key"]
    detail = json.loads(get(f"{server}/api/study/narrow/trial/{key}")[1])
    assert [r["epoch"] for r in detail["epochs"]] == [1, 2, 3, 4] and detail["status"] == "completed"
    assert get(server + "/api/study/nothing")[0] == 404
    assert get(server + "/study/wide/report/index.html")[0] == 404  # wide was run without its report
    assert hashlib.sha256(db.read_bytes()).hexdigest() == before


def test_read_only_connection_refuses_writes(workspace):
    with open_readonly(workspace) as store, pytest.raises(sqlite3.OperationalError, match="readonly"):
        store._conn.execute("UPDATE studies SET description = 'x'")


@pytest.mark.parametrize("path", [
    "/study/narrow/report/../../hyperlab.db",
    "/study/narrow/report/..%2F..%2Fhyperlab.db",
    "/study/narrow/report/%2e%2e/%2e%2e/hyperlab.db",
    "/study/narrow/report//etc/passwd",
    "/study/narrow/report/../../../../../../etc/passwd",
    "/study/..%2F..%2Fetc/report/passwd",
    "/static/../../store/sqlite.py",
    "/static/..%2F..%2Fstore%2Fsqlite.py",
    "/static/%2e%2e/serve/app.py",
])
def test_path_traversal_gets_404(server, path):
    status, body = get(server + path)
    assert status == 404, body[:200]
    assert b"SQLite format" not in body and b"root:" not in body and b"import" not in body


def test_the_served_report_and_static_files_are_there(server):
    status, body = get(server + "/study/narrow/report/index.html")
    assert status == 200 and b"<html" in body  # the positive control of the traversal test
    assert get(server + "/static/dashboard.js")[0] == 200


def test_live_study_page_updates_without_reload(workspace, server, browser, tmp_path):
    """A real `hyperlab run` trains while the study page is open: the epoch count grows, the curves
    are drawn, the report link appears when it finishes, and the console stays clean."""
    run = subprocess.Popen(hyperlab_cmd("run", str(QUICKSTART), *set_options(LIVE), "--workspace",
                                        str(workspace), "--no-vectorize", "--threads", "1", "--quiet"),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV)
    page, problems = watched_page(browser, 900)
    try:
        wait_until_registered(workspace, "live", run)
        page.goto(server + "/study/live")
        page.evaluate("window.__sameDocument = true")
        count = page.locator("#epoch-count")
        page.wait_for_function("Number(document.querySelector('#epoch-count').textContent) > 0",
                               timeout=120_000)
        first = int(count.text_content())
        page.wait_for_function(f"Number(document.querySelector('#epoch-count').textContent) > {first}",
                               timeout=60_000)
        assert int(count.text_content()) > first
        assert page.locator("#charts svg polyline.mean").count() >= 2  # train and validation, drawn
        assert run.wait(timeout=240) == 0, run.stderr.read()[-2000:]
        page.wait_for_selector("#report-link", timeout=10_000)
        assert int(count.text_content()) == int(page.locator("#epoch-planned").text_content()) == 4 * 30
        assert page.evaluate("window.__sameDocument") is True  # never reloaded
        points = page.locator("#charts svg polyline.mean").first.get_attribute("points")
        assert len(points.split()) == 30
        page.locator("#trials tbody tr").first.click()
        page.wait_for_selector("#trial-epochs tbody tr:nth-child(30)")
        assert "Stop reason" in page.locator("#trial-detail").text_content()
        page.select_option("#status-filter", "completed")
        assert page.locator("#trials tbody tr").count() == 4
        screenshot_without_problems(page, problems, tmp_path / "live.png", workspace)
    finally:
        page.close()
        if run.poll() is None:
            run.terminate()
            run.communicate(timeout=60)


def test_compare_page_pairs_two_finished_studies(server, browser):
    page = browser.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    try:
        page.goto(server + "/compare?a=narrow&b=wide")
        rows = page.locator("#comparison tbody tr.paired")
        assert rows.count() == 2
        text = page.locator("#comparison").text_content()
        assert "exact sign-flip permutation test" in text and "model.hidden: [16] -> [32]" in text
        assert "unpaired" not in text
        assert errors == []
    finally:
        page.close()


def test_compare_cli_prints_the_paired_table(workspace, capsys):
    from hyperlab.cli.app import main

    main(["compare", "narrow", "wide", "--workspace", str(workspace)])
    out = capsys.readouterr().out
    assert "wide - narrow on test accuracy: 2 matched variants (2 paired by seed" in out.replace("\n", " ")


@pytest.mark.parametrize("columns", [200, 80])
def test_compare_cli_fits_the_terminal_without_folding_numbers(workspace, columns):
    """A wide terminal gets the table (config differences listed under it), a narrow one a block per
    variant: no line is wider than the terminal and no cell is cut."""
    proc = subprocess.run(hyperlab_cmd("compare", "narrow", "wide", "--workspace", str(workspace)),
                          capture_output=True, text=True, env={**ENV, "COLUMNS": str(columns)}, timeout=300)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert max(len(line.rstrip()) for line in lines) <= columns and "…" not in proc.stdout
    verdicts = [line for line in lines if "not distinguishable" in line or "differs (Holm" in line]
    assert len(verdicts) == 2  # one per matched variant, each on one line
    assert proc.stdout.count("model.hidden: [16] -> [32]") == 2
    if columns == 200:
        assert "┃ variant" in proc.stdout and "Configs differ in:" in proc.stdout
    else:
        assert "baseline: exact sign-flip permutation test, n = 3" in proc.stdout and "┃" not in proc.stdout


def test_non_loopback_host_prints_a_warning(workspace):
    proc = subprocess.Popen(hyperlab_cmd("serve", "--workspace", str(workspace), "--host", "0.0.0.0",
                                         "--port", str(free_port())),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV)
    try:
        line = proc.stderr.readline()  # printed before the server binds
    finally:
        proc.terminate()
        proc.communicate(timeout=30)
    assert line.startswith("hyperlab: warning: --host 0.0.0.0 makes the dashboard reachable")


def test_missing_workspace_is_a_user_error(tmp_path, capsys):
    from hyperlab.cli.app import main

    with pytest.raises(SystemExit) as exit_:
        main(["serve", "--workspace", str(tmp_path / "none")])
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and "not a hyperlab workspace" in err and "Traceback" not in err


def test_compare_page_compares_studies_of_two_workspaces(compare_server, workspace, other_workspace,
                                                         browser):
    """`--compare-workspace`: `wide` at seeds 3-5 there against `narrow` at seeds 0-2 here shares no
    seed, so every matched variant is unpaired (Welch) and the page says which workspace each is from."""
    page = browser.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    try:
        page.goto(compare_server + "/compare")
        options = page.locator("select[name=b] option").all_text_contents()
        assert f"wide ({other_workspace})" in options and f"narrow ({workspace})" in options
        assert all(o.endswith((f" ({workspace})", f" ({other_workspace})")) for o in options)
        page.select_option("select[name=a]", "0:narrow")
        page.select_option("select[name=b]", "1:wide")
        page.locator("form button").click()
        page.wait_for_selector("#comparison")
        assert page.locator("#comparison tbody tr.unpaired").count() == 2
        assert page.locator("#comparison tbody tr.paired").count() == 0
        text = page.locator("#comparison").text_content()
        assert "Welch t-test" in text and "model.hidden: [16] -> [32]" in text
        assert str(other_workspace) in page.locator("#compare-summary").text_content()
        page.goto(compare_server + "/compare?a=0:wide&b=1:wide")  # the same name in both: no confusion
        assert "nothing (same config)" in page.locator("#comparison").text_content()
        assert errors == []
    finally:
        page.close()


@pytest.mark.parametrize("query", [
    "a=0:narrow&b=2:wide",  # no third workspace
    "a=0:narrow&b=..%2F..%2Fother:wide",
    "a=0:narrow&b=1:..%2F..%2Fhyperlab.db",
    "a=0:narrow&b=%2Fetc%2Fpasswd",
    "a=0:narrow&b=-1:wide",
    "a=0:narrow&b=1:narrow",  # narrow is not in the other workspace
])
def test_compare_urls_reach_only_the_workspaces_given_at_startup(compare_server, query):
    status, body = get(f"{compare_server}/compare?{query}")
    assert status == 404, body[:200]
    assert get(f"{compare_server}/compare?a=0:narrow&b=1:wide")[0] == 200  # the positive control


def test_without_compare_workspace_only_the_served_one_is_offered(server):
    status, body = get(server + "/compare")
    first_select = body.split(b"<select")[1].split(b"</select")[0]
    assert status == 200 and b'value="narrow"' in first_select and b"(" not in first_select  # no paths
    assert get(server + "/compare?a=narrow&b=1:wide")[0] == 404
