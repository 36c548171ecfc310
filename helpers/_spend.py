"""A spend meter and an optional spend cap for this kernel.

Every client from ``helpers.client`` sends its requests through ``SpendTransport``
(``AsyncSpendTransport`` for ``openai.AsyncOpenAI``), an ``httpx2`` transport wrapped
around the real one. Plain calls, streams, ``with_raw_response`` and
``with_streaming_response`` all pass through it, so all are metered the same way.

Before a request is sent, the meter *reserves* the most it can cost:

    prompt tokens counted here with tiktoken (content parts, tools and schemas included)
    + max_completion_tokens (or max_tokens, else the model's max output) × n
    priced at the model's row in helpers.models (long-context tier included; the prompt
    at the higher of its input and cache-write prices).

With a cap set (``COURSE_SPEND_CAP_USD``, e.g. ``0.50``) a request whose reservation,
added to what is spent and what calls still running have reserved, would pass the cap is
answered here without being sent: HTTP 429 ``insufficient_quota``, marked not to be
retried, which the SDK raises as ``openai.RateLimitError``. The check and the reservation
happen under one lock, so concurrent calls and open streams cannot slip past it together.

When the response is done the reservation is replaced by what the call really cost:

* its ``usage`` (a JSON reply, or the last chunk of a stream with
  ``stream_options={"include_usage": True}``), priced by ``helpers.pricing.usage_cost``.
  The offline model's JSON replies tell their model and usage with the response
  (``helpers._offline.USAGE_EXTENSION``), so their bodies are not parsed a second time;
* without ``usage`` (a stream without include_usage, a server that omits it) the tokens
  are counted here: the prompt, each choice's visible text, and for a reasoning model its
  hidden tokens, which no response shows. For those the meter charges the family's
  ``completion_overhead`` per finished choice plus ``helpers._offline.REASONING_TOKENS`` at
  the request's effort (the offline model's figures: a plausible middle, not a bound),
  and never more than the choice's budget. A choice cut by ``finish_reason="length"``
  used its whole budget, so it is charged exactly that. Why not the whole reservation:
  with no max_completion_tokens that is 128,000 tokens per choice, hundreds of times
  what a short reply costs, and the cap would stop a lesson after a few streams.
* a stream holds its reservation until it is read to the end or closed; one abandoned
  half way (closed early, or garbage-collected) is charged for what arrived, and at least
  its prompt (plus the reasoning estimate), since the server accepted it.
* a 2xx answer that is no completion at all (a captive portal's page) costs nothing; one
  that cannot be read (over 16 MB, or malformed usage) is charged its reservation.

A model the table lists as shut down (lesson 01 shows its 404) reserves only its prompt.
A model missing from helpers/models.py cannot be priced. Without a cap its calls go out and
are recorded at $0 with a warning. With a cap the meter first asks the server about it
(``GET /models/{name}``, which costs nothing): a model the server does not have (a typo) gets
the API's own 404, ``openai.NotFoundError``, as it would without a cap; a model the server
serves but the table cannot price is refused (the cap could not hold for it).
Costs are estimates at the table's list prices; the offline model's calls are metered at
what the same calls would cost for real.

``COURSE_LIVE_MAX_COMPLETION_TOKENS`` (read from the environment when a client is made; set
by ``python3 course.py test --live`` for its lesson kernels, not meant for .env): a Chat
Completions request that names no ``max_completion_tokens`` (nor ``max_tokens``) is sent
with that many, capped at the model's own maximum. Its reservation is then that budget, not
the model's whole output limit (128,000 tokens), so a small cap lets a whole course run.
"""

from __future__ import annotations

import collections
import difflib
import itertools
import json
import math
import os
import threading
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple
from urllib.parse import quote

import httpx2

from ._offline import REASONING_TOKENS, USAGE_EXTENSION
from .models import EFFORTS, MODELS, ModelInfo, UnknownModelError, model_info
from .pricing import estimate_cost, read_usage, usd
from .tokens import count_message_tokens, count_tokens

CAP_VARIABLE = "COURSE_SPEND_CAP_USD"
# The live check's completion budget for requests that name none (see the module's notes).
BUDGET_VARIABLE = "COURSE_LIVE_MAX_COMPLETION_TOKENS"
MAX_BODY = 16 * 2**20  # bytes of one response kept for reading its usage
FALLBACK_ENCODING = "o200k_base"  # for counting the tokens of a model outside the table

# The (model, usage) a transport may tell with a JSON reply (helpers._offline.USAGE_EXTENSION).
Told = tuple[str, Mapping[str, Any]] | None
# A cap given as a number, or (older callers) as a function read before each request.
CapSetting = float | None | Callable[[], float | None]
CapText = str | None | Callable[[], str | None]


class SpendWarning(UserWarning):
    """A cost could not be read exactly (unknown model, unreadable response)."""


