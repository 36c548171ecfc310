"""A spend meter and an optional spend cap for this kernel.

Every client from ``helpers.client`` sends its requests through ``SpendTransport``,
an ``httpx2`` transport wrapped around the real one. It reads the ``usage`` of each
response as the bytes pass through (untouched) to the SDK, prices it with
``helpers.pricing`` and adds it to one running total per Python process (one kernel).

Set ``COURSE_SPEND_CAP_USD`` (e.g. ``0.50``) and, once the total reaches it, the next
request is answered here without being sent: an HTTP 429 ``insufficient_quota`` error,
marked not to be retried, which the SDK raises as ``openai.RateLimitError``. The call
that crosses the cap completes (its cost is only known afterwards); the next is refused.

Costs are estimates: usage priced from the table in ``helpers.models``. A streamed reply
without ``stream_options={"include_usage": True}`` has no usage, so its tokens are
counted with tiktoken instead. A model missing from the table is priced as
``DEFAULT_MODEL`` (with a warning). The offline model's calls are metered too, at what
the same calls would cost for real.
"""

from __future__ import annotations

import json
import os
import threading
import warnings
from collections.abc import Callable, Iterator, Mapping
from dataclasses import asdict, dataclass
from typing import Any

import httpx2

from .models import DEFAULT_MODEL, UnknownModelError, model_info
from .pricing import estimate_cost
from .tokens import count_message_tokens, count_tokens

CAP_VARIABLE = "COURSE_SPEND_CAP_USD"
MAX_BODY = 16 * 2**20  # bytes of one response kept for reading its usage


class SpendWarning(UserWarning):
    """A cost could not be read exactly (unknown model, unreadable response)."""


@dataclass(frozen=True)
class Charge:
    """What one call cost, as metered."""

    model: str  # the model the response named (or the request asked for)
    priced_as: str  # the row of helpers.models used for the price
    prompt_tokens: int
    completion_tokens: int
    cached_tokens: int
    cost: float  # USD
    estimated: bool  # True: tokens counted here, not read from the response's usage


_lock = threading.Lock()
_charges: list[Charge] = []
_total = 0.0
_warned: set[str] = set()


# ---------------------------------------------------------------- the meter

def spent() -> float:
    """USD this process (this kernel) has spent so far, as estimated."""
    return _total


def charges() -> list[Charge]:
    """Every metered call of this process, oldest first."""
    with _lock:
        return list(_charges)


def reset() -> None:
    """Start counting from zero again (the cap then allows as much again)."""
    global _total
    with _lock:
        _charges.clear()
        _total = 0.0


def record(charge: Charge) -> None:
    """Add one call's cost to the total."""
    global _total
    with _lock:
        _charges.append(charge)
        _total += charge.cost


def summary() -> dict[str, Any]:
    """Totals as plain data: calls, tokens and USD (used by tools/course_cost.py)."""
    items = charges()
    return {
        "calls": len(items),
        "estimated_calls": sum(c.estimated for c in items),
        "prompt_tokens": sum(c.prompt_tokens for c in items),
        "cached_tokens": sum(c.cached_tokens for c in items),
        "completion_tokens": sum(c.completion_tokens for c in items),
        "cost_usd": sum(c.cost for c in items),
        "charges": [asdict(c) for c in items],
    }


def usd(amount: float) -> str:
    """$0.0123 for cents, more digits for tiny amounts."""
    return f"${amount:.4f}" if amount == 0 or amount >= 0.001 else f"${amount:.6f}"


# ---------------------------------------------------------------- the cap

def parse_cap(text: str | None) -> float | None:
    """The cap in USD from the variable's text; None when it is unset or empty."""
    if text is None or not text.strip():
        return None
    try:
        value = float(text.strip().lstrip("$"))
    except ValueError:
        value = float("nan")
    if not value >= 0 or value == float("inf"):  # also rejects nan
        raise ValueError(f"{CAP_VARIABLE} must be an amount in US dollars such as 0.50, not {text!r}. "
                         "Fix it or unset it, then restart the kernel.")
    return value


def cap_from_env(environ: Mapping[str, str] = os.environ) -> float | None:
    return parse_cap(environ.get(CAP_VARIABLE))


def cap_message(total: float, cap: float, cap_text: str | None = None) -> str:
    shown = cap_text if cap_text is not None else f"{cap:g}"
    relation = "over" if total > cap else "reaching"
    return (f"Course spend cap reached: this kernel has spent about {usd(total)}, {relation} "
            f"{CAP_VARIABLE}={shown}. Raise the cap (or unset it) and restart the kernel.")


