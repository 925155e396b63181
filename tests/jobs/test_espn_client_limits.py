"""ESPN client limits: every attempt ends within `espn_timeout` in all (a dripping server is cut,
headers included) and reads at most `espn_max_body_mb` of decoded body (memory stays flat).

The misbehaving servers are raw loopback sockets of this file; no public host is called."""

from __future__ import annotations

import gzip
import socket
import threading
import time
import tracemalloc
from collections.abc import Callable

import pytest

from fantasy_jobs import settings
from fantasy_jobs.errors import ConfigError
from fantasy_jobs.espn import client as api
from fantasy_jobs.espn.client import MB, EspnClient, EspnError, EspnPayloadError
from tests.support.espn_stub import EspnStub, Reply


class RawServer:
    """A loopback HTTP/1.1 server of raw bytes: `answer(server, conn)` writes each reply by hand.

    It counts requests, the bytes it managed to hand to the socket (`sent`) and connections the
    client closed on it; `stop()` ends every loop (drips wait on the stop event)."""

    def __init__(self, answer: Callable[[RawServer, socket.socket], None]) -> None:
        self.answer = answer
        self.requests = 0
        self.sent = 0
        self.closed_by_client = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._sock = socket.create_server(("127.0.0.1", 0))
        self._sock.settimeout(0.1)
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._sock.getsockname()[1]}"

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self._sock.close()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        with conn:
            conn.settimeout(5)
            try:
                head = b""
                while b"\r\n\r\n" not in head and len(head) < 65536:
                    chunk = conn.recv(4096)
                    if not chunk:
                        return
                    head += chunk
                with self._lock:
                    self.requests += 1
                self.answer(self, conn)
            except OSError:  # the client gave up and closed the connection
                with self._lock:
                    self.closed_by_client += 1

    def send(self, conn: socket.socket, data: bytes) -> None:
        conn.sendall(data)
        with self._lock:
            self.sent += len(data)

    def drip(self, conn: socket.socket, data: bytes, every: float = 0.2) -> None:
        """`data` one byte at a time, `every` seconds apart."""
        for i in range(len(data)):
            if self._stop.wait(every):
                return
            self.send(conn, data[i : i + 1])

    def wait_for_close(self, conn: socket.socket) -> None:
        """Send nothing more and wait (at most 5 s) until the client closes the connection."""
        if conn.recv(1) == b"":
            with self._lock:
                self.closed_by_client += 1


@pytest.fixture
def raw_server():
    servers: list[RawServer] = []

    def start(answer: Callable[[RawServer, socket.socket], None]) -> RawServer:
        servers.append(RawServer(answer))
        return servers[-1]

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def stub():
    server = EspnStub().start()
    yield server
    server.stop()


def client_for(url: str, **limits) -> EspnClient:
    return EspnClient(base_url=url, min_interval=0, backoff=0.01, sleep=lambda s: None, **limits)


def failing_call(client: EspnClient, path: str = "/x") -> tuple[str, float]:
    """The EspnError message of a call that must fail, and how long it took."""
    started = time.monotonic()
    with pytest.raises(EspnError) as info:
        client.get_json(path)
    assert not isinstance(info.value, EspnPayloadError)  # a transport error: Airflow retries the task
    return str(info.value), time.monotonic() - started


