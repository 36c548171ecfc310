"""The errors the offline model answers with, shaped and worded as the real API's."""

from __future__ import annotations

from typing import Any

# Failures a request can ask for with the x-offline-simulate header or OfflineAPI.fail_next.
SIMULATED = ("invalid_api_key", "rate_limit", "server_error", "stream_error")


class APIError(Exception):
    """An error the emulator answers with, as the real API would."""

    def __init__(self, status: int, message: str, *, type: str = "invalid_request_error",
                 param: str | None = None, code: str | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.headers = status, headers or {}
        self.body = {"error": {"message": message, "type": type, "param": param, "code": code}}


def bad(message: str, param: str | None = None, code: str | None = None) -> APIError:
    """A 400 invalid_request_error."""
    return APIError(400, message, param=param, code=code)


def unsupported(name: str, detail: str = "") -> APIError:
    return bad(f"Unsupported parameter: '{name}' is not supported with this model.{detail}", name,
               "unsupported_parameter")


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


def simulated_error(kind: str, model: str = "the model", retry_after_ms: int = 20) -> APIError:
    """The errors a lesson can ask for: invalid_api_key, rate_limit, server_error."""
    if kind == "invalid_api_key":
        return APIError(401, "Incorrect API key provided: sk-of***ine. You can find your API key "
                        "at https://platform.openai.com/account/api-keys.", code="invalid_api_key")
    if kind == "rate_limit":
        seconds = retry_after_ms / 1000
        return APIError(
            429, f"Rate limit reached for {model} on requests per min (RPM): Limit 3, Used 3, "
            f"Requested 1. Please try again in {seconds:g}s.", type="requests",
            code="rate_limit_exceeded",
            headers={"retry-after-ms": str(retry_after_ms), "retry-after": str(max(1, round(seconds)))})
    if kind == "server_error":
        return APIError(500, "The server had an error while processing your request. Sorry about that!",
                        type="server_error")
    raise ValueError(f"unknown simulated error {kind!r}: use {', '.join(SIMULATED[:-1])} or {SIMULATED[-1]}")


def unknown_simulation(kind: str) -> APIError:
    """An x-offline-simulate header the emulator does not know: a 400, never a crash."""
    return bad(f"Unknown x-offline-simulate value {kind[:40]!r}: use {', '.join(SIMULATED[:-1])} or "
               f"{SIMULATED[-1]} (or leave the header out).", None, "invalid_value")
