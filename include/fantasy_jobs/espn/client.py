"""One HTTP session for ESPN's public API: a deadline, a size limit, a polite rate limit, retries.

Each attempt must deliver its whole answer (connect, status line, headers, body) within `timeout`
seconds (`espn_timeout`) and its decoded body may not pass `max_body_mb` (`espn_max_body_mb`): a
server that drips bytes or streams without end is cut off, so a call neither hangs nor fills the
memory. 429, 5xx, transport errors (timeouts, connection errors, a passed deadline or size limit)
and 200 bodies that are not complete JSON (a cut-off transfer) are retried with exponential
backoff (a Retry-After header wins); other 4xx answers fail at once. Each call is recorded for
`ingest_logs` with status `ok`, `invalid` (a complete payload that failed validation) or `error`
(transport or HTTP). The base URL comes from the `wnba_api` connection; a `file://` base serves a
folder of sample payloads through the same client (the offline demo).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import zlib
from collections.abc import AsyncGenerator, Callable, Coroutine
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any, TypeVar, cast
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

MB = 1024 * 1024
ERROR_BODY_BYTES = 64 * 1024  # of a non-200 answer: enough for the error message
MAX_REDIRECTS = 20  # httpx's default

T = TypeVar("T")


class EspnError(Exception):
    """ESPN could not be reached or kept failing after the retries (a later task retry may help)."""


class EspnPayloadError(PermanentJobError):
    """ESPN answered, but with something we cannot use (a complete payload that failed validation, 4xx)."""


class _Unfinished(Exception):
    """An attempt cut short by the client itself (deadline, size limit): a transport error, retried."""


@dataclass
class CallRecord:
    """One endpoint call, for `ingest_logs`."""

    endpoint: str
    started_at: datetime
    finished_at: datetime | None = None
    status: str = "ok"  # ok, invalid (failed validation), error (transport or HTTP)
    rows: int = 0  # rows of this call written, set once committed
    error: str | None = None
    read: int = 0  # rows the payload held (a scoreboard's games), before they are written


class FileTransport(httpx.AsyncBaseTransport):
    """Serves `<root>/<path>[/<query>].json` for GET requests: ESPN-shaped samples on disk."""

    def __init__(self, root: Path) -> None:
        self.root = root

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        relative = unquote(request.url.path).lstrip("/")
        query = unquote(request.url.query.decode()) if request.url.query else ""
        candidates = [self.root / relative / f"{query}.json", self.root / f"{relative}.json"] if query else []
        candidates.append(self.root / f"{relative}.json")
        for path in candidates:
            if path.is_file():
                return self._answer(200, path.read_bytes())
        return self._answer(404, b'{"code": 404, "message": "no sample for this request"}')

    @staticmethod
    def _answer(status: int, body: bytes) -> httpx.Response:
        """An unread stream, like a network answer (`content=` would be read already)."""
        headers = {"Content-Type": "application/json", "Content-Length": str(len(body))}
        return httpx.Response(status, headers=headers, stream=httpx.ByteStream(body))


@dataclass
class _Progress:
    """How far one attempt got, to say where a passed deadline caught it."""

    connected: bool = False
    body_started: bool = False
    received: int = 0
    declared: int | None = None

    async def trace(self, event: str, info: dict) -> None:
        """httpcore's `trace` extension: any HTTP-level event means the connection is up."""
        if event.startswith(("http11.", "http2.")):
            self.connected = True

    def where(self) -> tuple[str, str]:
        """(kind, words) of the phase the deadline caught, in httpx's names for the kind."""
        if self.body_started:
            of = f" of {self.declared}" if self.declared is not None else ""
            return "ReadTimeout", f"the body was still arriving ({self.received}{of} bytes so far)"
        if self.connected:
            return "ReadTimeout", "the status line and headers were still arriving"
        return "ConnectTimeout", "still connecting"


