"""League time as the Airflow UI's default zone: the root middleware adds one line to the UI's HTML
shell (before Airflow's own script, so the UI reads it at start) and leaves everything else alone."""

from __future__ import annotations

import json

from starlette.applications import Starlette
from starlette.responses import HTMLResponse, JSONResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from fantasy_jobs.ui_timezone import LeagueTimezoneDefault

SHELL = '<html><head><title>Airflow</title><script type="module" src="x.js"></script></head><body><div id="root"></div></body></html>'


def client() -> TestClient:
    app = Starlette(
        routes=[
            Route("/", lambda request: HTMLResponse(SHELL)),
            Route("/other", lambda request: HTMLResponse("<html><head></head><body>jobs</body></html>")),
            Route("/api", lambda request: JSONResponse({"a": "</head>"})),
        ]
    )
    return TestClient(LeagueTimezoneDefault(app, zone="America/New_York"))


def test_the_ui_shell_stores_league_time_as_the_default_zone_unless_one_was_picked():
    response = client().get("/")
    body = response.text
    assert "localStorage.getItem('timezone')===null" in body
    stored = json.dumps(json.dumps("America/New_York"))  # the UI keeps the zone's JSON
    assert f"localStorage.setItem('timezone',{stored})" in body
    assert body.index("localStorage") < body.index('type="module"')  # first thing in <head>
    assert int(response.headers["content-length"]) == len(response.content)


def test_other_pages_and_the_api_pass_unchanged():
    assert "localStorage" not in client().get("/other").text
    api = client().get("/api")
    assert api.json() == {"a": "</head>"}
