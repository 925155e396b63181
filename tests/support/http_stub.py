"""A local HTTP server standing in for Slack's webhook (and, later, ESPN and the app's webhook)."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class LoopbackServer:
    """An HTTP server on 127.0.0.1 with a free port, served from a daemon thread."""

    def serve(self, handler: type[BaseHTTPRequestHandler]) -> None:
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler, bind_and_activate=False)
        self.server.request_queue_size = 128  # clients with a pool of connections connect at once
        self.server.server_bind()
        self.server.server_activate()
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self):
        return json.loads(self.body or b"null")


@dataclass
class HttpStub(LoopbackServer):
    """Records every request as it arrives; answers with `status` and `body`.

    Fault knobs for the webhook stand-in: `delay` answers slowly, `hang` holds every request
    unanswered until `release()` or `stop()`, `status_for` picks a status per request (None: `status`),
    `on_request` runs as each request arrives (before the answer: a hook to break things mid-run).
    `in_flight`/`max_in_flight` count requests being served at once; `per_key()` counts requests
    per Idempotency-Key.
    """

    status: int = 200
    body: bytes = b"ok"
    delay: float = 0.0
    requests: list[Recorded] = field(default_factory=list)
    hang: bool = False
    status_for: Callable[[Recorded], int | None] | None = None
    on_request: Callable[[Recorded], None] | None = None
    in_flight: int = 0
    max_in_flight: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _released: threading.Event = field(default_factory=threading.Event, repr=False)

    def start(self) -> HttpStub:
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                recorded = Recorded(self.command, self.path, dict(self.headers), self.rfile.read(length))
                with stub._lock:
                    stub.requests.append(recorded)
                    stub.in_flight += 1
                    stub.max_in_flight = max(stub.max_in_flight, stub.in_flight)
                try:
                    if stub.on_request:
                        stub.on_request(recorded)
                    if stub.delay:
                        time.sleep(stub.delay)
                    if stub.hang:
                        stub._released.wait()
                    status = (stub.status_for(recorded) if stub.status_for else None) or stub.status
                    self.send_response(status)
                    self.send_header("Content-Type", "text/plain")
                    self.send_header("Content-Length", str(len(stub.body)))
                    self.end_headers()
                    self.wfile.write(stub.body)
                except OSError:  # the client gave up (timeout) and closed the connection
                    pass
                finally:
                    with stub._lock:
                        stub.in_flight -= 1

            do_GET = do_POST = _handle

            def log_message(self, *args) -> None:
                pass

        self.serve(Handler)
        return self

    def per_key(self, header: str = "Idempotency-Key") -> Counter[str]:
        """How many requests each value of `header` received."""
        with self._lock:
            return Counter(r.headers.get(header) for r in self.requests)

    def release(self) -> None:
        """Let every held (`hang`) request be answered."""
        self._released.set()

    def stop(self) -> None:
        self.release()
        super().stop()
