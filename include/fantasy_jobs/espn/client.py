"""One HTTP session for ESPN's public API: timeouts, a polite rate limit, retries with backoff.

429, 5xx, timeouts, connection errors and 200 bodies that are not complete JSON (a cut-off
transfer) are retried with exponential backoff (a Retry-After header wins); other 4xx answers fail
at once. Each call is recorded for `ingest_logs` with status `ok`, `invalid` (a complete payload
that failed validation) or `error` (transport or HTTP). The base URL comes
from the `wnba_api` connection; a `file://` base serves a folder of sample payloads through the
same client (the offline demo).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from urllib.parse import unquote, urlencode

import httpx

from fantasy_jobs import settings
from fantasy_jobs.errors import ConfigError, PermanentJobError

log = logging.getLogger(__name__)

CONN_ID = "wnba_api"
DEFAULT_BASE_URL = "https://site.api.espn.com"
USER_AGENT = "fantasy-jobs/0.1 (WNBA fantasy app scheduled jobs; Apache Airflow)"
SITE = "/apis/site/v2/sports/basketball/wnba"

TEAMS = f"{SITE}/teams"
ROSTER = SITE + "/teams/{team_id}/roster"
SCOREBOARD = f"{SITE}/scoreboard"
SUMMARY = f"{SITE}/summary"
STANDINGS = "/apis/v2/sports/basketball/wnba/standings"


class EspnError(Exception):
    """ESPN could not be reached or kept failing after the retries (a later task retry may help)."""


class EspnPayloadError(PermanentJobError):
    """ESPN answered, but with something we cannot use (a complete payload that failed validation, 4xx)."""


@dataclass
class CallRecord:
    """One endpoint call, for `ingest_logs`."""

    endpoint: str
    started_at: datetime
    finished_at: datetime | None = None
    status: str = "ok"  # ok, invalid (failed validation), error (transport or HTTP)
    rows: int = 0
    error: str | None = None


class FileTransport(httpx.BaseTransport):
    """Serves `<root>/<path>[/<query>].json` for GET requests: ESPN-shaped samples on disk."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        relative = unquote(request.url.path).lstrip("/")
        query = unquote(request.url.query.decode()) if request.url.query else ""
        candidates = [self.root / relative / f"{query}.json", self.root / f"{relative}.json"] if query else []
        candidates.append(self.root / f"{relative}.json")
        for path in candidates:
            if path.is_file():
                return httpx.Response(
                    200, content=path.read_bytes(), headers={"Content-Type": "application/json"}
                )
        return httpx.Response(404, content=b'{"code": 404, "message": "no sample for this request"}')