class Charge(NamedTuple):  # a record like a frozen dataclass, and quicker to make: one per call
    """What one call cost, as metered."""

    model: str  # the model the response named (or the request asked for)
    priced_as: str | None  # the row of helpers.models used for the price; None: no price known, cost 0
    prompt_tokens: int
    completion_tokens: int  # reasoning tokens included
    cached_tokens: int
    cost: float  # USD
    estimated: bool  # True: tokens counted here, not read from the response's usage
    cache_write_tokens: int = 0


@dataclass(frozen=True)
class Estimate:
    """The most one request can cost: what the meter reserves before sending it."""

    model: str  # as the request names it
    priced_as: str | None  # None: a model without a price in helpers/models.py
    prompt_tokens: int  # counted here
    completion_tokens: int  # the budget of one choice (reasoning included)
    n: int  # choices asked for
    effort: str | None  # the reasoning effort in force (None: not a reasoning model)
    cost: float  # USD; 0 when priced_as is None


class _Ticket(NamedTuple):  # a tuple: one is made for every request
    """One reservation held for a call in flight."""

    number: int
    generation: int  # reset() starts a new generation; older tickets settle to nothing


_lock = threading.Lock()
_charges: list[Charge] = []
_total = 0.0
_open: dict[int, _Call] = {}  # ticket number -> a call in flight, holding its reservation
_numbers = itertools.count(1)
_generation = 0
# Settlements waiting for the lock: a garbage-collected stream may settle while this very
# thread holds the lock, so settling never blocks for long; readers apply the queue first.
_pending: collections.deque[tuple[_Ticket | None, Charge | None]] = collections.deque()
_warned: set[str] = set()


# ---------------------------------------------------------------- the meter


def _apply_pending() -> None:
    """Apply queued settlements. The caller holds _lock."""
    global _total
    while _pending:  # only lock holders take from it, so it cannot empty under us
        ticket, charge = _pending.popleft()
        if ticket is not None and (ticket.generation != _generation or _open.pop(ticket.number, None) is None):
            continue  # reserved before reset(), or settled already
        if charge is not None:
            _charges.append(charge)
            _total += charge.cost


def _settle(ticket: _Ticket | None, charge: Charge | None, wait: bool = True) -> None:
    """Release ``ticket`` and record ``charge`` in its place (either may be None)."""
    _pending.append((ticket, charge))
    # From a finaliser this thread may already hold the lock: never wait forever.
    if _lock.acquire(True, 0.1 if wait else 0):
        try:
            _apply_pending()
        finally:
            _lock.release()


def spent() -> float:
    """USD this process (this kernel) has spent so far, as estimated."""
    with _lock:
        _apply_pending()
        return _total


def reserved() -> float:
    """USD held for calls still in flight (sent, or streams not yet read to the end)."""
    with _lock:
        _apply_pending()
        return _held()


def _held() -> float:
    """USD reserved by calls in flight. The caller holds _lock."""
    return sum(call.held() for call in _open.values())


def charges() -> list[Charge]:
    """Every metered call of this process, oldest first."""
    with _lock:
        _apply_pending()
        return list(_charges)


def reset() -> None:
    """Start counting from zero again (the cap then allows as much again). Calls still in
    flight release their reservations and are not charged."""
    global _total, _generation
    with _lock:
        _pending.clear()
        _charges.clear()
        _open.clear()
        _total = 0.0
        _generation += 1


def record(charge: Charge) -> None:
    """Add one call's cost to the total."""
    _settle(None, charge)


def summary() -> dict[str, Any]:
    """Totals as plain data: calls, tokens and USD (used by tools/course_cost.py)."""
    items = charges()
    return {
        "calls": len(items),
        "estimated_calls": sum(c.estimated for c in items),
        "unpriced_calls": sum(c.priced_as is None for c in items),
        "prompt_tokens": sum(c.prompt_tokens for c in items),
        "cached_tokens": sum(c.cached_tokens for c in items),
        "cache_write_tokens": sum(c.cache_write_tokens for c in items),
        "completion_tokens": sum(c.completion_tokens for c in items),
        "cost_usd": sum(c.cost for c in items),
        "reserved_usd": reserved(),
        "charges": [c._asdict() for c in items],
    }


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
        raise ValueError(
            f"{CAP_VARIABLE} must be an amount in US dollars such as 0.50, not {text!r}. "
            "Fix it or unset it, then restart the kernel."
        )
    return value


def _check_cap(cap: object) -> float | None:
    if cap is None:
        return None
    if isinstance(cap, bool) or not isinstance(cap, (int, float)) or not math.isfinite(cap) or cap < 0:
        raise ValueError(f"the spend cap must be an amount in US dollars such as 0.50 (or None), not {cap!r}")
    return float(cap)


def parse_budget(text: str | None) -> int | None:
    """The completion budget from COURSE_LIVE_MAX_COMPLETION_TOKENS; None when unset or empty."""
    if text is None or not text.strip():
        return None
    try:
        value = int(text.strip())
    except ValueError:
        value = 0
    if value < 1:
        raise ValueError(
            f"{BUDGET_VARIABLE} must be a whole number of tokens such as 4096, not {text!r}. "
            "Fix it or unset it (only the live check sets it)."
        )
    return value


