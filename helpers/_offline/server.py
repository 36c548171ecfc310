"""The offline model over HTTP, for curl, JavaScript, other languages or a classroom's JupyterHub:

    python -m helpers._offline serve [--host 127.0.0.1] [--port 8787] [--max-body-mb 8]
    export OPENAI_BASE_URL=http://127.0.0.1:8787/v1 OPENAI_API_KEY=offline

It needs starlette and uvicorn (requirements.txt). It binds 127.0.0.1 unless told
otherwise: anything else exposes it to the network. Like the real API it answers every path
with a 401 when a request carries no key; it accepts any key and logs none. A request body may
be up to ``--max-body-mb`` MB (8 by default: a long prompt passes, a runaway upload does not);
a larger one gets a 413 saying so, without the server reading it into memory."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import secrets
import sys
from typing import Any

from .api import OfflineAPI
from .errors import APIError, body_too_large, has_key, missing_key
from .wire import encode

DEFAULT_HOST, DEFAULT_PORT = "127.0.0.1", 8787
MAX_BODY_MB = 8.0  # the default body limit: about 2 million tokens of English, past any context window
# Counting the tokens of a body this large takes long (about a second for 5 MB): such bodies take
# turns, one at a time (see app()).
LARGE_BODY = 256 * 1024


def app(api: OfflineAPI | None = None, *, max_body_mb: float = MAX_BODY_MB) -> Any:
    """An ASGI app answering every path with ``api`` (OfflineAPI.from_settings() by default),
    refusing request bodies over ``max_body_mb`` MB."""
    try:
        import anyio
        from starlette.applications import Starlette
        from starlette.concurrency import run_in_threadpool
        from starlette.requests import ClientDisconnect, Request
        from starlette.responses import Response, StreamingResponse
        from starlette.routing import Route
    except ImportError as err:  # a learner's install has only requirements.txt
        raise SystemExit(
            "Serving the offline model needs starlette and uvicorn: "
            "pip install -r requirements-dev.txt (or: pip install starlette uvicorn)"
        ) from err
    api = api or OfflineAPI.from_settings()
    limit = int(max_body_mb * 2**20)
    # Validation and token counting run in worker threads, never on the event loop, so one large
    # request cannot hold up every other client. Threads alone are not enough: tiktoken counts
    # without the GIL, so two large bodies counted at once take both cores of a small machine
    # and the event loop waits for a core. So large bodies are worked on one at a time, and
    # small requests, which take milliseconds, always find a core and the GIL free.
    large_turn = anyio.Semaphore(1)

    async def answer(request: Request) -> Response:
        if not has_key(request.headers.get("authorization")):
            return error(missing_key())
        announced = request.headers.get("content-length", "")
        size = int(announced) if announced.isdigit() else None
        if size is not None and size > limit:  # refused before a byte of it is read
            return error(body_too_large(limit, size))
        try:
            content = await read_body(request, limit)
        except ClientDisconnect:  # the client went away mid-upload: no one to answer
            return Response(status_code=400)
        if content is None:
            return error(body_too_large(limit))
        turn = large_turn if len(content) > LARGE_BODY else contextlib.nullcontext()
        async with turn:
            reply = await run_in_threadpool(api.reply, request.method, request.url.path, request.headers, content)
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
        return Response(reply.json(), status_code=reply.status, headers=reply.headers, media_type="application/json")

    def error(err: APIError) -> Response:
        """An error the server answers before the model sees the request, with the API's headers."""
        headers = {"x-request-id": f"req_{secrets.token_hex(16)}", "openai-version": "2020-10-01", **err.headers}
        return Response(encode(err.body), status_code=err.status, headers=headers, media_type="application/json")

    methods = ["GET", "POST", "PUT", "PATCH", "DELETE"]
    return Starlette(routes=[Route("/{path:path}", answer, methods=methods)])


async def read_body(request: Any, limit: int) -> bytes | None:
    """The request body, read as it arrives; None as soon as it passes ``limit`` bytes (a body
    sent without a Content-Length, or a lie about it). The rest is never kept: uvicorn reads and
    drops it after the answer, so the client still gets to read the 413."""
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _megabytes(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not 0 < value <= 1024:
        raise argparse.ArgumentTypeError(f"give a number of megabytes from 0 to 1024, not {text!r}")
    return value


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
    serve.add_argument(
        "--max-body-mb",
        type=_megabytes,
        default=MAX_BODY_MB,
        help=f"largest request body accepted, in MB (default {MAX_BODY_MB:g}); a larger one gets a 413",
    )
    args = parser.parse_args(argv)
    try:
        import uvicorn
    except ImportError:
        print(
            "Serving the offline model needs uvicorn and starlette: pip install -r requirements-dev.txt",
            file=sys.stderr,
        )
        return 2
    config = uvicorn.Config(app(max_body_mb=args.max_body_mb), host=args.host, port=args.port, log_level="warning")
    try:
        sock = config.bind_socket()  # bind first: the banner is printed only once the port is ours
    except SystemExit:  # uvicorn logged the bind error (a busy port, an address not on this machine)
        print(f"Could not listen on {args.host}:{args.port}: try another --port.", file=sys.stderr)
        return 1
    print(
        f"Offline model on http://{args.host}:{args.port}/v1 - set OPENAI_BASE_URL to it and any "
        "OPENAI_API_KEY. Ctrl+C stops it.",
        flush=True,
    )
    uvicorn.Server(config).run(sockets=[sock])
    return 0