@dataclass
class EspnClient:
    base_url: str = DEFAULT_BASE_URL
    timeout: float = 20.0
    min_interval: float = 0.25  # seconds between requests: be polite to a free public API
    max_attempts: int = 4
    backoff: float = 1.0  # first retry wait, doubled each time
    max_backoff: float = 30.0
    sleep: Callable[[float], None] = time.sleep
    calls: list[CallRecord] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.base_url = self.base_url.rstrip("/")
        transport = None
        if self.base_url.startswith("file://"):
            transport = FileTransport(Path(self.base_url.removeprefix("file://")))
            self.base_url = "http://sample.invalid"
        self._http = httpx.Client(
            base_url=self.base_url,
            timeout=self.timeout,
            transport=transport,
            headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
            follow_redirects=True,
        )
        self._last_request = 0.0

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> EspnClient:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _wait_turn(self) -> None:
        wait = self._last_request + self.min_interval - time.monotonic()
        if wait > 0:
            self.sleep(wait)
        self._last_request = time.monotonic()

    def _retry_after(self, response: httpx.Response, attempt: int) -> float:
        header = response.headers.get("Retry-After")
        if header:
            try:
                return min(float(header), self.max_backoff)
            except ValueError:
                try:
                    return min(
                        max((parsedate_to_datetime(header) - datetime.now(UTC)).total_seconds(), 0),
                        self.max_backoff,
                    )
                except (TypeError, ValueError):
                    pass
        return min(self.backoff * 2 ** (attempt - 1), self.max_backoff)

    def get_json(self, path: str, params: dict | None = None) -> tuple[dict, CallRecord]:
        """GET `path` and parse JSON, with retries; the call is recorded in `self.calls`."""
        endpoint = path + (f"?{urlencode(params)}" if params else "")
        record = CallRecord(endpoint=endpoint, started_at=datetime.now(UTC))
        self.calls.append(record)
        try:
            payload = self._get(path, params, endpoint)
        except Exception as exc:
            record.status, record.error = "error", str(exc)[:2000]
            raise
        finally:
            record.finished_at = datetime.now(UTC)
        if not isinstance(payload, dict):
            record.status = "invalid"
            record.error = f"{endpoint}: expected a JSON object, got {type(payload).__name__}"
            raise EspnPayloadError(record.error)
        return payload, record

    def _get(self, path: str, params: dict | None, endpoint: str) -> object:
        """The parsed JSON body; a body that is not complete JSON is retried like a 5xx."""
        last_problem = ""
        for attempt in range(1, self.max_attempts + 1):
            self._wait_turn()
            try:
                response = self._http.get(path, params=params)
            except (httpx.TimeoutException, httpx.TransportError) as exc:
                last_problem = f"{type(exc).__name__}: {exc or 'timed out'}"
                wait = min(self.backoff * 2 ** (attempt - 1), self.max_backoff)
            else:
                if response.status_code == 200:
                    try:
                        return json.loads(response.content)
                    except ValueError as exc:
                        last_problem = (
                            f"the body is not complete JSON ({exc}); {len(response.content)} bytes received"
                        )
                        wait = min(self.backoff * 2 ** (attempt - 1), self.max_backoff)
                elif response.status_code != 429 and response.status_code < 500:
                    raise EspnPayloadError(
                        f"{endpoint}: HTTP {response.status_code} {response.reason_phrase}: {response.text[:200]}"
                    )
                else:
                    last_problem = f"HTTP {response.status_code} {response.reason_phrase}"
                    wait = self._retry_after(response, attempt)
            if attempt < self.max_attempts:
                log.warning(
                    "%s: %s; retry %d of %d in %.1f s",
                    endpoint,
                    last_problem,
                    attempt,
                    self.max_attempts - 1,
                    wait,
                )
                self.sleep(wait)
        raise EspnError(f"{endpoint}: {last_problem} after {self.max_attempts} attempts")


def base_url_from_connection() -> str:
    """The API base from the `wnba_api` connection (http or https host, or a file:// folder)."""
    try:
        from airflow.sdk import BaseHook

        conn = BaseHook.get_connection(CONN_ID)
    except Exception:
        log.info("connection %r not configured; using %s", CONN_ID, DEFAULT_BASE_URL)
        return DEFAULT_BASE_URL
    conn_type = (conn.conn_type or "").lower()
    host = conn.host or ""
    if "://" in host:
        return host.rstrip("/")
    if conn_type == "file" or (conn.schema or "").startswith("file"):
        return "file://" + (host or conn.schema or "").removeprefix("file://")
    if not host:
        raise ConfigError(f"connection {CONN_ID!r} has no host; set it to e.g. https://site.api.espn.com")
    scheme = conn_type if conn_type in ("http", "https") else (conn.schema or "https")
    port = f":{conn.port}" if conn.port else ""
    return f"{scheme}://{host}{port}"


def client_from_settings() -> EspnClient:
    return EspnClient(
        base_url=base_url_from_connection(),
        min_interval=float(settings.get("espn_min_interval")),
        timeout=float(settings.get("espn_timeout")),
        max_attempts=settings.get("espn_max_attempts"),
        backoff=float(settings.get("espn_backoff")),
    )