RAISE_CAP = (
    f"raise {CAP_VARIABLE} (or unset it) in .env or the environment and make a new client with "
    "get_client(), or restart the kernel"
)


def cap_message(estimate: Estimate, total: float, held: float, cap: float, cap_text: str | None = None) -> str:
    """Why a call was refused, and what to do about it. Every such message starts with
    "Course spend cap reached: this call was not sent" (tools/live_check.py looks for it)."""
    shown = cap_text if cap_text is not None else f"{cap:g}"
    so_far = f"this kernel has spent about {usd(total)}"
    if held:
        so_far += f" and {usd(held)} is reserved by calls still running"
    head = "Course spend cap reached: this call was not sent"
    if total >= cap:
        return f"{head}; {so_far}, of {CAP_VARIABLE}={shown}. To go on, {RAISE_CAP}."
    times = f" × n={estimate.n}" if estimate.n > 1 else ""
    message = (
        f"{head}, as it could cost up to {usd(estimate.cost)} at {estimate.priced_as} prices "
        f"({estimate.prompt_tokens:,} prompt tokens + up to {estimate.completion_tokens:,} completion tokens{times}) "
        f"and {so_far}: together that could pass {CAP_VARIABLE}={shown}. "
    )
    fits = _completion_tokens_that_fit(estimate, cap - total - held)
    if fits:
        smaller_n = " or a smaller n" if estimate.n > 1 else ""
        return message + (
            f"Pass max_completion_tokens={fits:,} or less{smaller_n} (a reasoning model thinks within that "
            f"budget too), or {RAISE_CAP}."
        )
    if held:
        return message + f"Wait for the calls still running to finish (read or close open streams), or {RAISE_CAP}."
    return message + f"To go on, {RAISE_CAP}."


def _completion_tokens_that_fit(estimate: Estimate, room: float) -> int:
    """The largest max_completion_tokens below the request's budget whose reservation fits in ``room`` USD."""
    if estimate.priced_as is None or room <= 0:
        return 0
    info = model_info(estimate.priced_as)
    tier = info.long_context
    long = tier is not None and estimate.prompt_tokens > tier.threshold
    rate = info.output_price / 1e6 * (tier.output_multiplier if long and tier else 1.0) * estimate.n
    prompt_cost = _worst_cost(estimate.priced_as, estimate.prompt_tokens, 0)
    fits = min(math.floor((room - prompt_cost) / rate), estimate.completion_tokens - 1)
    # rounding: step down until the reservation really fits
    while fits > 0 and _worst_cost(estimate.priced_as, estimate.prompt_tokens, fits * estimate.n) > room:
        fits -= 1
    return max(fits, 0)


def unknown_model_message(model: str, served: bool | None = None) -> str:
    """Why a model without a price was refused. ``served``: True when the server said it has
    the model (so it is no typo), None when the server could not say."""
    close = difflib.get_close_matches(model, MODELS, n=1)
    typo = f" (did you mean {close[0]!r}?)" if close and not served else ""
    served_note = " (the server serves it)" if served else ""
    return (
        f"Course spend cap: this call was not sent. The model {model!r}{typo} has no price in "
        f"helpers/models.py{served_note}, so with {CAP_VARIABLE} set the cap could not hold for it. Use a model from "
        "helpers.models.MODELS, or add a row for it to helpers/models.py (name, rules, context window, "
        "max output tokens, prices per 1M tokens from its pricing page), or unset the cap."
    )


def not_found(request: httpx2.Request, model: str, headers: Mapping[str, str] | None = None) -> httpx2.Response:
    """The API's answer to a model it does not have: a 404 the SDK raises as openai.NotFoundError
    (wording and fields as in the recorded reply kept in tests/data/realtraffic.json)."""
    message = f"The model `{model[:200]}` does not exist or you do not have access to it."
    body = {"error": {"message": message, "type": "invalid_request_error", "param": None, "code": "model_not_found"}}
    return httpx2.Response(404, json=body, headers=dict(headers or {}), request=request)


def refusal(request: httpx2.Request, message: str) -> httpx2.Response:
    """The API's own shape for a quota error; ``x-should-retry: false`` stops the SDK's retries."""
    body = {"error": {"message": message, "type": "insufficient_quota", "param": None, "code": "insufficient_quota"}}
    return httpx2.Response(429, json=body, headers={"x-should-retry": "false"}, request=request)


# ---------------------------------------------------------------- the worst case


def _warn_once(key: str, message: str) -> None:
    if key not in _warned:
        _warned.add(key)
        warnings.warn(message, SpendWarning, stacklevel=2)


def _row(model: object) -> ModelInfo | None:
    if not isinstance(model, str):
        return None
    try:
        return model_info(model)
    except UnknownModelError:
        return None


