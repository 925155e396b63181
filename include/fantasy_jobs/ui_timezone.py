"""League time as the Airflow UI's default time zone.

Airflow 3's UI shows times in the zone the user picked (its `timezone` key in the browser's
localStorage) and, until one is picked, in the browser's own zone: UTC on a server or in a
container, beside a Jobs page in league time. This ASGI middleware (registered by the
`fantasy_admin` plugin as a root middleware) adds one line to the UI's HTML shell that stores the
league time zone as that choice when the user has made none; a zone the user picks in the UI's
settings stays theirs.
"""

from __future__ import annotations

import json
import re
from typing import Any

HEAD = re.compile(rb"<head(?:\s[^>]*)?>", re.IGNORECASE)
SPA_MARK = b'<div id="root"'  # Airflow's single-page app shell, not other HTML (our Jobs page, Swagger)


def default_zone_script(zone: str) -> bytes:
    value = json.dumps(json.dumps(zone))  # localStorage holds the JSON of the zone name
    return (
        "<script>try{if(localStorage.getItem('timezone')===null)"
        f"localStorage.setItem('timezone',{value})}}catch(e){{}}</script>"
    ).encode()


class LeagueTimezoneDefault:
    """Adds `default_zone_script` at the start of the UI's HTML shell's `<head>`; everything else passes."""

    def __init__(self, app: Any, zone: str | None = None) -> None:
        self.app = app
        if zone is None:
            from fantasy_jobs.settings import league_timezone

            zone = str(league_timezone())
        self.script = default_zone_script(zone)

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET":
            await self.app(scope, receive, send)
            return
        held: dict[str, Any] = {}
        chunks: list[bytes] = []

        async def rewrite(message) -> None:
            if message["type"] == "http.response.start":
                present = dict(message.get("headers") or [])
                if (
                    present.get(b"content-type", b"").startswith(b"text/html")
                    and b"content-encoding" not in present
                ):
                    held["start"] = message  # the body decides: sent with it
                    return
                await send(message)
                return
            if message["type"] != "http.response.body" or "start" not in held:
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body"):
                return
            body = b"".join(chunks)
            head = HEAD.search(body) if SPA_MARK in body else None
            if head is not None:  # first in <head>: before the UI's own script reads the zone
                body = body[: head.end()] + self.script + body[head.end() :]
            start = held.pop("start")
            headers = [(k, v) for k, v in start.get("headers") or [] if k.lower() != b"content-length"]
            headers.append((b"content-length", str(len(body)).encode()))
            await send({**start, "headers": headers})
            await send({"type": "http.response.body", "body": body, "more_body": False})

        await self.app(scope, receive, rewrite)
