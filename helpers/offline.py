"""An offline stand-in for the Chat Completions HTTP API.

``OfflineAPI.handle`` answers ``POST /v1/chat/completions`` the way the real service
does: it validates the request against the official OpenAPI schema and the model's rules
with the real status codes and error bodies, counts ``usage`` with tiktoken, streams real
server-sent events, calls tools, answers in JSON modes and returns logprobs. The real
``openai.OpenAI`` client talks to it through ``httpx2.MockTransport`` (``OfflineAPI.transport``;
``OfflineAPI.async_transport`` for ``openai.AsyncOpenAI``), so responses are parsed into
the SDK's real types and errors raise the SDK's real exception classes. It is also served
over HTTP: ``python -m helpers.offline serve [--port 8787]``.

Its replies are canned and always start with ``[offline]``: it is a way to learn the
API without a key, not a language model. The parts live in ``helpers._offline``.
"""

from __future__ import annotations

from ._offline.api import LOG_SIZE, REASONING_TOKENS, SIMULATE_HEADER, OfflineAPI, RequestLog
from ._offline.errors import APIError, simulated_error
from ._offline.replies import HANGUL, MARKER, compose_reply, find_name, language
from ._offline.request import KNOWN_PARAMS, Request, check_reasoning, served_model, validate
from ._offline.wire import Choice

__all__ = [
    "APIError",
    "Choice",
    "HANGUL",
    "KNOWN_PARAMS",
    "LOG_SIZE",
    "MARKER",
    "OfflineAPI",
    "REASONING_TOKENS",
    "Request",
    "RequestLog",
    "SIMULATE_HEADER",
    "check_reasoning",
    "compose_reply",
    "find_name",
    "language",
    "served_model",
    "simulated_error",
    "validate",
]

if __name__ == "__main__":
    import sys

    from ._offline.server import main

    sys.exit(main())
