"""A local HTTP server standing in for ESPN: routes of canned replies, with failures on demand."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qsl, urlsplit

from tests.support.http_stub import LoopbackServer


@dataclass
class Reply:
    status: int = 200
    body: bytes | dict = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    drip: float = 0.0  # seconds between two bytes of the body: a server that sends one byte at a time
    filler: int = 0  # stream this many bytes of blanks (64 KB writes) instead of `body`: an oversized answer
    sent: list[int] = field(default_factory=list)  # bytes of each answer written before the client left

    def payload(self) -> bytes:
        return json.dumps(self.body).encode() if isinstance(self.body, dict) else self.body


def route_key(path: str, query: dict | None = None) -> str:
    items = sorted((k, str(v)) for k, v in (query or {}).items())
    return path + ("?" + "&".join(f"{k}={v}" for k, v in items) if items else "")


@dataclass
class EspnStub(LoopbackServer):
    """`routes[key]` is a list of replies served in turn; the last one repeats."""

    routes: dict[str, list[Reply]] = field(default_factory=dict)
    hits: list[str] = field(default_factory=list)
    user_agents: list[str] = field(default_factory=list)

    def add(self, path: str, body, query: dict | None = None) -> None:
        self.routes[route_key(path, query)] = [Reply(body=body)]

    def script(self, path: str, replies: list[Reply], query: dict | None = None) -> None:
        self.routes[route_key(path, query)] = list(replies)

    def start(self) -> EspnStub:
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                url = urlsplit(self.path)
                key = route_key(url.path, dict(parse_qsl(url.query)))
                stub.hits.append(key)
                stub.user_agents.append(self.headers.get("User-Agent", ""))
                replies = stub.routes.get(key)
                reply = (
                    (replies.pop(0) if len(replies) > 1 else replies[0])
                    if replies
                    else Reply(404, b'{"code":404}')
                )
                if reply.delay:
                    time.sleep(reply.delay)
                body = reply.payload()
                written = 0
                try:
                    self.send_response(reply.status)
                    for name, value in {"Content-Type": "application/json", **reply.headers}.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(reply.filler or len(body)))
                    self.end_headers()
                    if reply.filler:
                        chunk = b" " * 65536
                        while written < reply.filler:
                            self.wfile.write(chunk[: reply.filler - written])
                            written += min(len(chunk), reply.filler - written)
                    elif reply.drip:
                        for index in range(len(body)):
                            self.wfile.write(body[index : index + 1])
                            self.wfile.flush()
                            written += 1
                            time.sleep(reply.drip)
                    else:
                        self.wfile.write(body)
                        written = len(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass
                reply.sent.append(written)

            def log_message(self, *args) -> None:
                pass

        self.serve(Handler)
        return self