@dataclass
class EspnClient:
    """Sync API for the jobs; each attempt runs on a private event loop so one deadline can cancel
    any read (connect, headers, body), which httpx's sync per-read timeouts cannot."""

    base_url: str = DEFAULT_BASE_URL
    timeout: float = 20.0  # seconds for a whole attempt: connect, headers and body
    min_interval: float = 0.25  # seconds between requests: be polite to a free public API
    max_attempts: int = 4
    backoff: float = 1.0  # first retry wait, doubled each time
    max_backoff: float = 30.0
    max_body_mb: float = 8.0  # decoded body; real ESPN payloads are under 1 MB
    sleep: Callable[[float], None] = time.sleep
    calls: list[CallRecord] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.base_url = self.base_url.rstrip("/")
        transport = None
        if self.base_url.startswith("file://"):
            transport = FileTransport(Path(self.base_url.removeprefix("file://")))
            self.base_url = "http://sample.invalid"
        self._loop = asyncio.new_event_loop()
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            timeout=self.timeout,  # per read; the deadline of `_attempt` bounds the whole
            transport=transport,
            # gzip only: `_read` inflates it in bounded steps (a small bomb cannot blow up memory)
            headers={"User-Agent": USER_AGENT, "Accept": "application/json", "Accept-Encoding": "gzip"},
            follow_redirects=False,  # `_fetch` follows them: httpx would read redirect bodies unbounded
        )
        self._last_request = 0.0

    @property
    def max_body(self) -> int:
        return int(self.max_body_mb * MB)

    def close(self) -> None:
        if self._loop.is_closed():
            return
        try:
            self._loop.run_until_complete(self._http.aclose())
            self._loop.run_until_complete(self._loop.shutdown_asyncgens())
        finally:
            self._loop.close()

    def __enter__(self) -> EspnClient:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run `coro` on the private loop; interrupted (a signal), the task is cancelled, not left pending."""
        task = self._loop.create_task(coro)
        try:
            return self._loop.run_until_complete(task)
        except BaseException:
            if not task.done():
                task.cancel()
                with contextlib.suppress(Exception, asyncio.CancelledError):
                    self._loop.run_until_complete(task)
            raise

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
                response, body = self._run(self._attempt(path, params))
            except _Unfinished as exc:
                last_problem = str(exc)
                wait = min(self.backoff * 2 ** (attempt - 1), self.max_backoff)
            except httpx.TransportError as exc:
                last_problem = f"{type(exc).__name__}: {exc or 'timed out'}"
                wait = min(self.backoff * 2 ** (attempt - 1), self.max_backoff)
            else:
                if response.status_code == 200:
                    try:
                        return json.loads(body)
                    except ValueError as exc:
                        last_problem = f"the body is not complete JSON ({exc}); {len(body)} bytes received"
                        wait = min(self.backoff * 2 ** (attempt - 1), self.max_backoff)
                elif response.status_code != 429 and response.status_code < 500:
                    text = body.decode("utf-8", "replace")
                    raise EspnPayloadError(
                        f"{endpoint}: HTTP {response.status_code} {response.reason_phrase}: {text[:200]}"
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

    async def _attempt(self, path: str, params: dict | None) -> tuple[httpx.Response, bytes]:
        """One request and its body within `timeout` seconds in all (the deadline cancels any read)."""
        progress = _Progress()
        try:
            async with asyncio.timeout(self.timeout) as deadline:
                return await self._fetch(path, params, progress)
        except (TimeoutError, httpx.TransportError):
            if not deadline.expired():
                raise
            kind, where = progress.where()
            raise _Unfinished(
                f"{kind}: no complete answer within {self.timeout:g} s (espn_timeout): {where}"
            ) from None

    async def _fetch(
        self, path: str, params: dict | None, progress: _Progress
    ) -> tuple[httpx.Response, bytes]:
        """The final answer (redirects followed here, their bodies unread) and its body, bounded."""
        request = self._http.build_request("GET", path, params=params, extensions={"trace": progress.trace})
        for _ in range(MAX_REDIRECTS + 1):
            response = await self._http.send(request, stream=True)
            try:
                if response.next_request is None:
                    progress.body_started = True
                    if response.status_code == 200:
                        return response, await self._read(response, progress)
                    return response, await self._read(response, progress, truncate=ERROR_BODY_BYTES)
                request = response.next_request
            finally:
                await response.aclose()  # an unread rest closes the connection instead of reading it
        return response, b""  # too many redirects: the last 3xx is the answer (a 4xx-like failure)

    async def _read(self, response: httpx.Response, progress: _Progress, truncate: int = 0) -> bytes:
        """The decoded body, at most `max_body` bytes (more is an `_Unfinished`), or its first
        `truncate` bytes; gzip is inflated in bounded steps so memory stays flat."""
        limit = min(truncate, self.max_body) if truncate else self.max_body
        try:
            progress.declared = int(response.headers["Content-Length"])
        except (KeyError, ValueError):
            progress.declared = None
        if not truncate and progress.declared is not None and progress.declared > limit:
            raise _Unfinished(
                f"the answer declares a {progress.declared}-byte body (Content-Length), more than the "
                f"{self.max_body_mb:g} MB limit (espn_max_body_mb); not read"
            )
        encoding = response.headers.get("Content-Encoding", "identity").strip().lower()
        if encoding in ("gzip", "x-gzip"):
            inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif encoding in ("", "identity"):
            inflater = None
        else:
            raise _Unfinished(f"the answer is encoded {encoding!r}, which the client did not ask for")
        body = bytearray()
        # httpx types aiter_raw() as an AsyncIterator; it is an async generator, closed now, not by the GC
        chunks = cast("AsyncGenerator[bytes, None]", response.aiter_raw())
        async with contextlib.aclosing(chunks) as raws:
            async for raw in raws:
                progress.received += len(raw)
                data = raw
                while data:
                    if inflater is None:
                        piece, data = data, b""
                    else:  # never more than one byte past the limit out of one input chunk
                        piece = inflater.decompress(data, limit + 1 - len(body))
                        data = inflater.unconsumed_tail
                    body += piece
                    if len(body) > limit:
                        if truncate:
                            return bytes(body[:limit])
                        raise _Unfinished(
                            f"the body passed the {self.max_body_mb:g} MB limit (espn_max_body_mb) after "
                            f"{len(body)} bytes; the rest was not read"
                        )
        return bytes(body)


def base_url_from_connection() -> str:
    """The API base from the `wnba_api` connection (http or https host, or a file:// folder)."""
    try:
        from airflow.sdk import BaseHook

        conn = BaseHook.get_connection(CONN_ID)
    except Exception:
        log.info("connection %r not configured; using %s", CONN_ID, DEFAULT_BASE_URL)
        return DEFAULT_BASE_URL
    return base_url_of(conn)


def base_url_of(conn) -> str:
    """The API base an Airflow connection names (http or https host, or a file:// folder)."""
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
        max_body_mb=settings.get("espn_max_body_mb"),
    )
