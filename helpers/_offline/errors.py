"""The errors the offline model answers with, shaped and worded as the real API's, and the
failures a lesson or a test can ask it to simulate."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

# Failures a request can ask for with the x-offline-simulate header, OfflineAPI.fail_next,
# OfflineAPI.script or OfflineAPI.flaky. "ok" means no failure (a scripted 200); "refusal" is a 200
# whose message.refusal holds a model's "I can't help with that" (content null).
SIMULATED = (
    "invalid_api_key",
    "insufficient_quota",
    "rate_limit",
    "server_error",
    "overloaded",
    "slow",
    "stream_error",
    "refusal",
)
# Status codes OfflineAPI.script accepts in place of names: 429 is the retryable rate limit
# (script "insufficient_quota" by name).
BY_STATUS = {200: "ok", 401: "invalid_api_key", 429: "rate_limit", 500: "server_error", 503: "overloaded"}
SLOW_SECONDS = 5.0  # how long "slow" waits when no number is given ("slow:0.5" waits half a second)
MAX_SLOW_SECONDS = 60.0  # a typo must not hang a lesson for an hour
# Rate limits reported in x-ratelimit-* headers: a usage tier's figures, as recorded in
# tests/data/realtraffic.json (5,000 requests and 4M tokens per minute).
RATE_LIMIT_REQUESTS, RATE_LIMIT_TOKENS = 5_000, 4_000_000


class APIError(Exception):
    """An error the emulator answers with, as the real API would."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",
        param: str | None = None,
        code: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.headers = status, headers or {}
        self.body = {"error": {"message": message, "type": type, "param": param, "code": code}}


@dataclass(frozen=True)
class Simulation:
    """One simulated outcome: a failure ``kind`` (or "ok"), and for "slow" the seconds to wait."""

    kind: str
    seconds: float = 0.0


def parse_simulation(value: str) -> Simulation:
    """``"rate_limit"``, ``"slow"``, ``"slow:0.5"``, ``"ok"``...; raises ValueError for anything else."""
    kind, _, number = str(value).strip().partition(":")
    if kind == "slow":
        try:
            seconds = float(number) if number else SLOW_SECONDS
        except ValueError:
            seconds = -1.0
        if not (math.isfinite(seconds) and 0 <= seconds <= MAX_SLOW_SECONDS):
            raise ValueError(
                f"'slow:SECONDS' takes a number of seconds from 0 to {MAX_SLOW_SECONDS:g}, not {number[:20]!r}."
            )
        return Simulation("slow", seconds)
    if number or (kind not in SIMULATED and kind != "ok"):
        raise ValueError(
            f"unknown simulated failure {str(value)[:40]!r}: use {listed(SIMULATED, 'or')} "
            "(slow takes seconds: 'slow:2'), or 'ok' for a normal reply."
        )
    return Simulation(kind)


def outcome(item: str | int) -> Simulation:
    """A scripted outcome: a name as for ``parse_simulation``, or a status code from BY_STATUS."""
    if isinstance(item, int) and not isinstance(item, bool):
        if item not in BY_STATUS:
            raise ValueError(
                f"no simulated failure answers with status {item}: use one of "
                f"{', '.join(map(str, BY_STATUS))}, or a name such as 'insufficient_quota'."
            )
        return Simulation(BY_STATUS[item])
    return parse_simulation(item)


def bad(message: str, param: str | None = None, code: str | None = None) -> APIError:
    """A 400 invalid_request_error."""
    return APIError(400, message, param=param, code=code)


def unsupported(name: str, detail: str = "") -> APIError:
    return bad(
        f"Unsupported parameter: '{name}' is not supported with this model.{detail}", name, "unsupported_parameter"
    )


