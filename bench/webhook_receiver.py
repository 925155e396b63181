"""A fast local stand-in for the app's webhook, and a load generator that measures its ceiling.

`python -m bench.webhook_receiver serve` is what an app's webhook endpoint is: a small aiohttp web
app (on uvloop) that answers every POST /hook with 200 on HTTP/1.1 keep-alive connections, counts
requests and distinct `Idempotency-Key`s, and prints its URL on the first line of stdout. `GET /stats` returns the
counts as JSON. `python -m bench.webhook_receiver ceiling URL --seconds S --connections C` posts
as fast as C keep-alive connections can (bare sockets, no HTTP library), so the rate it prints is
the receiver's own ceiling on this machine: the bench shows the job's throughput beside it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
import time

from aiohttp import web


class Counts:
    def __init__(self) -> None:
        self.requests = 0
        self.keys: set[str] = set()

    def as_dict(self) -> dict[str, int]:
        return {
            "requests": self.requests,
            "distinct_keys": len(self.keys),
            "duplicates": self.requests - len(self.keys),
        }


def make_app() -> web.Application:
    counts = Counts()

    async def hook(request: web.Request) -> web.Response:
        await request.read()
        counts.requests += 1
        key = request.headers.get("Idempotency-Key")
        if key is not None:
            counts.keys.add(key)
        return web.Response(text="ok")

    async def stats(request: web.Request) -> web.Response:
        return web.json_response(counts.as_dict())

    app = web.Application()
    app.router.add_post("/hook", hook)
    app.router.add_get("/stats", stats)
    return app


async def serve(host: str, port: int) -> None:
    runner = web.AppRunner(make_app(), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port, backlog=1024)
    await site.start()
    bound = runner.addresses[0]
    print(f"http://{bound[0]}:{bound[1]}/hook", flush=True)
    await asyncio.Event().wait()


async def post_loop(host: str, port: int, path: str, until: float, sent: list[int]) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    body = b'{"id": 1, "user_id": 1, "kind": "webhook", "payload": {"text": "bench"}}'
    n = 0
    try:
        while time.monotonic() < until:
            n += 1
            writer.write(
                b"POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\n"
                b"Idempotency-Key: c%d\r\nContent-Length: %d\r\n\r\n%s"
                % (path.encode(), host.encode(), n, len(body), body)
            )
            await reader.readuntil(b"\r\n\r\n")
            await reader.readexactly(2)
            sent[0] += 1
    finally:
        writer.close()


async def ceiling(url: str, seconds: float, connections: int) -> float:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    sent = [0]
    started = time.monotonic()
    until = started + seconds
    await asyncio.gather(
        *(post_loop(parts.hostname, parts.port, parts.path or "/", until, sent) for _ in range(connections))
    )
    return sent[0] / (time.monotonic() - started)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.webhook_receiver")
    sub = parser.add_subparsers(dest="command", required=True)
    serve_cmd = sub.add_parser("serve")
    serve_cmd.add_argument("--host", default="127.0.0.1")
    serve_cmd.add_argument("--port", type=int, default=0)
    ceiling_cmd = sub.add_parser("ceiling")
    ceiling_cmd.add_argument("url")
    ceiling_cmd.add_argument("--seconds", type=float, default=5.0)
    ceiling_cmd.add_argument("--connections", type=int, default=32)
    args = parser.parse_args(argv)
    try:
        import uvloop

        runner = uvloop.run
    except ImportError:  # pragma: no cover - uvloop is pinned; plain asyncio is slower but works
        runner = asyncio.run
    if args.command == "serve":
        with contextlib.suppress(KeyboardInterrupt):
            runner(serve(args.host, args.port))
        return 0
    rate = runner(ceiling(args.url, args.seconds, args.connections))
    print(json.dumps({"requests_per_second": round(rate)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
