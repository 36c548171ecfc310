"""The offline model over HTTP, for curl, JavaScript, other languages or a classroom's JupyterHub:

    python -m helpers._offline serve [--host 127.0.0.1] [--port 8787]
    export OPENAI_BASE_URL=http://127.0.0.1:8787/v1 OPENAI_API_KEY=offline

It needs starlette and uvicorn (requirements-dev.txt). It binds 127.0.0.1 unless told
otherwise: anything else exposes it to the network (it accepts any key and logs none)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

from .api import OfflineAPI

DEFAULT_HOST, DEFAULT_PORT = "127.0.0.1", 8787


def app(api: OfflineAPI | None = None) -> Any:
    """An ASGI app answering every path with ``api`` (OfflineAPI.from_settings() by default)."""
    try:
        from starlette.applications import Starlette
        from starlette.requests import Request
        from starlette.responses import Response, StreamingResponse
        from starlette.routing import Route
    except ImportError as err:  # a learner's install has only requirements.txt
        raise SystemExit(
            "Serving the offline model needs starlette and uvicorn: "
            "pip install -r requirements-dev.txt (or: pip install starlette uvicorn)"
        ) from err
    api = api or OfflineAPI.from_settings()

    async def answer(request: Request) -> Response:
        content = await request.body()
        reply = api.reply(request.method, request.url.path, request.headers, content)
        if reply.delay:  # a simulated slow reply: the client's own timeout trips, as over a network
            await asyncio.sleep(reply.delay)
        if reply.events is not None:
            # A sync iterator: starlette runs it in a worker thread, so chunk_delay's sleeps do not block.
            return StreamingResponse(
                api._paced(reply.events),
                status_code=reply.status,
                headers=reply.headers,
                media_type="text/event-stream",
            )
        return Response(
            reply.json(),
            status_code=reply.status,
            headers=reply.headers,
            media_type="application/json",
        )

    methods = ["GET", "POST", "PUT", "PATCH", "DELETE"]
    return Starlette(routes=[Route("/{path:path}", answer, methods=methods)])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m helpers._offline", description="Serve the course's offline model over HTTP."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve POST /v1/chat/completions and GET /v1/models")
    serve.add_argument(
        "--host",
        default=DEFAULT_HOST,
        help=f"address to bind (default {DEFAULT_HOST}: this computer only; 0.0.0.0 opens it to your network)",
    )
    serve.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})")
    args = parser.parse_args(argv)
    try:
        import uvicorn
    except ImportError:
        print(
            "Serving the offline model needs uvicorn and starlette: pip install -r requirements-dev.txt",
            file=sys.stderr,
        )
        return 2
    print(
        f"Offline model on http://{args.host}:{args.port}/v1 - set OPENAI_BASE_URL to it and any "
        "OPENAI_API_KEY. Ctrl+C stops it.",
        flush=True,
    )
    uvicorn.run(app(), host=args.host, port=args.port, log_level="warning")
    return 0