def json_type(value: Any) -> str:
    """A value's JSON type as the API names it in errors ("a string", "an integer", ...)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a decimal"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def listed(values: tuple[str, ...] | list[str], last: str = "and") -> str:
    """'a', 'b', and 'c': how the API lists the values it supports."""
    quoted = [f"'{v}'" for v in values]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + f", {last} " + quoted[-1]


def simulated_error(
    kind: str, model: str = "the model", retry_after_ms: int = 20, request_id: str = "req_offline"
) -> APIError:
    """The error a simulated failure answers with, worded as the API words it.

    ``rate_limit`` (429 rate_limit_exceeded) says when to try again, in its message and in the
    retry-after-ms / retry-after headers; ``insufficient_quota`` (429 too) carries no such hint,
    because waiting does not help: the account is out of credit. ``server_error`` is a 500,
    ``overloaded`` a 503 naming the request id, ``invalid_api_key`` a 401.
    """
    if kind == "invalid_api_key":
        return APIError(
            401,
            "Incorrect API key provided: sk-of***ine. You can find your API key "
            "at https://platform.openai.com/account/api-keys.",
            code="invalid_api_key",
        )
    if kind == "rate_limit":
        return APIError(
            429,
            f"Rate limit reached for {model} in organization org-offline on requests per min (RPM): "
            f"Limit {RATE_LIMIT_REQUESTS}, Used {RATE_LIMIT_REQUESTS}, Requested 1. Please try again in "
            f"{retry_after_ms}ms. Visit https://platform.openai.com/account/rate-limits to learn more.",
            type="requests",
            code="rate_limit_exceeded",
            headers={
                "retry-after-ms": str(retry_after_ms),
                "retry-after": str(max(1, math.ceil(retry_after_ms / 1000))),  # whole seconds
                "x-ratelimit-limit-requests": str(RATE_LIMIT_REQUESTS),
                "x-ratelimit-remaining-requests": "0",
                "x-ratelimit-reset-requests": f"{retry_after_ms}ms",
            },
        )
    if kind == "insufficient_quota":
        return APIError(
            429,
            "You exceeded your current quota, please check your plan and billing details. "
            "For more information on this error, read the docs: "
            "https://platform.openai.com/docs/guides/error-codes/api-errors.",
            type="insufficient_quota",
            code="insufficient_quota",
        )
    if kind == "server_error":
        return APIError(
            500, "The server had an error while processing your request. Sorry about that!", type="server_error"
        )
    if kind == "overloaded":
        return APIError(
            503,
            "That model is currently overloaded with other requests. You can retry your "
            "request, or contact us through our help center at help.openai.com if the error "
            f"persists. (Please include the request ID {request_id} in your message.)",
            type="server_error",
        )
    raise ValueError(f"unknown simulated error {kind!r}: use {listed(SIMULATED[:5], 'or')}")


def unknown_simulation(value: str, reason: str = "") -> APIError:
    """An x-offline-simulate header the emulator does not understand: a 400, never a crash."""
    detail = reason or f"use {listed(SIMULATED, 'or')} ('slow:SECONDS' for a slow reply), or leave the header out."
    return bad(f"Unknown x-offline-simulate value {str(value)[:40]!r}: {detail}", None, "invalid_value")


def missing_key() -> APIError:
    """The API's 401 for a request without an API key (no Authorization header, or "Bearer " alone)."""
    return APIError(
        401,
        "You didn't provide an API key. You need to provide your API key "
        "in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
    )


def has_key(authorization: str | None) -> bool:
    """Whether an Authorization header carries a key (the offline model takes any key). An HTTP
    server hands over "Bearer " as "Bearer": it strips the spaces around a header's value."""
    value = (authorization or "").strip()
    return value != "Bearer" and bool(value.removeprefix("Bearer ").strip())


def body_too_large(limit: int, size: int | None = None) -> APIError:
    """A 413 for a request body over the server's ``limit`` (bytes); ``size`` when it was announced."""
    told = f"{size:,} bytes" if size is not None else "more than that"
    return APIError(
        413,
        f"Request body too large: the offline model's server accepts at most {limit / 2**20:g} MB "
        f"({limit:,} bytes) per request, and this one is {told}. Send a shorter prompt (fewer or "
        "shorter messages), or start the server with a larger limit: "
        f"python3 course.py serve --max-body-mb {2 * limit / 2**20:g}.",
        code="request_too_large",
    )