def _json_text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def _countable(message: Any) -> dict[str, str]:
    """A message with every field as text, so the counting rule sees all of it: text parts
    joined; images, audio and tool calls as their JSON (their real cost can be higher:
    the settlement uses the response's usage)."""
    if not isinstance(message, Mapping):
        return {"content": _json_text(message)}
    out: dict[str, str] = {}
    for key, value in message.items():
        if isinstance(value, str):
            out[key] = value
        elif key == "content" and isinstance(value, list):
            out[key] = "".join(
                part["text"]
                if isinstance(part, Mapping) and part.get("type") == "text" and isinstance(part.get("text"), str)
                else _json_text(part)
                for part in value
            )
        elif value is not None:
            out[key] = _json_text(value)
    return out


def _prompt_tokens(body: Mapping[str, Any], model: str) -> int:
    messages = body.get("messages")
    if not isinstance(messages, list):
        messages = [] if messages is None else [messages]
    total = count_message_tokens([_countable(m) for m in messages], model, fallback=FALLBACK_ENCODING)
    for key in ("tools", "functions", "response_format"):
        if body.get(key) is not None:  # definitions and schemas are part of the prompt too
            value = body[key]
            total += count_tokens(
                value if isinstance(value, str) else _json_text(value), model, fallback=FALLBACK_ENCODING
            )
    return total


def _positive_int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 1 else None


def _worst_cost(priced_as: str, prompt: int, completion: int) -> float:
    # The prompt may be read as plain input or written to the cache: reserve the dearer.
    return max(
        estimate_cost(priced_as, prompt, completion),
        estimate_cost(priced_as, prompt, completion, cache_write_tokens=prompt),
    )


def _estimate_of(content: bytes | None) -> Estimate | None:
    """The worst case of a request body as sent, or None if it names no model or cannot be read."""
    try:
        body = json.loads(content or b"null")
        if not isinstance(body, dict) or not isinstance(body.get("model"), str):
            return None  # names no model, so generates nothing (the API answers 400)
        return worst_case(body)
    except Exception:  # noqa: BLE001 - counting must not break a call without a cap
        return None


def _hold(call: _Call, locked: bool = False) -> _Call:
    """Give ``call`` a ticket in _open (``locked``: the caller holds _lock already)."""
    if locked:
        call.ticket = _Ticket(next(_numbers), _generation)
        _open[call.ticket.number] = call
        return call
    with _lock:
        call.ticket = _Ticket(next(_numbers), _generation)
        _open[call.ticket.number] = call
    return call


def worst_case(body: Mapping[str, Any]) -> Estimate:
    """The most the Chat Completions request ``body`` can cost."""
    model = body.get("model")
    if not isinstance(model, str):
        raise TypeError(f"the request names no model (model={model!r})")
    info = _row(model)
    prompt = _prompt_tokens(body, info.name if info else model)
    limit = next((body[k] for k in ("max_completion_tokens", "max_tokens") if body.get(k) is not None), None)
    n = _positive_int(body.get("n")) or 1
    if info is None:
        return Estimate(model, None, prompt, _positive_int(limit) or 0, n, None, 0.0)
    # A larger limit than the model's is refused by the API, so the model's maximum bounds it,
    # and no reply can outgrow what the context window leaves after the prompt.
    budget = min(
        _positive_int(limit) or info.max_output_tokens, info.max_output_tokens, max(info.context_window - prompt, 0)
    )
    if info.retired:
        budget = 0  # shut down by the course date: the API answers 404 and generates nothing
    effort = None
    if info.reasoning:
        asked = body.get("reasoning_effort")
        effort = asked if asked in EFFORTS else info.rules.default_effort
    return Estimate(model, info.name, prompt, budget, n, effort, _worst_cost(info.name, prompt, budget * n))


# ---------------------------------------------------------------- reading what it cost


def _priced_as(model: str, fallback: str | None = None) -> str | None:
    """The table row that prices ``model``: its own, else the request's (a server may answer
    under another name), else None with a warning."""
    info = _row(model)
    if info is not None:
        return info.name
    if fallback is not None:
        return fallback
    _warn_once(
        f"model:{model}",
        f"Spend meter: no price for model {model!r} in helpers/models.py, so its "
        f"calls are recorded at $0. With {CAP_VARIABLE} set they are refused; to price them, add a row "
        "for the model to helpers/models.py.",
    )
    return None


def charge_for_usage(model: str, usage: Any, priced_as: str | None = None) -> Charge | None:
    """The Charge for a response's ``usage``, a dict or the SDK's object (None if it is not one)."""
    mapping = type(usage) is dict or isinstance(usage, Mapping)
    if (usage.get("prompt_tokens") if mapping else getattr(usage, "prompt_tokens", None)) is None:
        return None
    tokens = read_usage(usage)
    prompt, completion = int(tokens["prompt"]), int(tokens["completion"])
    cached, written = int(tokens["cached"]), int(tokens["cache_write"])
    row = _priced_as(model, priced_as)
    cost = 0.0 if row is None else estimate_cost(row, prompt, completion, cached, written)
    return Charge(model, row, prompt, completion, cached, cost, estimated=False, cache_write_tokens=written)


