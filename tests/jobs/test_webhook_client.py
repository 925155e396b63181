"""The notification webhook's HTTP client against real local servers: keep-alive reuse, every way an
answer can end (length, chunked, connection close), and every way it can fail (refused, reset,
silent, malformed), each a WebhookError that names it, never a retry."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable

import pytest

from fantasy_jobs.webhook_client import BODY_LIMIT, WebhookClient, WebhookError
from tests.support.http_stub import HttpStub

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter, dict], Awaitable[None]]


async def read_request(reader: asyncio.StreamReader) -> tuple[bytes, dict[str, str], bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    headers = {
        k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)
    }
    body = await reader.readexactly(int(headers.get("content-length", 0)))
    return lines[0].encode(), headers, body


async def keep_alive_ok(reader, writer, state) -> None:
    """Answers every request on the connection with 200 (HTTP/1.1 keep-alive)."""
    while True:
        try:
            _, headers, body = await read_request(reader)
        except asyncio.IncompleteReadError:
            return
        state.setdefault("keys", []).append(headers["idempotency-key"])
        state.setdefault("bodies", []).append(body)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        await writer.drain()


async def serve(handler: Handler, client_body: Callable[[WebhookClient, dict], Awaitable[object]]):
    """Run `handler` as a server on a free port and `client_body` against it; returns its result and state."""
    state: dict = {"connections": 0}

    async def on_connect(reader, writer):
        state["connections"] += 1
        try:
            await handler(reader, writer, state)
        finally:
            writer.close()

    server = await asyncio.start_server(on_connect, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    client = WebhookClient(f"http://127.0.0.1:{port}/hooks/notify?v=1", timeout=2.0, user_agent="test")
    try:
        result = await client_body(client, state)
    finally:
        client.close()
        server.close()
        await server.wait_closed()
    return result, state


def run(handler: Handler, client_body):
    return asyncio.run(serve(handler, client_body))


def test_posts_reuse_keep_alive_connections_one_request_each_at_a_time():
    async def body(client, state):
        answers = []
        for _ in range(3):  # three rounds of 8 concurrent POSTs
            answers += await asyncio.gather(
                *(client.post(json.dumps({"n": i}).encode(), str(len(answers) + i)) for i in range(8))
            )
        return answers

    answers, state = run(keep_alive_ok, body)
    assert [a.status for a in answers] == [200] * 24 and {a.body for a in answers} == {b"ok"}
    assert state["connections"] <= 8  # 24 POSTs, never more connections than were in flight at once
    assert sorted(state["keys"], key=int) == [str(i) for i in range(24)]  # each sent once
    assert {json.loads(b)["n"] for b in state["bodies"]} == set(range(8))


def test_request_line_and_headers_are_what_the_app_expects():
    seen = {}

    async def handler(reader, writer, state):
        line, headers, body = await read_request(reader)
        seen.update(line=line, headers=headers, body=body)
        writer.write(b"HTTP/1.1 204 No Content\r\n\r\n")
        await writer.drain()

    async def body(client, state):
        return await client.post(b'{"a": 1}', "42")

    answer, _ = run(handler, body)
    assert answer.status == 204 and answer.body == b""
    assert seen["line"] == b"POST /hooks/notify?v=1 HTTP/1.1"
    assert seen["headers"]["idempotency-key"] == "42"
    assert seen["headers"]["content-type"] == "application/json"
    assert seen["headers"]["host"].startswith("127.0.0.1:") and seen["body"] == b'{"a": 1}'


@pytest.mark.parametrize(
    ("answer", "status", "text"),
    [
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n",
            200,
            b"abcde",
        ),
        (b"HTTP/1.0 500 Oops\r\n\r\ndatabase down", 500, b"database down"),  # ends with the connection
        (b"HTTP/1.1 503 Busy\r\nContent-Length: 4\r\nConnection: close\r\n\r\nbusy", 503, b"busy"),
    ],
)
def test_every_way_an_answer_can_end(answer, status, text):
    async def handler(reader, writer, state):
        while True:  # answers until the client or the answer ends the connection
            try:
                await read_request(reader)
            except asyncio.IncompleteReadError:
                return
            writer.write(answer)
            await writer.drain()
            if b"HTTP/1.0" in answer or b"close" in answer:
                return

    async def body(client, state):
        first = await client.post(b"{}", "1")
        second = await client.post(b"{}", "2")  # the closed connection is never reused
        return first, second

    (first, second), state = run(handler, body)
    assert (first.status, first.body) == (status, text) and second.status == status
    assert state["connections"] == (1 if b"chunked" in answer else 2)  # kept alive only when it may be


def test_a_long_answer_is_cut_to_the_limit_and_the_connection_still_reused():
    async def handler(reader, writer, state):
        while True:
            try:
                await read_request(reader)
            except asyncio.IncompleteReadError:
                return
            big = b"x" * (BODY_LIMIT * 3)
            writer.write(b"HTTP/1.1 500 Error\r\nContent-Length: %d\r\n\r\n%s" % (len(big), big))
            await writer.drain()

    async def body(client, state):
        return [await client.post(b"{}", str(i)) for i in range(2)]

    answers, state = run(handler, body)
    assert [len(a.body) for a in answers] == [BODY_LIMIT, BODY_LIMIT] and state["connections"] == 1


@pytest.mark.parametrize(
    ("behaviour", "named"),
    [
        ("close", "closed the connection before answering"),
        ("silent", "no answer within 0.3 s"),
        ("garbage", "malformed answer"),
    ],
)
def test_no_answer_is_an_error_that_says_why_and_nothing_is_sent_again(behaviour, named):
    async def handler(reader, writer, state):
        await read_request(reader)
        state["requests"] = state.get("requests", 0) + 1
        if behaviour == "garbage":
            writer.write(b"NOT HTTP AT ALL\r\n\r\n")
            await writer.drain()
        elif behaviour == "silent":
            await asyncio.sleep(5)

    async def body(client, state):
        client.timeout = 0.3
        with pytest.raises(WebhookError, match=named):
            await client.post(b"{}", "1")
        return len(client.idle)

    idle, state = run(handler, body)
    assert state["requests"] == 1 and idle == 0  # one POST, no retry; the broken connection dropped


def test_a_refused_connection_is_an_error():
    async def body():
        client = WebhookClient("http://127.0.0.1:9/hook", timeout=2.0, user_agent="test")
        with pytest.raises(WebhookError, match="Connect|refused|Errno"):
            await client.post(b"{}", "1")

    asyncio.run(body())


def test_an_idle_connection_the_server_closed_is_replaced_not_failed():
    async def handler(reader, writer, state):
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        await writer.drain()
        writer.close()  # keep-alive announced, then closed while idle (a server's idle timeout)

    async def body(client, state):
        first = await client.post(b"{}", "1")
        await asyncio.sleep(0.1)  # the close arrives while the connection waits in the pool
        second = await client.post(b"{}", "2")
        return first.status, second.status

    statuses, state = run(handler, body)
    assert statuses == (200, 200) and state["connections"] == 2


@pytest.mark.parametrize("url", ["ftp://example.test/hook", "http:///no-host", "not a url"])
def test_a_url_that_is_not_http_is_refused(url):
    with pytest.raises(ValueError, match="http:// or https://"):
        WebhookClient(url, timeout=1.0, user_agent="test")


def test_an_http_1_0_server_that_closes_after_each_answer():
    stub = HttpStub(status=201, body=b"created").start()  # BaseHTTPRequestHandler: HTTP/1.0
    try:

        async def body():
            client = WebhookClient(f"{stub.url}/hook", timeout=2.0, user_agent="test")
            try:
                return [await client.post(b'{"n": 1}', str(i)) for i in range(3)]
            finally:
                client.close()

        answers = asyncio.run(body())
    finally:
        stub.stop()
    assert [(a.status, a.body) for a in answers] == [(201, b"created")] * 3
    assert sorted(stub.per_key().values()) == [1, 1, 1] and stub.requests[0].json() == {"n": 1}


@pytest.mark.parametrize(
    ("connection", "url"),
    [
        (
            '{"conn_type": "http", "host": "https://app.example/internal/notify"}',
            "https://app.example/internal/notify",
        ),
        ("http://app.internal:8000/hooks/notify", "http://app.internal:8000/hooks/notify"),
        ('{"conn_type": "http", "host": "app", "schema": "https", "port": 8443}', "https://app:8443"),
        ('{"conn_type": "http", "host": "app", "extra": {"path": "/n"}}', "http://app/n"),
    ],
)
def test_the_webhook_url_from_each_form_of_the_connection(monkeypatch, connection, url):
    from fantasy_jobs.jobs.notifications import webhook_url

    monkeypatch.setenv("AIRFLOW_CONN_FANTASY_APP_WEBHOOK", connection)
    assert webhook_url() == url