def refusal(request: httpx2.Request, message: str) -> httpx2.Response:
    """The API's own shape for a quota error; ``x-should-retry: false`` stops the SDK's retries."""
    body = {"error": {"message": message, "type": "insufficient_quota", "param": None,
                      "code": "insufficient_quota"}}
    return httpx2.Response(429, json=body, headers={"x-should-retry": "false"}, request=request)


# ---------------------------------------------------------------- reading usage

def _warn_once(key: str, message: str) -> None:
    if key not in _warned:
        _warned.add(key)
        warnings.warn(message, SpendWarning, stacklevel=2)


def _priced_as(model: str) -> str:
    try:
        return model_info(model).name
    except UnknownModelError:
        _warn_once(f"model:{model}", f"helpers.spend: no price for model {model!r} in helpers/models.py; "
                   f"its tokens are metered at {DEFAULT_MODEL} prices.")
        return DEFAULT_MODEL


def _tokens(usage: Mapping[str, Any]) -> tuple[int, int, int] | None:
    """(prompt, completion, cached) from Chat Completions or Responses API usage."""
    if "prompt_tokens" in usage:
        prompt, completion = usage.get("prompt_tokens"), usage.get("completion_tokens")
        details = usage.get("prompt_tokens_details")
    elif "input_tokens" in usage:
        prompt, completion = usage.get("input_tokens"), usage.get("output_tokens")
        details = usage.get("input_tokens_details")
    else:
        return None
    cached = details.get("cached_tokens") if isinstance(details, Mapping) else 0
    prompt, completion, cached = (int(x or 0) for x in (prompt, completion, cached))
    return prompt, completion, min(cached, prompt)


def charge_for_usage(model: str, usage: Mapping[str, Any]) -> Charge | None:
    counts = _tokens(usage)
    if counts is None:
        return None
    prompt, completion, cached = counts
    priced = _priced_as(model)
    # The same sum as pricing.usage_cost(model, usage), made safe for partial usage objects.
    cost = estimate_cost(priced, prompt, completion, cached)
    return Charge(model, priced, prompt, completion, cached, cost, estimated=False)


def _sse_events(text: str) -> Iterator[Any]:
    for line in text.splitlines():
        if line.startswith("data:"):
            data = line[5:].strip()
            if data and data != "[DONE]":
                try:
                    yield json.loads(data)
                except ValueError:
                    continue


def _streamed_text(event: Mapping[str, Any]) -> Iterator[str]:
    """The generated text in one chunk: content, refusals, reasoning text, tool arguments."""
    for choice in event.get("choices") or []:
        delta = choice.get("delta") if isinstance(choice, Mapping) else None
        if not isinstance(delta, Mapping):
            continue
        for key in ("content", "refusal", "reasoning_content", "reasoning"):
            if isinstance(delta.get(key), str):
                yield delta[key]
        calls = list(delta.get("tool_calls") or [])
        if isinstance(delta.get("function_call"), Mapping):
            calls.append({"function": delta["function_call"]})
        for call in calls:
            function = call.get("function") if isinstance(call, Mapping) else None
            if isinstance(function, Mapping):
                for key in ("name", "arguments"):
                    if isinstance(function.get(key), str):
                        yield function[key]


@dataclass
class _Call:
    """What the meter needs to know about a request."""

    model: str | None
    messages: list[Any] | None

    @classmethod
    def of(cls, request: httpx2.Request) -> _Call:
        try:
            body = json.loads(request.content or b"null")
        except (httpx2.RequestNotRead, ValueError, UnicodeDecodeError):
            body = None
        if not isinstance(body, dict):
            return cls(None, None)
        model = body.get("model") if isinstance(body.get("model"), str) else None
        messages = body.get("messages") if isinstance(body.get("messages"), list) else None
        return cls(model, messages)

    def charge(self, body: bytes, event_stream: bool) -> Charge | None:
        text = body.decode("utf-8", "replace")
        if not event_stream:
            try:
                data = json.loads(text)
            except ValueError:
                return None
            if not isinstance(data, dict) or not isinstance(data.get("usage"), Mapping):
                return None
            return charge_for_usage(str(data.get("model") or self.model), data["usage"])
        model, usage, pieces = self.model, None, []
        for event in _sse_events(text):
            if not isinstance(event, dict):
                continue
            model = event.get("model") if isinstance(event.get("model"), str) else model
            if isinstance(event.get("usage"), Mapping):
                usage = event["usage"]
            elif isinstance(event.get("response"), Mapping) and isinstance(event["response"].get("usage"), Mapping):
                usage = event["response"]["usage"]  # Responses API: response.completed
            pieces.extend(_streamed_text(event))
        if model is None:
            return None
        if usage is not None:
            return charge_for_usage(model, usage)
        if self.messages is None and not pieces:
            return None
        # No usage chunk (include_usage was not asked for): count the tokens here.
        priced = _priced_as(model)
        messages = [m for m in self.messages or [] if isinstance(m, Mapping)]
        prompt = count_message_tokens(messages, model, fallback="o200k_base") if messages else 0
        completion = count_tokens("".join(pieces), model, fallback="o200k_base")
        return Charge(model, priced, prompt, completion, 0, estimate_cost(priced, prompt, completion), True)