@dataclass
class _Choice:
    """What arrived of one choice."""

    text: list[str] = field(default_factory=list)
    finish: str | None = None


_TEXT_KEYS = ("content", "refusal", "reasoning_content", "reasoning")


def _message_text(message: Mapping[str, Any]) -> Iterator[str]:
    """The generated text of a message or a stream delta: content, refusal, reasoning text, tool calls."""
    for key in _TEXT_KEYS:
        value = message.get(key)
        if isinstance(value, str):
            yield value
        elif key == "content" and isinstance(value, list):
            yield from (p["text"] for p in value if isinstance(p, Mapping) and isinstance(p.get("text"), str))
    calls = list(message.get("tool_calls") or [])
    if isinstance(message.get("function_call"), Mapping):
        calls.append({"function": message["function_call"]})
    for call in calls:
        function = call.get("function") if isinstance(call, Mapping) else None
        if isinstance(function, Mapping):
            yield from (function[k] for k in ("name", "arguments") if isinstance(function.get(k), str))


def _add_choices(seen: dict[int, _Choice], choices: Any, key: str) -> None:
    for position, choice in enumerate(choices if isinstance(choices, list) else ()):
        if not isinstance(choice, Mapping):
            continue
        index = choice.get("index")
        entry = seen.setdefault(index if isinstance(index, int) else position, _Choice())
        message = choice.get(key)
        if isinstance(message, Mapping):
            content = message.get("content")
            if len(message) == 1 and isinstance(content, str):
                entry.text.append(content)  # most stream deltas: one piece of content
            else:
                entry.text.extend(_message_text(message))
        if isinstance(choice.get("finish_reason"), str):
            entry.finish = choice["finish_reason"]


def _sse_events(text: str) -> list[Any]:
    """The JSON of each ``data:`` line, read in one pass when every line is JSON."""
    data = [line[5:].strip() for line in text.splitlines() if line.startswith("data:")]
    data = [d for d in data if d and d != "[DONE]"]
    try:
        return json.loads("[" + ",".join(data) + "]")
    except ValueError:  # a broken line: read them one by one, skipping what is not JSON
        events = []
        for d in data:
            try:
                events.append(json.loads(d))
            except ValueError:
                continue
        return events


def _read(body: bytes, event_stream: bool) -> tuple[str | None, Mapping[str, Any] | None, dict[int, _Choice]]:
    """(model, usage, choices) of a response body, each None or empty where absent."""
    model, usage, seen = None, None, {}
    if not event_stream:
        try:
            data = json.loads(body)  # bytes: no decoded copy first
        except ValueError:  # also bytes that are not UTF-8: read them with replacement characters
            try:
                data = json.loads(body.decode("utf-8", "replace"))
            except ValueError:
                return None, None, {}
        if not isinstance(data, dict):
            return None, None, {}
        usage = data.get("usage") if isinstance(data.get("usage"), dict) else None
        if usage is None:  # the choices are only read to count them when usage is missing
            _add_choices(seen, data.get("choices"), "message")
        return (data["model"] if isinstance(data.get("model"), str) else None), usage, seen
    for event in _sse_events(body.decode("utf-8", "replace")):
        if not isinstance(event, dict):
            continue
        if isinstance(event.get("model"), str):
            model = event["model"]
        if isinstance(event.get("usage"), dict):
            usage = event["usage"]
        if event.get("choices"):
            _add_choices(seen, event["choices"], "delta")
    return model, usage, seen


def counted_charge(estimate: Estimate, model: str, choices: Mapping[int, _Choice]) -> Charge:
    """A response without usage, charged from the tokens counted here (see the module's notes)."""
    info = _row(estimate.priced_as)
    counting = estimate.priced_as or model
    hidden = REASONING_TOKENS.get(estimate.effort or "none", 0) if info and info.reasoning else 0
    overhead = info.rules.completion_overhead if info else 0
    budget = estimate.completion_tokens or None
    completion = 0
    for choice in choices.values():
        if choice.finish == "length" and budget:
            tokens = budget  # a cut reply used its whole budget
        else:
            tokens = count_tokens("".join(choice.text), counting, fallback=FALLBACK_ENCODING) + hidden
            tokens += overhead if choice.finish else 0
        completion += min(tokens, budget) if budget else tokens
    row = _priced_as(model, estimate.priced_as)
    cost = 0.0 if row is None else estimate_cost(row, estimate.prompt_tokens, completion)
    return Charge(model, row, estimate.prompt_tokens, completion, 0, cost, estimated=True)


def stream_charge(body: Mapping[str, Any], text: str) -> Charge:
    """What a stream of the request ``body`` that delivered ``text`` and no usage is charged (one
    stopped early, say): the prompt, the text, and a reasoning model's hidden tokens."""
    return counted_charge(worst_case(body), str(body["model"]), {0: _Choice(text=[text])})