def test_a_dripped_body_is_cut_at_the_deadline_and_retried(raw_server):
    def answer(server, conn):
        server.send(conn, b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n")
        server.drip(conn, b"[" + b"1," * 49 + b"1")

    server = raw_server(answer)
    with client_for(server.url, timeout=1, max_attempts=2) as client:
        message, took = failing_call(client)
        call = client.calls[-1]
    assert message.startswith("/x: ReadTimeout: no complete answer within 1 s (espn_timeout)")
    assert "the body was still arriving" in message and "of 100 bytes so far" in message
    assert message.endswith("after 2 attempts")
    assert server.requests == 2
    assert call.status == "error" and "no complete answer within 1 s" in call.error
    assert took < 10  # 2 attempts of 1 s, not the 20 s the drip would take per attempt


def test_a_dripped_status_line_is_cut_at_the_deadline(raw_server):
    def answer(server, conn):
        server.drip(conn, b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}")

    server = raw_server(answer)
    with client_for(server.url, timeout=1, max_attempts=2) as client:
        message, took = failing_call(client)
        call = client.calls[-1]
    assert (
        "no complete answer within 1 s (espn_timeout): the status line and headers were still arriving"
        in (message)
    )
    assert server.requests == 2 and call.status == "error"
    assert server.sent < 2 * 15  # about 5 bytes an attempt: the answer's 70 were never all sent
    assert took < 10


def test_a_declared_oversized_body_fails_before_it_is_read(raw_server):
    def answer(server, conn):
        server.send(conn, b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n")
        server.send(conn, b"Content-Length: %d\r\n\r\n" % (20 * MB))
        server.wait_for_close(conn)  # no body byte ever comes: reading it would hang until the deadline

    server = raw_server(answer)
    with client_for(server.url, timeout=30, max_attempts=2, max_body_mb=1) as client:
        message, took = failing_call(client)
        call = client.calls[-1]
    assert f"the answer declares a {20 * MB}-byte body (Content-Length)" in message
    assert "more than the 1 MB limit (espn_max_body_mb)" in message and message.endswith("after 2 attempts")
    assert server.requests == 2 and call.status == "error"
    assert took < 10  # far under the 30 s deadline: the client closed without waiting for the body
    deadline = time.monotonic() + 5
    while server.closed_by_client < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.closed_by_client == 2


def test_an_endless_chunked_body_is_cut_after_the_limit_with_flat_memory(raw_server):
    piece = b"7" * 65536
    chunk = b"%x\r\n" % len(piece) + piece + b"\r\n"

    def answer(server, conn):
        server.send(
            conn, b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        )
        for _ in range(200 * MB // len(piece)):  # 200 MB, made on the fly
            server.send(conn, chunk)
        server.send(conn, b"0\r\n\r\n")

    server = raw_server(answer)
    with client_for(server.url, timeout=30, max_attempts=1, max_body_mb=1) as client:
        tracemalloc.start()
        try:
            message, took = failing_call(client)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert "the body passed the 1 MB limit (espn_max_body_mb) after" in message
    cut_at = int(message.split(" after ")[1].split(" bytes")[0])
    assert MB < cut_at < MB + 256 * 1024  # cut at the first read past the limit
    assert peak < 10 * MB  # the old client held all 200 MB
    deadline = time.monotonic() + 5
    while server.closed_by_client < 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.closed_by_client == 1  # the client hung up: the server's writes failed
    assert server.sent < 50 * MB  # what the socket buffers took, far from 200 MB


def test_a_gzip_bomb_is_cut_on_its_decoded_size(raw_server):
    bomb = gzip.compress(b" " * (64 * MB), compresslevel=9)  # about 64 KB on the wire

    def answer(server, conn):
        server.send(conn, b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\n")
        server.send(conn, b"Content-Length: %d\r\n\r\n" % len(bomb) + bomb)

    assert len(bomb) < MB  # the declared length passes the limit: only the decoded size can catch it
    server = raw_server(answer)
    with client_for(server.url, timeout=30, max_attempts=1, max_body_mb=1) as client:
        tracemalloc.start()
        try:
            message, _ = failing_call(client)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert "the body passed the 1 MB limit (espn_max_body_mb) after" in message
    assert peak < 10 * MB


def test_a_gzip_answer_is_decoded(raw_server):
    body = gzip.compress(b'{"ok": true, "pad": "' + b"x" * 100_000 + b'"}')

    def answer(server, conn):
        server.send(conn, b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\n")
        server.send(conn, b"Content-Length: %d\r\n\r\n" % len(body) + body)

    server = raw_server(answer)
    with client_for(server.url, max_body_mb=1) as client:
        payload, call = client.get_json("/x")
    assert payload["ok"] is True and len(payload["pad"]) == 100_000 and call.status == "ok"


def test_normal_answers_behave_as_before_under_the_limits(stub):
    stub.add("/ok", {"ok": True, "pad": "x" * (MB - 100)})  # just under the limit
    stub.script("/flaky", [Reply(503, b"e" * (3 * MB)), Reply(200, {"ok": 2})])  # error bodies: 64 KB read
    stub.script("/moved", [Reply(302, b"", {"Location": "/ok"})])
    stub.script("/missing", [Reply(404, b"nothing here " * 100_000)])
    with client_for(stub.url, timeout=5, max_body_mb=1) as client:
        payload, call = client.get_json("/ok")
        assert payload["ok"] is True and call.status == "ok"
        assert client.get_json("/flaky")[0] == {"ok": 2}
        assert client.get_json("/moved")[0]["ok"] is True
        with pytest.raises(
            EspnPayloadError, match=r"/missing: HTTP 404 Not Found: nothing here nothing"
        ) as info:
            client.get_json("/missing")
        assert len(str(info.value)) < 300
        assert [c.status for c in client.calls] == ["ok", "ok", "ok", "error"]
    assert stub.hits.count("/flaky") == 2 and stub.hits.count("/missing") == 1
    assert stub.hits.count("/moved") == 1 and stub.hits.count("/ok") == 2


def test_a_closed_client_can_be_closed_again(stub):
    stub.add("/ok", {"ok": True})
    client = client_for(stub.url)
    client.get_json("/ok")
    client.close()
    client.close()
    assert client._loop.is_closed()


@pytest.mark.parametrize(
    "name,raw,bound",
    [
        ("espn_timeout", "0", "between 1 and 300"),
        ("espn_timeout", "301", "between 1 and 300"),
        ("espn_max_body_mb", "100000", "between 1 and 256"),
        ("espn_max_body_mb", "0", "between 1 and 256"),
        ("espn_max_attempts", "11", "between 1 and 10"),
        ("espn_min_interval", "61", "between 0 and 60"),
        ("espn_backoff", "301", "between 0 and 300"),
    ],
)
def test_espn_settings_out_of_bounds_are_refused(monkeypatch, name, raw, bound):
    monkeypatch.setenv(f"FANTASY_{name.upper()}", raw)
    with pytest.raises(ConfigError) as info:
        settings.get(name)
    assert str(info.value) == (
        f"setting {name} from environment variable FANTASY_{name.upper()} must be {bound}, got '{raw}'"
    )


def test_bounds_are_inclusive_and_defaults_within_them(monkeypatch):
    monkeypatch.setenv("FANTASY_ESPN_TIMEOUT", "300")
    monkeypatch.setenv("FANTASY_ESPN_MAX_BODY_MB", "1")
    assert settings.get("espn_timeout") == 300.0 and settings.get("espn_max_body_mb") == 1
    bounded = [s for s in settings.SETTINGS.values() if s.low is not None or s.high is not None]
    assert {s.name for s in bounded} >= {
        "espn_timeout",
        "espn_min_interval",
        "espn_max_attempts",
        "espn_backoff",
        "espn_max_body_mb",
    }
    for s in bounded:
        assert (s.low is None or s.default >= s.low) and (s.high is None or s.default <= s.high), s.name


def test_client_from_settings_passes_the_limits(monkeypatch, stub):
    monkeypatch.setenv("AIRFLOW_CONN_WNBA_API", stub.url)
    monkeypatch.setenv("FANTASY_ESPN_MAX_BODY_MB", "3")
    monkeypatch.setenv("FANTASY_ESPN_TIMEOUT", "7")
    with api.client_from_settings() as client:
        assert (client.max_body, client.timeout) == (3 * MB, 7.0)
    monkeypatch.delenv("FANTASY_ESPN_MAX_BODY_MB")
    with api.client_from_settings() as client:
        assert client.max_body == 8 * MB
