"""The dashboard's ASGI app (Starlette): HTML pages, a JSON API the pages poll, the study reports.

Every request opens the workspace's database read-only (`hyperlab.store.open_readonly`), reads one
snapshot and closes it, so the dashboard never blocks or writes what runners write. Live updates are
polling: a study page asks `/api/study/NAME` once a second (see `static/dashboard.js`); a search
study's answer adds its optimization history and importance (`hyperlab.serve.search`).

Files are only served from two places: the package's `static/` folder (Starlette's StaticFiles, which
refuses paths that leave it) and `<workspace>/reports/<study>/`, resolved and checked here. Anything
else, including `..` tricks, is a 404. The compare page reads other workspaces only when they were
given at startup (`--compare-workspace`), and its URLs name them by number, never by path.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from urllib.parse import quote

import jinja2
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from hyperlab._version import __version__
from hyperlab.analysis.study import is_search
from hyperlab.errors import UserError
from hyperlab.serve import state
from hyperlab.serve.search import SearchPanels
from hyperlab.store import open_readonly

HERE = Path(__file__).resolve().parent
POLL_MS = 1000  # how often an open study page asks for news; an epoch shows within ~1 s of its commit


def create_app(workspace: Path, compare_workspaces: Sequence[Path] = ()) -> Starlette:
    """The dashboard over `workspace` (which must hold a hyperlab.db); the compare page also offers
    the studies of `compare_workspaces` (read-only too)."""
    workspace = Path(workspace).resolve()
    workspaces = list(dict.fromkeys([workspace, *(Path(w).resolve() for w in compare_workspaces)]))
    for root in workspaces:
        open_readonly(root).close()  # fail now (UserError) rather than on the first request
    panels = SearchPanels()  # search studies' history and importance, refitted only as trials finish
    snapshots: dict[str, tuple] = {}  # study -> (version, frames, its page state): reused until it changes
    templates = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True,
        undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)

    def page(template: str, **context: object) -> HTMLResponse:
        html = templates.get_template(template).render(
            version=__version__, workspace=str(workspace), poll_ms=POLL_MS, quote=quote, **context)
        return HTMLResponse(html)

    def known(store, name: str) -> None:
        if store.study(name) is None:
            raise HTTPException(404, f"no study named {name!r}")

    def index(request: Request) -> Response:
        with open_readonly(workspace) as store:
            studies = state.studies_overview(store)
        return page("index.html.j2", studies=studies)

    def api_studies(request: Request) -> Response:
        with open_readonly(workspace) as store:
            return JSONResponse(state.json_safe(state.studies_overview(store)))

    def study_page(request: Request) -> Response:
        name = request.path_params["name"]
        with open_readonly(workspace) as store:
            known(store, name)
        return page("study.html.j2", name=name)

    def api_study(request: Request) -> Response:
        name = request.path_params["name"]
        with open_readonly(workspace) as store:
            known(store, name)
            version = state.study_version(store, name)  # one short query
            cached = snapshots.get(name)
            if cached is None or cached[0] != version:
                # computed once per change of the study, however many pages poll it
                frames = store.frames(name)
                cached = (version, frames, state.json_safe(state.study_state(store, name, frames)))
                snapshots[name] = cached
        _, frames, shown = cached
        if is_search(shown["design"]):  # the panel changes when its background refit ends
            shown = {**shown, "search": state.json_safe(panels.get(name, frames))}
        return JSONResponse(shown)

    def api_trial(request: Request) -> Response:
        name, key = request.path_params["name"], request.path_params["key"]
        with open_readonly(workspace) as store:
            detail = state.trial_detail(store, name, key)
        if detail is None:
            raise HTTPException(404, "no such trial in this study")
        return JSONResponse(detail)

    def report_file(request: Request) -> Response:
        name, rel = request.path_params["name"], request.path_params["path"]
        with open_readonly(workspace) as store:
            known(store, name)
        folder = (workspace / "reports" / name).resolve()
        target = (folder / rel).resolve()
        if not target.is_relative_to(folder) or not target.is_file() or not folder.is_relative_to(workspace):
            raise HTTPException(404, "no such file in the study's report")
        return FileResponse(target)

    def side(value: str) -> tuple[int, str]:
        """A compare page's `a`/`b`: `NAME` (the served workspace) or `INDEX:NAME`, INDEX counting the
        workspaces given at startup (0 = --workspace); never a path, so no URL reaches another folder."""
        index, sep, name = value.partition(":")
        if not sep:
            return 0, value
        if not (index.isdigit() and int(index) < len(workspaces)):
            raise HTTPException(404, "no such workspace")
        return int(index), name

    def compare_page(request: Request) -> Response:
        a, b = request.query_params.get("a", ""), request.query_params.get("b", "")
        metric = request.query_params.get("metric") or None
        names: list[list[str]] = []
        for root in workspaces:
            with open_readonly(root) as store:
                names.append(store.study_names())
        comparison, error, frames = None, None, []
        if a and b:
            for index, name in (side(a), side(b)):
                if name not in names[index]:
                    raise HTTPException(404, "no such study")
                with open_readonly(workspaces[index]) as store:
                    frames.append(store.frames(name))
            try:
                from hyperlab.analysis.compare import compare_studies

                comparison = compare_studies(frames[0], frames[1], metric)
            except UserError as exc:
                error = str(exc)
        from hyperlab.report.compare import comparison_rows

        many = len(workspaces) > 1  # then every study is named with its workspace
        choices = [(f"{i}:{n}" if many else n, f"{n} ({root})" if many else n)
                   for i, root in enumerate(workspaces) for n in names[i]]
        chosen = {v: (f"{v} ({workspaces[side(v)[0]]})" if many else v) if v else "" for v in (a, b)}
        return page("compare.html.j2", choices=choices, a=a, b=b, error=error, comparison=comparison,
                    label_a=chosen[a] if a else "", label_b=chosen[b] if b else "",
                    rows=comparison_rows(comparison) if comparison else [])

    routes = [
        Route("/", index),
        Route("/compare", compare_page),
        Route("/study/{name}", study_page),
        Route("/study/{name}/report/{path:path}", report_file),
        Route("/api/studies", api_studies),
        Route("/api/study/{name}", api_study),
        Route("/api/study/{name}/trial/{key}", api_trial),
        Mount("/static", app=StaticFiles(directory=HERE / "static"), name="static"),
    ]
    # gzip: the script and a study's JSON shrink ~3x (page weight: docs/serve.md)
    return Starlette(routes=routes, middleware=[Middleware(GZipMiddleware, minimum_size=1000)])