class _MeteredStream(httpx2.SyncByteStream):
    """Passes the response bytes through unchanged, keeping a copy to read at the end."""

    def __init__(self, inner: httpx2.SyncByteStream, done: Callable[[bytes, bool], None]) -> None:
        self._inner, self._done = inner, done
        self._parts: list[bytes] = []
        self._size = 0
        self._finished = False

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self._inner:
            if self._size <= MAX_BODY:
                self._parts.append(chunk)
                self._size += len(chunk)
            yield chunk
        self._finish()

    def close(self) -> None:
        try:
            self._inner.close()
        finally:
            self._finish()

    def _finish(self) -> None:
        if not self._finished:
            self._finished = True
            self._done(b"".join(self._parts), self._size > MAX_BODY)


class SpendTransport(httpx2.BaseTransport):
    """Meters every response of ``inner`` and refuses requests once the cap is reached.

    ``cap`` returns the cap in USD or None (no cap); it is asked before each request,
    so a changed setting applies at once. If it raises ValueError the request is refused
    with that message, since a cap that cannot be read cannot protect anything.
    """

    def __init__(self, inner: httpx2.BaseTransport,
                 cap: Callable[[], float | None] = cap_from_env,
                 cap_text: Callable[[], str | None] = lambda: os.environ.get(CAP_VARIABLE)) -> None:
        self.inner, self.cap, self.cap_text = inner, cap, cap_text

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        if request.method != "POST":  # listing models and the like costs nothing
            return self.inner.handle_request(request)
        try:
            cap = self.cap()
        except ValueError as error:
            return refusal(request, str(error))
        total = spent()
        if cap is not None and total >= cap:
            text = self.cap_text()
            return refusal(request, cap_message(total, cap, text.strip() if text else None))

        call = _Call.of(request)
        response = self.inner.handle_request(request)
        if not 200 <= response.status_code < 300:
            return response
        event_stream = "text/event-stream" in response.headers.get("content-type", "")
        encoding = response.headers.get("content-encoding")

        def done(raw: bytes, truncated: bool) -> None:
            self._meter(call, raw, truncated, event_stream, encoding)

        try:
            body = response.content  # already in memory (e.g. the offline model's JSON replies)
        except httpx2.ResponseNotRead:
            response.stream = _MeteredStream(response.stream, done)
        else:
            self._meter(call, body, False, event_stream, None)
        return response

    def close(self) -> None:
        self.inner.close()

    @staticmethod
    def _meter(call: _Call, raw: bytes, truncated: bool, event_stream: bool, encoding: str | None) -> None:
        """Price one response. Never raises: metering must not break a call."""
        try:
            body = raw
            if encoding and encoding.strip().lower() != "identity" and not truncated:
                # The transport sees the bytes before the client decodes them (gzip, ...).
                body = httpx2.Response(200, headers={"content-encoding": encoding}, content=raw).content
            charge = None if truncated else call.charge(body, event_stream)
        except Exception as error:  # noqa: BLE001 - any surprise here must not reach the caller
            _warn_once(f"error:{type(error).__name__}", f"helpers.spend: could not read the cost of a "
                       f"response ({type(error).__name__}: {error}); it is not metered.")
            return
        if charge is not None:
            record(charge)
        elif truncated:
            _warn_once("truncated", "helpers.spend: a response too large to read was not metered.")


def metered(transport: httpx2.BaseTransport, **kwargs: Any) -> SpendTransport:
    """``transport`` behind the spend meter (see SpendTransport for the options)."""
    return SpendTransport(transport, **kwargs)
