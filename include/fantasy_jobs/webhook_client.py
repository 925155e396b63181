"""A lean HTTP/1.1 client for the app's notification webhook: keep-alive connections on asyncio,
answers read by httptools (the C parser uvicorn is built on).

Why not a general client: measured with py-spy on `process_notifications` (50,000 webhooks against
the bench's receiver on this 2-core machine), aiohttp's per-request work took three quarters of the
job's CPU, about 100 us a POST, and held the job near 4,000 a second; httpx (threads) was slower
still. A protocol that writes the request bytes itself and lets httptools parse the answer costs
about 25 us a POST. It does one thing: POST a small JSON body to one URL, one request at a time per
connection, connections kept alive and reused, one deadline over the whole exchange (connect, send,
answer). On purpose it has no redirects (a webhook that moves is a failed delivery), no automatic
retry (a POST sent again could be a duplicate: retrying is the queue's job, after its backoff) and
no proxy support (the webhook is the app's own endpoint).
"""

from __future__ import annotations

import asyncio
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

import httptools

BODY_LIMIT = 65536  # bytes of an answer kept (the rest is read and dropped)


class WebhookError(Exception):
    """The POST got no answer (refused, reset, timed out, malformed); the message says which."""


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes  # at most BODY_LIMIT bytes


class _Connection(asyncio.Protocol):
    """One keep-alive connection, one exchange at a time: parser callbacks fill the answer."""

    def __init__(self) -> None:
        self.parser = httptools.HttpResponseParser(self)
        self.transport: asyncio.Transport | None = None
        self.answer: asyncio.Future[Answer] | None = None
        self.body = bytearray()
        self.headers_done = False
        self.keep_alive = False
        self.lost = False

    # asyncio.Protocol
    def connection_made(self, transport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(WebhookError(f"malformed answer from the webhook: {exc}"))
            self.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        if self.headers_done:  # an answer without a length ends with its connection
            self._complete()
        else:
            self._fail(
                WebhookError(
                    "the webhook closed the connection before answering" + (f": {exc}" if exc else "")
                )
            )

    # httptools callbacks
    def on_headers_complete(self) -> None:
        self.headers_done = True
        self.keep_alive = self.parser.should_keep_alive()  # read here: llhttp resets it once the message ends

    def on_body(self, body: bytes) -> None:
        room = BODY_LIMIT - len(self.body)
        if room > 0:
            self.body += body[:room]

    def on_message_complete(self) -> None:
        self._complete()

    def _complete(self) -> None:
        if self.answer is not None and not self.answer.done():
            self.answer.set_result(Answer(self.parser.get_status_code(), bytes(self.body)))

    def _fail(self, exc: Exception) -> None:
        if self.answer is not None and not self.answer.done():
            self.answer.set_exception(exc)

    def send(self, request: bytes) -> asyncio.Future[Answer]:
        assert self.transport is not None
        self.answer = asyncio.get_running_loop().create_future()
        self.body = bytearray()
        self.headers_done = False
        self.keep_alive = False
        self.transport.write(request)
        return self.answer

    def reusable(self) -> bool:
        return (
            not self.lost
            and self.transport is not None
            and not self.transport.is_closing()
            and self.keep_alive
        )

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


class WebhookClient:
    """POSTs JSON bodies to one http(s) URL over reused connections; the caller bounds concurrency
    (each POST holds one connection only while it runs, so open connections never exceed the
    caller's in-flight POSTs)."""

    def __init__(self, url: str, timeout: float, user_agent: str) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"webhook URL must be http:// or https:// with a host, got {url!r}")
        self.host = parts.hostname
        self.port = parts.port or (443 if parts.scheme == "https" else 80)
        self.ssl = ssl.create_default_context() if parts.scheme == "https" else None
        self.timeout = timeout
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        host_header = parts.netloc.rpartition("@")[2]  # never send credentials in Host
        self.head = (
            f"POST {target} HTTP/1.1\r\nHost: {host_header}\r\nUser-Agent: {user_agent}\r\n"
            "Content-Type: application/json\r\n"
        ).encode()
        self.idle: list[_Connection] = []

    async def post(self, body: bytes, idempotency_key: str) -> Answer:
        """The webhook's answer to one POST, or WebhookError; never sent twice."""
        request = b"%sIdempotency-Key: %s\r\nContent-Length: %d\r\n\r\n%s" % (
            self.head,
            idempotency_key.encode(),
            len(body),
            body,
        )
        connection: _Connection | None = None
        answered = False
        try:
            async with asyncio.timeout(self.timeout):
                connection = await self._connection()
                answer = await connection.send(request)
            answered = True
            return answer
        except TimeoutError:
            raise WebhookError(f"TimeoutError: no answer within {self.timeout:g} s") from None
        except OSError as exc:  # refused, reset, unreachable, TLS (ssl.SSLError is an OSError)
            raise WebhookError(f"{type(exc).__name__}: {exc}") from None
        finally:
            if connection is not None:
                if answered and connection.reusable():
                    self.idle.append(connection)
                else:
                    connection.close()  # its state is unknown: never reused

    async def _connection(self) -> _Connection:
        while self.idle:
            connection = self.idle.pop()
            if connection.reusable():
                return connection
            connection.close()
        _, connection = await asyncio.get_running_loop().create_connection(
            _Connection, self.host, self.port, ssl=self.ssl, server_hostname=self.host if self.ssl else None
        )
        return connection

    def close(self) -> None:
        for connection in self.idle:
            connection.close()
        self.idle.clear()