class _Call:
    """A request on its way: what it may cost, and the reservation it holds.

    Without a cap nothing waits for the estimate, so it is worked out only when asked for
    (by ``reserved()``, a capped client's check, or a response without usage): a call
    with its usage in the reply then never counts its prompt here."""

    def __init__(self, content: bytes | None, estimate: Estimate | None = None, known: bool = False) -> None:
        self._content = content
        self._estimate = estimate
        self._known = known or content is None
        self.ticket: _Ticket | None = None

    @property
    def estimate(self) -> Estimate | None:
        """None: the request names no model, or its cost cannot be worked out (nothing to price)."""
        if not self._known:
            self._estimate, self._known = _estimate_of(self._content), True
        return self._estimate

    def held(self) -> float:
        """USD this call reserves."""
        e = self.estimate
        return e.cost if e is not None else 0.0

    def charge(self, body: bytes, event_stream: bool, told: Told = None) -> Charge | None:
        """What the response ``body`` cost. ``told``: the (model, usage) its transport says it
        carries (the offline model's JSON replies), read instead of parsing the body again."""
        if told is not None:
            (model, usage), choices = told, {}
        else:
            model, usage, choices = _read(body, event_stream)
        if usage is not None and model is not None and _row(model) is not None:
            return charge_for_usage(model, usage)  # the usual case: priced from usage, nothing counted
        estimate = self.estimate
        model = model or (estimate.model if estimate else None)
        if model is None:
            return None
        if usage is not None:
            return charge_for_usage(model, usage, estimate.priced_as if estimate else None)
        if estimate is None or not (choices or event_stream):
            return None  # not a completion (an error page, say): nothing was generated
        # A stream the server accepted has read the prompt (and a reasoning model has started
        # thinking) even if no choice arrived before it was dropped.
        return counted_charge(estimate, model, choices or {0: _Choice()})

    def worst_charge(self) -> Charge | None:
        """The reservation as a charge: for a response that cannot be read."""
        e = self.estimate
        if e is None or e.priced_as is None:
            return None
        return Charge(e.model, e.priced_as, e.prompt_tokens, e.completion_tokens * e.n, 0, e.cost, estimated=True)

    def settle(
        self,
        raw: bytes,
        truncated: bool,
        event_stream: bool,
        encoding: str | None,
        wait: bool = True,
        told: Told = None,
    ) -> None:
        """Price the response and release the reservation. Never raises: metering must not break a call."""
        charge = None
        try:
            if truncated:
                charge = self.worst_charge()
                _warn_once(
                    "truncated",
                    "Spend meter: a response too large to read was charged its reservation (the most it could cost).",
                )
            else:
                body = raw
                if encoding and encoding.strip().lower() != "identity":
                    # The transport sees the bytes before the client decodes them (gzip, ...).
                    body = httpx2.Response(200, headers={"content-encoding": encoding}, content=raw).content
                charge = self.charge(body, event_stream, told)
        except Exception as error:  # noqa: BLE001 - any surprise here must not reach the caller
            charge = self.worst_charge()
            _warn_once(
                f"error:{type(error).__name__}",
                f"Spend meter: could not read the cost of a response "
                f"({type(error).__name__}: {error}); it is charged its reservation.",
            )
        finally:
            _settle(self.ticket, charge, wait)


# ---------------------------------------------------------------- the transports


class _Tap:
    """A copy of a response's bytes, read by the meter once the response is done."""

    def __init__(self, done: Callable[[bytes, bool, bool], None]) -> None:
        self._done = done
        self._parts: list[bytes] = []
        self._size = 0
        self._finished = False

    def add(self, chunk: bytes) -> None:
        if self._size <= MAX_BODY:
            self._parts.append(chunk)
        self._size += len(chunk)

    def finish(self, wait: bool = True) -> None:
        if not self._finished:
            self._finished = True
            self._done(b"".join(self._parts), self._size > MAX_BODY, wait)


class _MeteredStream(httpx2.SyncByteStream):
    """Passes the response bytes through unchanged, settling when they end, stop or are dropped."""

    def __init__(self, inner: httpx2.SyncByteStream, tap: _Tap) -> None:
        self._inner, self._tap = inner, tap

    def __iter__(self) -> Iterator[bytes]:
        try:
            for chunk in self._inner:
                self._tap.add(chunk)
                yield chunk
        finally:  # also when the reader stops half way and the iterator is closed
            self._tap.finish()

    def close(self) -> None:
        try:
            self._inner.close()
        finally:
            self._tap.finish()

    def __del__(self) -> None:  # a stream nobody closed: settle with what arrived
        try:
            self._tap.finish(wait=False)
        except Exception:  # noqa: BLE001, S110 - a finaliser must not raise (e.g. at interpreter exit)
            pass


