"""An offline stand-in for the Chat Completions HTTP API.

``OfflineAPI.handle`` answers ``POST /v1/chat/completions`` the way the real service
does: it validates the request against the official OpenAPI schema and the model's rules
with the real status codes and error bodies, counts ``usage`` with tiktoken, streams real
server-sent events, calls tools, answers in JSON modes and returns logprobs. The real
``openai.OpenAI`` client talks to it through ``httpx2.MockTransport`` (``OfflineAPI.transport``;
``OfflineAPI.async_transport`` for ``openai.AsyncOpenAI``), so responses are parsed into
the SDK's real types and errors raise the SDK's real exception classes. It is also served
over HTTP: ``python -m helpers._offline serve [--port 8787]``.

Its replies are written in advance and always start with ``[offline]``: it is a way to learn
the API without a key, not a language model. They still vary as the parameters say
(temperature, top_p, seed, n, the penalties, verbosity) and answer in the learner's language.
Its parts:

- ``request``: validation (``schema`` checks the spec's types and enums) returning a typed
  ``validated.Request``
- ``replies``: several ranked phrasings per topic in English and Korean, sampled like a model
  samples tokens; name recall, summaries, long answers
- ``tools`` and ``structured``: function calling, JSON modes and structured outputs
- ``wire``: the JSON body and the server-sent events, logprobs
- ``api``: ``OfflineAPI``, behind an httpx2 transport (sync or async)
- ``server``: the same model over HTTP (starlette + uvicorn), ``python -m helpers._offline serve``
"""

from __future__ import annotations

from .api import LOG_SIZE, REASONING_TOKENS, SIMULATE_HEADER, USAGE_EXTENSION, OfflineAPI, RequestLog
from .errors import APIError, simulated_error
from .replies import HANGUL, MARKER, compose_reply, find_name, language
from .request import KNOWN_PARAMS, Request, check_reasoning, served_model, validate
from .wire import Choice

# The one base URL of the offline model: a client made with it talks to OfflineAPI in memory
# (.invalid is a name that never resolves, so nothing can reach a real server by mistake).
OFFLINE_URL = "https://offline.invalid/v1"

__all__ = [
    "APIError",
    "Choice",
    "HANGUL",
    "KNOWN_PARAMS",
    "LOG_SIZE",
    "MARKER",
    "OFFLINE_URL",
    "OfflineAPI",
    "REASONING_TOKENS",
    "Request",
    "RequestLog",
    "SIMULATE_HEADER",
    "USAGE_EXTENSION",
    "check_reasoning",
    "compose_reply",
    "find_name",
    "language",
    "served_model",
    "simulated_error",
    "validate",
]
