"""Where the ESPN client points: the wnba_api connection in its usual forms, and file:// samples."""

from __future__ import annotations

import json

import pytest

from fantasy_jobs.espn.client import EspnClient, EspnPayloadError, base_url_from_connection


@pytest.mark.parametrize(
    "value,expected",
    [
        ("https://site.api.espn.com", "https://site.api.espn.com"),
        ("http://127.0.0.1:8123", "http://127.0.0.1:8123"),
        (
            json.dumps({"conn_type": "http", "host": "https://site.api.espn.com/"}),
            "https://site.api.espn.com",
        ),
        (json.dumps({"conn_type": "http", "host": "file:///srv/espn"}), "file:///srv/espn"),
    ],
)
def test_base_url_from_the_connection(monkeypatch, value, expected):
    monkeypatch.setenv("AIRFLOW_CONN_WNBA_API", value)
    assert base_url_from_connection() == expected


def test_file_base_serves_samples_by_path_and_query(tmp_path):
    folder = tmp_path / "apis/site/v2/sports/basketball/wnba"
    (folder / "summary").mkdir(parents=True)
    (folder / "summary" / "event=42.json").write_text('{"id": "42"}')
    (folder / "scoreboard.json").write_text('{"events": []}')
    client = EspnClient(base_url=f"file://{tmp_path}", min_interval=0)
    assert client.get_json("/apis/site/v2/sports/basketball/wnba/summary", {"event": 42})[0] == {"id": "42"}
    assert client.get_json(
        "/apis/site/v2/sports/basketball/wnba/scoreboard", {"dates": "20260101", "limit": 200}
    )[0] == {"events": []}
    with pytest.raises(EspnPayloadError, match="HTTP 404"):
        client.get_json("/apis/site/v2/sports/basketball/wnba/summary", {"event": 43})