class _AsyncMeteredStream(httpx2.AsyncByteStream):
    """The async counterpart of _MeteredStream."""

    def __init__(self, inner: httpx2.AsyncByteStream | httpx2.SyncByteStream, tap: _Tap) -> None:
        self._inner, self._tap = inner, tap

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            if isinstance(self._inner, httpx2.AsyncByteStream):
                async for chunk in self._inner:
                    self._tap.add(chunk)
                    yield chunk
            else:  # a sync body (e.g. a mock transport's generator): still usable from async code
                for chunk in self._inner:
                    self._tap.add(chunk)
                    yield chunk
        finally:
            self._tap.finish()

    async def aclose(self) -> None:
        try:
            if isinstance(self._inner, httpx2.AsyncByteStream):
                await self._inner.aclose()
            else:
                self._inner.close()
        finally:
            self._tap.finish()

    def __del__(self) -> None:
        try:
            self._tap.finish(wait=False)
        except Exception:  # noqa: BLE001, S110 - a finaliser must not raise
            pass


class Unpriced(NamedTuple):
    """A request under a cap for a model the table cannot price: the server is asked whether
    it has the model (``lookup``) before the request is answered (``answer``)."""

    estimate: Estimate

    def lookup(self, request: httpx2.Request) -> httpx2.Request:
        """``GET .../models/{name}`` beside the request's endpoint, with its headers (the key)."""
        path = request.url.path
        base = path.removesuffix("/chat/completions") if path.endswith("/chat/completions") else path.rsplit("/", 1)[0]
        raw = f"{quote(base)}/models/{quote(self.estimate.model, safe='')}".encode()
        if request.url.query:
            raw += b"?" + request.url.query  # e.g. Azure's api-version
        headers = [(k, v) for k, v in request.headers.raw if k.lower() not in (b"content-length", b"content-type")]
        url = request.url.copy_with(raw_path=raw)
        return httpx2.Request("GET", url, headers=headers, extensions=request.extensions)

    def answer(self, request: httpx2.Request, found: httpx2.Response) -> httpx2.Response:
        """What the request gets, now that the server said ``found`` about the model."""
        model = self.estimate.model
        if found.status_code == 404 and _is_api_error(found):
            # No such model: the API's 404, as the request would get without a cap. Nothing is sent.
            kept = {k: v for k, v in found.headers.items() if k.lower() == "x-request-id"}
            return not_found(request, model, kept)
        if found.status_code in (401, 403):
            return httpx2.Response(  # the key is refused: the request would be too, for free
                found.status_code, headers={"content-type": "application/json"}, content=found.content, request=request
            )
        served = True if 200 <= found.status_code < 300 else None
        return refusal(request, unknown_model_message(model, served))


def _is_api_error(response: httpx2.Response) -> bool:
    """True for the API's error shape ({"error": {...}}), not a page a proxy or router answers
    for a route it does not know."""
    try:
        body = json.loads(response.content)
    except (ValueError, UnicodeDecodeError):
        return False
    return isinstance(body, dict) and isinstance(body.get("error"), dict)


class Gate:
    """The cap check and the metering shared by the sync and async transports."""

    def __init__(self, cap: CapSetting, cap_text: CapText) -> None:
        if not callable(cap):
            cap = _check_cap(cap)
        self.cap, self.cap_text = cap, cap_text
        # The live check's budget for requests that name none: only its lesson kernels set it.
        self.budget = parse_budget(os.environ.get(BUDGET_VARIABLE))

    def current_cap(self) -> float | None:
        return _check_cap(self.cap()) if callable(self.cap) else self.cap

    def text(self, cap: float) -> str:
        text = self.cap_text() if callable(self.cap_text) else self.cap_text
        return text.strip() if text else f"{cap:g}"

    def prepare(self, request: httpx2.Request) -> httpx2.Request:
        """``request`` as it is to be sent: with the live check's budget added where it names none."""
        if self.budget is None or not request.url.path.endswith("/chat/completions"):
            return request
        try:
            body = json.loads(request.content or b"null")
        except (ValueError, UnicodeDecodeError):
            return request
        if not isinstance(body, dict) or not isinstance(body.get("model"), str):
            return request
        if any(body.get(name) is not None for name in ("max_completion_tokens", "max_tokens")):
            return request
        info = _row(body["model"])
        body["max_completion_tokens"] = min(self.budget, info.max_output_tokens) if info else self.budget
        headers = [(k, v) for k, v in request.headers.raw if k.lower() != b"content-length"]
        content = json.dumps(body, ensure_ascii=False).encode()
        return httpx2.Request("POST", request.url, headers=headers, content=content, extensions=request.extensions)

    def admit(self, request: httpx2.Request) -> _Call | Unpriced | httpx2.Response:
        """Reserve the request's worst case, or the refusal to answer with instead of sending it
        (or, for a model without a price under a cap, the question to ask the server first)."""
        try:
            cap = self.current_cap()
        except ValueError as error:  # a cap that cannot be read protects nothing
            return refusal(request, str(error))
        if cap is None:
            return _hold(_Call(request.content))  # the estimate is worked out if anyone asks
        try:
            body = json.loads(request.content or b"null")
        except (ValueError, UnicodeDecodeError):
            body = None
        if not isinstance(body, dict) or not isinstance(body.get("model"), str):
            return _Call(None)  # names no model, so generates nothing (the API answers 400)
        try:
            estimate = worst_case(body)
        except Exception as error:  # noqa: BLE001 - a cost that cannot be estimated cannot be capped
            return refusal(
                request,
                f"Course spend cap: this call was not sent, as its cost could not be "
                f"estimated ({type(error).__name__}: {error}).",
            )
        if estimate.priced_as is None:
            return Unpriced(estimate)
        call = _Call(None, estimate, known=True)
        with _lock:
            _apply_pending()
            held = _held()
            if _total + held + estimate.cost > cap:
                return refusal(request, cap_message(estimate, _total, held, cap, self.text(cap)))
            return _hold(call, locked=True)

    @staticmethod
    def watch(
        response: httpx2.Response, call: _Call, wrap: type[_MeteredStream] | type[_AsyncMeteredStream]
    ) -> httpx2.Response:
        """Settle ``call`` on ``response``: now if its body is in memory, else when its stream ends."""
        if not 200 <= response.status_code < 300:
            _settle(call.ticket, None)  # errors cost nothing
            return response
        told = response.extensions.get(USAGE_EXTENSION)
        if told is not None:  # the offline model's JSON reply says what it carries: nothing to read
            call.settle(b"", truncated=False, event_stream=False, encoding=None, told=told)
            return response
        event_stream, encoding = False, None
        for key, value in response.headers.raw:  # one pass for both (every response comes here)
            key = key.lower()
            if key == b"content-type":
                event_stream = b"text/event-stream" in value
            elif key == b"content-encoding":
                encoding = value.decode("latin-1")
        try:
            body = response.content  # already in memory (e.g. the offline model's JSON replies)
        except httpx2.ResponseNotRead:
            tap = _Tap(lambda raw, truncated, wait: call.settle(raw, truncated, event_stream, encoding, wait))
            response.stream = wrap(response.stream, tap)  # type: ignore[arg-type]
        else:
            call.settle(body, False, event_stream, None)  # httpx2 has decoded it already
        return response


def send_metered(
    gate: Gate, request: httpx2.Request, send: Callable[[httpx2.Request], httpx2.Response]
) -> httpx2.Response:
    """``send(request)`` under ``gate``: answered with the cap's refusal, or sent and metered."""
    request.read()
    request = gate.prepare(request)
    call = gate.admit(request)
    if isinstance(call, Unpriced):
        found = send(call.lookup(request))  # a GET: costs nothing, and is not metered
        try:
            found.read()
        finally:
            found.close()
        return call.answer(request, found)
    if isinstance(call, httpx2.Response):
        return call
    try:
        response = send(request)
    except BaseException:
        _settle(call.ticket, None)  # never sent, or no answer: nothing to charge
        raise
    return gate.watch(response, call, _MeteredStream)


async def send_metered_async(
    gate: Gate, request: httpx2.Request, send: Callable[[httpx2.Request], Awaitable[httpx2.Response]]
) -> httpx2.Response:
    """``send_metered`` for ``httpx2.AsyncClient``."""
    await request.aread()
    request = gate.prepare(request)
    call = gate.admit(request)
    if isinstance(call, Unpriced):
        found = await send(call.lookup(request))
        try:
            await found.aread()
        finally:
            await found.aclose()
        return call.answer(request, found)
    if isinstance(call, httpx2.Response):
        return call
    try:
        response = await send(request)
    except BaseException:  # also a cancelled task
        _settle(call.ticket, None)
        raise
    return gate.watch(response, call, _AsyncMeteredStream)


class SpendTransport(httpx2.BaseTransport):
    """Meters every response of ``inner`` and refuses requests that could pass the cap.

    ``cap`` is the cap in USD or None (no cap); a function returning one is accepted too
    (asked before each request; a ValueError from it refuses the request with its message).
    ``cap_text`` is the cap as the user wrote it, for messages.
    """

    def __init__(self, inner: httpx2.BaseTransport, cap: CapSetting = None, cap_text: CapText = None) -> None:
        self.inner = inner
        self.gate = Gate(cap, cap_text)

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        if request.method != "POST":  # listing models and the like costs nothing
            return self.inner.handle_request(request)
        return send_metered(self.gate, request, self.inner.handle_request)

    def close(self) -> None:
        self.inner.close()


class AsyncSpendTransport(httpx2.AsyncBaseTransport):
    """SpendTransport for ``httpx2.AsyncClient`` (``openai.AsyncOpenAI``): the same meter and cap."""

    def __init__(self, inner: httpx2.AsyncBaseTransport, cap: CapSetting = None, cap_text: CapText = None) -> None:
        self.inner = inner
        self.gate = Gate(cap, cap_text)

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        if request.method != "POST":
            return await self.inner.handle_async_request(request)
        return await send_metered_async(self.gate, request, self.inner.handle_async_request)

    async def aclose(self) -> None:
        await self.inner.aclose()
