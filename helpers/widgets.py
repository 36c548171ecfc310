"""Interactive widgets for the lessons: a chat box, a tokenizer playground and a cost
calculator.

    from helpers.widgets import chat_widget, tokenizer_playground, cost_calculator
    chat_widget()             # lessons 02 and 03
    tokenizer_playground()    # lesson 04
    cost_calculator()         # lesson 05

Each widget is a thin view: the logic lives in the plain functions and small dataclasses
below (tested in tests/test_widgets.py), the widget classes only wire them to controls.

In a notebook the chat widget streams each reply in a background thread, so the kernel
stays free to hear its Stop button (Kernel > Interrupt cannot reach a widget's callback).
Its rows wrap on a narrow page instead of squeezing their controls.

They use only ipywidgets APIs common to 7.7 (Colab) and 8 (JupyterLab). Where widgets
cannot render (GitHub, a notebook opened without a kernel) the cell shows the widget's
``repr``: a short, stable summary that claims nothing interactive, such as
``Chat widget (gpt-6-luna, offline): it runs only in a live notebook.``
"""

from __future__ import annotations

import html
import threading
import time
import warnings
from bisect import bisect_right
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import ipywidgets as widgets
import tiktoken

from .chat import Conversation, describe_error
from .models import AS_OF, DEFAULT_MODEL, MODELS, UnknownModelError, lesson_models, model_info
from .offline import REASONING_TOKENS
from .pricing import cost_breakdown, estimate_cost, monthly_cost, usage_cost
from .spend import worst_case
from .tokens import count_tokens, encoding_for

__all__ = [
    "ChatWidget",
    "CostCalculator",
    "ExchangeRate",
    "KRW_RATE",
    "TokenizerPlayground",
    "chat_widget",
    "cost_calculator",
    "tokenizer_playground",
]

# ipywidgets puts repr(widget) in a displayed widget's text/plain and cuts it at 110
# characters (both 7.x and 8.x), so the summaries stay within this length.
REPR_LIMIT = 110


def _fit(text: str, limit: int = REPR_LIMIT) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def _escape(text: str) -> str:
    return html.escape(text, quote=True)


# ====================================================================== tokenizer

ENCODINGS = ("cl100k_base", "o200k_base")
PRESETS: dict[str, str] = {
    "Korean": "아버지가 방에 들어가신다.",
    "English": "Father is going into the room.",
}
# Background colours, cycled token by token (readable on light and dark themes).
TOKEN_COLOURS = (
    "rgba(107, 64, 216, 0.25)",
    "rgba(104, 222, 122, 0.35)",
    "rgba(244, 172, 54, 0.35)",
    "rgba(239, 65, 70, 0.25)",
    "rgba(39, 181, 234, 0.3)",
)
VISIBLE_WHITESPACE = {"\n": "↵", "\t": "⇥", "\r": "␍"}


@dataclass(frozen=True)
class TokenPiece:
    """One token of a text, as the playground shows it.

    ``text`` is the characters the token's bytes belong to. When a token holds only part
    of a character's UTF-8 bytes (common for Korean in cl100k_base), ``partial`` is True
    and ``text`` is the whole character: it then appears in two or more tokens."""

    number: int  # 1-based position: the last number is the token count
    token_id: int
    data: bytes  # the token's own bytes
    text: str
    partial: bool

    @property
    def label(self) -> str:
        """``text`` with whitespace made visible (newline -> ↵, tab -> ⇥)."""
        return "".join(VISIBLE_WHITESPACE.get(ch, ch) for ch in self.text)


def get_encoding(name: str) -> tiktoken.Encoding:
    return tiktoken.get_encoding(name)


def tokenize(text: str, encoding: str) -> list[TokenPiece]:
    """Split ``text`` into the tokens of ``encoding`` (e.g. "cl100k_base")."""
    enc = get_encoding(encoding)
    ids = enc.encode_ordinary(text)
    # Byte offset where each character starts, to map token bytes back to characters.
    starts, offset = [], 0
    for ch in text:
        starts.append(offset)
        offset += len(ch.encode("utf-8"))
    pieces, position = [], 0
    for number, token_id in enumerate(ids, start=1):
        data = enc.decode_single_token_bytes(token_id)
        end = position + len(data)
        first = bisect_right(starts, position) - 1
        last = bisect_right(starts, end - 1)  # one past the character holding the last byte
        char_end = starts[last] if last < len(starts) else offset
        partial = starts[first] != position or char_end != end
        pieces.append(TokenPiece(number, token_id, data, text[first:last], partial))
        position = end
    return pieces


def models_using(encoding: str) -> list[str]:
    """The course's models whose tokenizer is ``encoding``."""
    found = []
    for name in MODELS:
        try:
            if encoding_for(name).name == encoding:
                found.append(name)
        except KeyError:
            continue
    return found


def token_count_model(encoding: str) -> str | None:
    """A model to pass to helpers.count_tokens for ``encoding`` (None if none uses it)."""
    models = models_using(encoding)
    return models[0] if models else None


def used_by_text(encoding: str, shown: int = 6) -> str:
    """Which of the course's models use ``encoding``: the served ones first (at most
    ``shown`` names), then the retired ones."""
    models = models_using(encoding)
    if not models:
        return "not used by the course's models"
    current = [m for m in models if not model_info(m).retired]
    retired = [m for m in models if model_info(m).retired]
    if current:
        more = f" and {len(current) - shown} more" if len(current) > shown else ""
        text = f"used by {', '.join(current[:shown])}{more}"
        assumed = [m for m in current if model_info(m).encoding_assumed]
        if assumed:
            text += (
                f" (assumed for {', '.join(assumed) if len(assumed) <= 2 else 'the gpt-6 models'}: "
                "tiktoken does not map them yet)"
            )
    else:
        text = "used by no current model"
    return text + (f"; retired: {', '.join(retired)}" if retired and not current else "")


def tokens_html(text: str, encoding: str) -> str:
    """One column of the playground: the counts, then every token coloured and numbered."""
    pieces = tokenize(text, encoding)
    used_by = used_by_text(encoding)
    n_bytes = len(text.encode("utf-8"))
    parts = [
        f'<div class="course-tokens" data-encoding="{_escape(encoding)}" '
        'style="flex:1 1 300px;min-width:0;padding:4px 8px;line-height:1.4">',
        f'<div style="font-weight:bold">{_escape(encoding)}</div>',
        f'<div style="font-size:0.85em;opacity:0.75">{_escape(used_by)}</div>',
        f'<div style="margin:4px 0"><b class="course-token-count" data-encoding="{_escape(encoding)}">'
        f"{len(pieces)}</b> {'token' if len(pieces) == 1 else 'tokens'} · {_plural(len(text), 'character')} · "
        f"{_plural(n_bytes, 'byte')}</div>",
        '<div style="display:flex;flex-wrap:wrap;gap:3px;align-items:flex-start;line-height:1.3">',
    ]
    for piece in pieces:
        colour = TOKEN_COLOURS[(piece.number - 1) % len(TOKEN_COLOURS)]
        border = "1px dashed rgba(0,0,0,0.6)" if piece.partial else "1px solid transparent"
        title = f"token {piece.number} · id {piece.token_id} · bytes {piece.data.hex(' ')}"
        if piece.partial:
            title += f" · only part of {piece.text.strip()!r}"
        parts.append(
            f'<span class="course-token" title="{_escape(title)}" style="display:inline-flex;'
            f"flex-direction:column;align-items:center;background:{colour};border:{border};"
            'border-radius:3px;padding:1px 3px;min-width:1em">'
            f'<span style="white-space:pre;font-family:monospace">{_escape(piece.label)}</span>'
            f'<span style="font-size:0.7em;opacity:0.7">{piece.number}</span></span>'
        )
        if piece.text.endswith("\n"):  # start a new row, as the text does
            parts.append('<span style="flex-basis:100%;height:0"></span>')
    parts.append("</div>")
    if any(p.partial for p in pieces):
        parts.append(
            '<div style="font-size:0.85em;opacity:0.75;margin-top:4px">Dashed tokens hold only '
            "part of a character's bytes, so that character is shown in each of them.</div>"
        )
    parts.append("</div>")
    return "".join(parts)


def playground_html(text: str, encodings: Sequence[str] = ENCODINGS) -> str:
    """The encodings side by side (they wrap below each other on a narrow screen)."""
    columns = "".join(tokens_html(text, e) for e in encodings)
    return f'<div style="display:flex;flex-wrap:wrap;gap:8px">{columns}</div>'


def token_counts(text: str, encodings: Sequence[str] = ENCODINGS) -> dict[str, int]:
    return {e: len(get_encoding(e).encode_ordinary(text)) for e in encodings}


def playground_summary(text: str, encodings: Sequence[str] = ENCODINGS) -> str:
    """The playground's text/plain: the counts for each encoding."""
    counts = ", ".join(f"{_plural(n, 'token')} ({e})" for e, n in token_counts(text, encodings).items())
    return _fit(f"Tokenizer playground: {counts} for {_plural(len(text), 'character')}.")


# ====================================================================== cost


@dataclass(frozen=True)
class CostEstimate:
    """What a call costs and what a month of such calls costs, in USD."""

    model: str
    input_tokens: int
    output_tokens: int
    calls_per_day: int
    days: int
    input_cost: float  # per call
    output_cost: float  # per call
    per_call: float
    per_day: float
    per_month: float
    long_context: bool = False  # billed at the model's long-context tier (a very long prompt)


def estimate(model: str, input_tokens: int, output_tokens: int, calls_per_day: int, days: int = 30) -> CostEstimate:
    """Cost per call (helpers.estimate_cost) and per month (helpers.monthly_cost)."""
    parts = cost_breakdown(model, input_tokens, output_tokens)
    per_call = estimate_cost(model, input_tokens, output_tokens)
    return CostEstimate(
        model=model,
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        calls_per_day=calls_per_day,
        days=days,
        input_cost=parts.input,
        output_cost=parts.output,
        per_call=per_call,
        per_day=monthly_cost(per_call, calls_per_day, 1),
        per_month=monthly_cost(per_call, calls_per_day, days),
        long_context=parts.long_context,
    )


def _money(value: float, symbol: str, decimals: int) -> str:
    """``value`` with at least ``decimals`` decimals, more for small amounts (3 significant digits)."""
    if value == 0:
        return f"{symbol}{0:.{decimals}f}"
    sign, value = ("-", -value) if value < 0 else ("", value)
    while decimals < 8 and value < 10 ** (2 - decimals):
        decimals += 1
    return f"{sign}{symbol}{value:,.{decimals}f}"


def format_usd(value: float) -> str:
    """Dollars with cents, and more decimals for small amounts: $0.000450, $13.50."""
    return _money(value, "$", 2)


def format_krw(value: float) -> str:
    """Won without decimals, and with some for small amounts: ₩15,223, ₩50.7, ₩0.508."""
    return _money(value, "₩", 0)


@dataclass(frozen=True)
class ExchangeRate:
    """How many won one US dollar bought on ``date``, and where that figure comes from."""

    krw_per_usd: float
    date: str  # YYYY-MM-DD
    source: str

    def __post_init__(self) -> None:
        if not self.krw_per_usd > 0:
            raise ValueError(f"krw_per_usd must be a positive number of won per dollar, not {self.krw_per_usd!r}")

    def krw(self, usd: float) -> float:
        return usd * self.krw_per_usd


# The most recent sourced USD/KRW rate the course found: Reuters reported the won at 1,449.8
# per dollar at 06:26 GMT on 2026-02-04. That is months before the course date (AS_OF), so
# it shows the order of magnitude, not today's price: pass your own ExchangeRate for a budget.
KRW_RATE = ExchangeRate(
    1449.8, "2026-02-04", 'Reuters, 4 Feb 2026, "South Korea eyes dollar bond issuance for pension fund this year"'
)


def cost_html(est: CostEstimate, exchange: ExchangeRate | None = None) -> str:
    """The calculator's result table; with ``exchange``, the month in won too."""
    m = model_info(est.model)
    tier = m.long_context if est.long_context else None
    in_x = f" × {tier.input_multiplier:g}" if tier else ""
    out_x = f" × {tier.output_multiplier:g}" if tier else ""
    rows = [
        ("Input", f"{est.input_tokens:,} tokens × ${m.input_price:g} / 1M{in_x}", est.input_cost),
        ("Output", f"{est.output_tokens:,} tokens × ${m.output_price:g} / 1M{out_x}", est.output_cost),
        ("Per call", "input + output", est.per_call),
        ("Per day", f"× {est.calls_per_day:,} calls", est.per_day),
        ("Per month", f"× {est.days} days", est.per_month),
    ]
    shown = [(name, how, format_usd(value)) for name, how, value in rows]
    if exchange is not None:
        shown.append(
            (
                "Per month in won",
                f"× {exchange.krw_per_usd:,g} KRW per USD ({exchange.date})",
                format_krw(exchange.krw(est.per_month)),
            )
        )
    body = "".join(
        f'<tr><td style="padding:2px 10px 2px 0">{"<b>" + name + "</b>" if name.startswith("Per") else name}</td>'
        f'<td style="padding:2px 10px;opacity:0.8">{_escape(how)}</td>'
        f'<td class="course-cost" data-row="{name.lower().replace(" ", "-")}" '
        f'style="padding:2px 0;text-align:right;font-family:monospace;white-space:nowrap">{value}</td></tr>'
        for name, how, value in shown
    )
    notes = (
        f"Prices per 1M tokens for {_escape(m.name)}, checked {_escape(m.as_of)}: "
        f'<a href="{_escape(m.source)}" target="_blank">{_escape(m.source)}</a>.'
    )
    if exchange is not None:
        when = "" if exchange.date == AS_OF else f", not on {AS_OF}: check today's rate before you budget"
        notes += f" Won at the rate of {_escape(exchange.date)} ({_escape(exchange.source)}{_escape(when)})."
    if m.reasoning:
        notes += " Reasoning models bill their hidden reasoning tokens as output: include them."
    if tier:
        notes += (
            f" A prompt of more than {tier.threshold:,} tokens bills the whole request at the long-context "
            f"tier: input × {tier.input_multiplier:g}, output × {tier.output_multiplier:g}."
        )
    return (
        f'<table style="border-collapse:collapse;line-height:1.4;max-width:100%">{body}</table>'
        f'<div style="font-size:0.85em;opacity:0.75;margin-top:4px;line-height:1.4;overflow-wrap:anywhere">'
        f"{notes}</div>"
    )


def cost_summary(est: CostEstimate) -> str:
    """The calculator's text/plain."""
    return _fit(
        f"Cost calculator: {est.model}, {est.input_tokens:,} in + {est.output_tokens:,} out tokens: "
        f"{format_usd(est.per_call)}/call, {format_usd(est.per_month)}/month at "
        f"{est.calls_per_day:,} calls/day"
    )


# ====================================================================== chat


def is_reasoning(model: str) -> bool:
    try:
        return model_info(model).reasoning
    except UnknownModelError:
        return False


def temperature_rule(model: str) -> str:
    """How the chat widget sends its temperature to ``model`` (helpers.models rules):

    - "always": not a reasoning model (or one the course does not know): sent as it is;
    - "effort_none": a reasoning model that takes sampling parameters only with
      reasoning_effort="none" (gpt-5.1 to gpt-5.6, gpt-6-luna, gpt-6-sol): sent with that effort;
    - "never": a reasoning model that takes only the default temperature (o3, gpt-5,
      gpt-6-astra): not sent, and the slider is disabled."""
    try:
        info = model_info(model)
    except UnknownModelError:
        return "always"
    if not info.reasoning or info.rules.sampling == "always":
        return "always"
    return "effort_none" if info.accepts_sampling("none") else "never"


def chat_params(model: str, temperature: float) -> dict[str, Any]:
    """Parameters for one call with the slider at ``temperature``: see temperature_rule."""
    rule = temperature_rule(model)
    if rule == "never":
        return {}
    params: dict[str, Any] = {"temperature": round(float(temperature), 2)}
    if rule == "effort_none":
        params = {"reasoning_effort": "none", **params}
    return params


TEMPERATURE_NOTES = {
    "always": "",
    "effort_none": 'reasoning model: sent with reasoning_effort="none"',
    "never": "this model takes no temperature: not sent",
}


def model_options(current: str) -> list[str]:
    """A model dropdown's choices: the models lessons may call, and ``current`` if it is
    not one of them (a dated snapshot, another server's model)."""
    options = lesson_models()
    return options + ([current] if current not in options else [])


def client_mode(client: Any) -> str:
    """ "offline", "OpenAI API", or the host of another OpenAI-compatible server."""
    url = str(getattr(client, "base_url", "") or "")
    if "offline.invalid" in url:
        return "offline"
    if not url or "api.openai.com" in url:
        return "OpenAI API"
    host = getattr(getattr(client, "base_url", None), "host", "") or url
    return str(host)


ROLE_STYLE = {
    "user": ("You", "margin-left:15%;background:rgba(39,121,234,0.15)"),
    "assistant": ("Assistant", "margin-right:15%;background:rgba(128,128,128,0.15)"),
    "system": ("System", "font-size:0.85em;opacity:0.75;border:1px dashed rgba(128,128,128,0.6)"),
    "developer": ("Developer", "font-size:0.85em;opacity:0.75;border:1px dashed rgba(128,128,128,0.6)"),
}


def message_html(role: str, content: str, *, pending: bool = False) -> str:
    who, style = ROLE_STYLE.get(role, (role.title(), "background:rgba(128,128,128,0.1)"))
    cursor = ' <span style="opacity:0.6">▌</span>' if pending else ""
    return (
        f'<div class="course-msg course-msg-{_escape(role)}" style="{style};border-radius:8px;'
        f'padding:4px 8px;margin:4px 0">'
        f'<div style="font-size:0.75em;opacity:0.7">{_escape(who)}</div>'
        f'<div class="course-msg-text" style="white-space:pre-wrap">{_escape(content)}{cursor}</div></div>'
    )


def history_html(
    messages: Iterable[Mapping[str, Any]], pending_user: str | None = None, pending_reply: str | None = None
) -> str:
    """The conversation as HTML (every text escaped), with the turn being streamed."""
    parts = [message_html(str(m.get("role", "")), str(m.get("content") or "")) for m in messages]
    if pending_user is not None:
        parts.append(message_html("user", pending_user))
        parts.append(message_html("assistant", pending_reply or "", pending=True))
    if not any(m.get("role") in ("user", "assistant") for m in messages) and pending_user is None:
        parts.append('<div style="opacity:0.6;padding:4px">No messages yet: type below and press Send.</div>')
    # column-reverse keeps the scroll position at the newest message.
    return (
        '<div class="course-chat-log" style="max-height:360px;overflow-y:auto;display:flex;'
        f'flex-direction:column-reverse;line-height:1.4"><div>{"".join(parts)}</div></div>'
    )


@dataclass(frozen=True)
class UsageTotals:
    calls: int
    prompt_tokens: int
    completion_tokens: int
    cost: float | None  # None when a model has no price in the table

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


def _get(usage: Any, key: str) -> int:
    value = usage.get(key) if isinstance(usage, Mapping) else getattr(usage, key, 0)
    return int(value or 0)


def usage_totals(billed: Iterable[tuple[str, Any]]) -> UsageTotals:
    """Sum (model, usage) pairs: tokens, and the cost from helpers.usage_cost."""
    calls = prompt = completion = 0
    cost: float | None = 0.0
    for model, usage in billed:
        calls += 1
        prompt += _get(usage, "prompt_tokens")
        completion += _get(usage, "completion_tokens")
        try:
            cost = None if cost is None else cost + usage_cost(model, usage)
        except UnknownModelError:
            cost = None
    return UsageTotals(calls, prompt, completion, cost)


def usage_text(totals: UsageTotals, mode: str = "offline", estimated: int = 0) -> str:
    """The chat's running count, e.g. "2 calls · 180 tokens (150 in + 30 out) · $0.000041".
    ``estimated``: how many of the calls were stopped streams, whose usage is estimated."""
    if not totals.calls:
        return "No calls yet: 0 tokens · $0.00"
    cost = "cost unknown" if totals.cost is None else format_usd(totals.cost)
    if mode == "offline":
        cost += " (offline: what the API would charge; nothing is billed)"
    calls = "1 call" if totals.calls == 1 else f"{totals.calls} calls"
    if estimated:
        calls += f" ({estimated} stopped, estimated)"
    return (
        f"{calls} · {totals.total_tokens:,} tokens ({totals.prompt_tokens:,} in + "
        f"{totals.completion_tokens:,} out) · {cost}"
    )


@dataclass(frozen=True)
class TurnResult:
    reply: str  # what arrived (all of it, or the part before an error or a stop)
    error: str | None = None  # a readable message when the turn failed and was rolled back
    stopped: bool = False  # stopped on request: rolled back too, the partial reply is in `interrupted`

    @property
    def ok(self) -> bool:
        return self.error is None and not self.stopped


def run_turn(
    conversation: Conversation,
    text: str,
    params: Mapping[str, Any] | None = None,
    on_piece: Callable[[str], None] | None = None,
    stop: threading.Event | None = None,
) -> TurnResult:
    """Stream one turn; call ``on_piece`` with the reply so far after every piece.

    When ``stop`` is set, the stream is closed as soon as the next piece arrives: the
    Conversation then rolls the turn back and keeps what had arrived in ``interrupted``.
    Errors never escape: they come back as one readable line (helpers.describe_error),
    and Conversation has already rolled the failed turn back (a malformed event stream,
    a dropped connection or an empty reply included)."""
    pieces: list[str] = []
    stream: Iterator[str] | None = None
    try:
        stream = conversation.stream(text, **dict(params or {}))  # inside: a refused parameter is shown too
        for piece in stream:
            pieces.append(piece)  # it arrived, so it is billed, even when it comes after the stop
            if stop is not None and stop.is_set():
                return TurnResult("".join(pieces), stopped=True)  # `finally` closes the stream
            if on_piece is not None:
                on_piece("".join(pieces))
    except KeyboardInterrupt:
        return TurnResult("".join(pieces), "Interrupted: that turn was not kept in the history.")
    except Exception as error:  # an API error, or any other failure: show it, keep the widget alive
        if stop is not None and stop.is_set():
            return TurnResult("".join(pieces), stopped=True)  # what failed was a stream already stopped
        return TurnResult("".join(pieces), f"{describe_error(error)} (This turn was not kept in the history.)")
    finally:
        if stream is not None:
            stream.close()  # a failure inside on_piece, or a stop, still rolls the turn back
    return TurnResult("".join(pieces))


def stopped_usage(
    model: str, messages: Sequence[Mapping[str, Any]], params: Mapping[str, Any], partial: str
) -> dict[str, int]:
    """The usage of a stream stopped before its end, counted the way helpers.spend charges it:
    the prompt, the reply tokens that arrived and, for a reasoning model, the offline model's
    figure for its hidden tokens at the effort in force. An estimate: the API puts the usage in
    the stream's last chunk, which a stopped stream never receives."""
    request = worst_case({"model": model, "messages": list(messages), **params})
    hidden = REASONING_TOKENS.get(request.effort or "none", 0) if is_reasoning(model) else 0
    completion = count_tokens(partial, request.priced_as or model, fallback="o200k_base") + hidden
    if request.completion_tokens:
        completion = min(completion, request.completion_tokens)
    return {
        "prompt_tokens": request.prompt_tokens,
        "completion_tokens": completion,
        "total_tokens": request.prompt_tokens + completion,
    }


def stopped_text(usage: Mapping[str, int], cost: float | None, mode: str) -> str:
    """What the chat says after Stop: what happened to the turn, and what it cost."""
    billed = "would have been billed" if mode == "offline" else "billed"
    price = "" if cost is None else f", {format_usd(cost)}"
    return (
        f"Stopped. The reply was not kept in the history (the part that arrived is in "
        f".conversation.interrupted) and your message is back in the box. {billed.capitalize()}, "
        f"estimated: {usage['prompt_tokens']:,} prompt + {usage['completion_tokens']:,} completion tokens"
        f"{price}: the prompt and what arrived. The API sends no usage for a stream closed early."
    )


def _in_kernel() -> bool:
    """True inside a Jupyter kernel, where a widget's callbacks run on the kernel's thread."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython comes with ipywidgets
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


def error_html(message: str) -> str:
    return (
        f'<div class="course-chat-error" style="color:#b00020;white-space:pre-wrap;padding:2px 4px">'
        f"⚠ {_escape(message)}</div>"
    )


def notice_html(message: str) -> str:
    return (
        f'<div class="course-chat-notice" style="white-space:pre-wrap;padding:2px 4px;opacity:0.85">'
        f"■ {_escape(message)}</div>"
    )


# ====================================================================== widget views

_LABEL = {"description_width": "initial"}


def _row(*children: widgets.Widget) -> widgets.HBox:
    """A row that wraps its controls onto the next line on a narrow page instead of squeezing them."""
    return widgets.HBox(
        list(children), layout=widgets.Layout(flex_flow="row wrap", align_items="center", grid_gap="4px 8px")
    )


@dataclass(frozen=True)
class _Turn:
    """One message on its way: what the widget needs to bill and show it."""

    message: str
    model: str
    params: dict[str, Any]
    sent: list[dict[str, Any]]  # the messages of the request: the history, then the message
    usages_before: int


class ChatWidget(widgets.VBox):
    """A chat box over a helpers.Conversation. Drive it from code with ``w.submit("Hi")``
    (it returns when the reply is in), or as the page does: ``w.text.value = "Hi";
    w.send_button.click()``, then ``w.stop_button.click()`` to stop the reply.

    With ``background=True`` (the default inside a notebook kernel) Send and Enter stream the
    reply in a thread, so the kernel can handle the Stop button meanwhile; ``w.wait()`` waits
    for that reply. Outside a kernel (plain Python, tests) they stream before returning."""

    PAINT_INTERVAL = 0.05  # seconds between repaints while a reply streams in

    def __init__(
        self, conversation: Conversation, *, temperature: float = 1.0, background: bool | None = None, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.conversation = conversation
        self.mode = client_mode(conversation.client)
        self.background = _in_kernel() if background is None else background
        self.billed: list[tuple[str, Any]] = []  # (model, usage) of every call, estimated for a stopped one
        self.stopped_calls = 0  # how many of them were stopped, so their usage is an estimate
        self.last_error: str | None = None
        self.last_result: TurnResult | None = None
        self._busy = False
        self._stop = threading.Event()
        self._lock = threading.RLock()  # the turn's state and the painting, shared with the streaming thread
        self._worker: threading.Thread | None = None
        self._last_paint = 0.0

        self.model_dropdown = widgets.Dropdown(
            options=model_options(conversation.model),
            value=conversation.model,
            description="Model",
            style=_LABEL,
            layout=widgets.Layout(width="260px", min_width="200px"),
        )
        self.temperature_slider = widgets.FloatSlider(
            value=temperature,
            min=0.0,
            max=2.0,
            step=0.1,
            readout_format=".1f",
            description="Temperature",
            continuous_update=False,
            style=_LABEL,
            layout=widgets.Layout(width="320px", min_width="260px"),
        )  # a fixed size: it wraps, never collapses
        self.temperature_note = widgets.HTML(layout=widgets.Layout(max_width="100%"))
        mode = (
            "offline model: replies start with [offline], nothing is billed"
            if self.mode == "offline"
            else f"{self.mode}: every message is billed"
        )
        self.header = widgets.HTML(f'<div style="opacity:0.75;font-size:0.9em">Chat · {_escape(mode)}</div>')
        self.history = widgets.HTML()
        self.history.add_class("course-chat-history")
        self.text = widgets.Text(
            placeholder="Your message (Enter sends it)",
            layout=widgets.Layout(flex="1 1 240px", min_width="200px", width="auto"),
        )
        self.text.add_class("course-chat-input")
        buttons = widgets.Layout(width="72px")
        self.send_button = widgets.Button(description="Send", button_style="primary", layout=buttons)
        self.send_button.add_class("course-chat-send")
        self.stop_button = widgets.Button(
            description="Stop",
            button_style="warning",
            disabled=True,
            tooltip="Stop the reply that is streaming in",
            layout=buttons,
        )
        self.stop_button.add_class("course-chat-stop")
        self.clear_button = widgets.Button(description="Clear", layout=buttons)
        self.clear_button.add_class("course-chat-clear")
        self.error = widgets.HTML()
        self.status = widgets.HTML()
        self.status.add_class("course-chat-usage")

        self.send_button.on_click(lambda _button: self._send_from_page())
        self.stop_button.on_click(lambda _button: self.stop())
        self.clear_button.on_click(lambda _button: self.clear_history())
        with warnings.catch_warnings():  # on_submit is "deprecated" but is the Enter key in 7.x and 8.x
            warnings.simplefilter("ignore", DeprecationWarning)
            self.text.on_submit(lambda _text: self._send_from_page())
        self.model_dropdown.observe(self._on_model, names="value")

        self.children = [
            self.header,
            _row(self.model_dropdown, self.temperature_slider, self.temperature_note),
            self.history,
            _row(self.text, self.send_button, self.stop_button, self.clear_button),
            self.error,
            self.status,
        ]
        self._on_model({"new": conversation.model})
        self._paint()

    # -- actions

    def params(self) -> dict[str, Any]:
        return chat_params(self.conversation.model, self.temperature_slider.value)

    def submit(self, text: str | None = None, *, wait: bool = True) -> TurnResult | None:
        """Send ``text`` (default: what the text box holds) and stream the reply in.

        ``wait=True`` returns the TurnResult once the reply is in (or stopped, or failed);
        ``wait=False`` streams in a background thread and returns None at once."""
        if text is not None:
            self.text.value = text
        message = self.text.value.strip()
        with self._lock:
            if not message or self._busy:
                return None
            self._busy = True
            self._stop.clear()
            model = self.conversation.model
            params = self.params()
            turn = _Turn(
                message,
                model,
                params,
                [*self.conversation.messages, {"role": "user", "content": message}],
                len(self.conversation.usages),
            )
        self._set_enabled(False)
        self.text.value = ""
        self.error.value = ""
        self.last_error = None
        self.last_result = None
        if wait:
            return self._run(turn)
        self._worker = threading.Thread(target=self._run, args=(turn,), name="course-chat-reply", daemon=True)
        self._worker.start()
        return None

    def stop(self) -> bool:
        """Stop the reply that is streaming in. The page drops it at once; the stream is closed
        when its next piece arrives (at once for an offline or a fast stream), and the
        Conversation rolls the turn back. Returns False when no reply was streaming."""
        with self._lock:
            if not self._busy or self._stop.is_set():
                return False
            self._stop.set()
            self._paint()  # the history without the stopped turn: nothing more of it is shown
            self.error.value = notice_html("Stopping…")
        self.stop_button.disabled = True
        return True

    def wait(self, timeout: float | None = None) -> TurnResult | None:
        """Wait for a reply sent with ``wait=False`` (or from the page); its TurnResult."""
        worker = self._worker
        if worker is not None:
            worker.join(timeout)
        return self.last_result

    def clear_history(self) -> None:
        """Start a new conversation (the system prompt stays). The running token count
        and cost keep counting: those calls were made."""
        self.conversation.reset()
        self.error.value = ""
        self.last_error = None
        self._paint()

    # -- the turn

    def _send_from_page(self) -> None:
        # In a kernel this callback runs on the kernel's only thread: streaming here would
        # block it, and the Stop click would wait in the queue until the reply was complete.
        self.submit(wait=not self.background)

    def _run(self, turn: _Turn) -> TurnResult:
        result = TurnResult("", "The reply did not start.")
        size = len(turn.sent) - 1
        try:
            self._paint(turn.message, "", upto=size)
            result = run_turn(
                self.conversation,
                turn.message,
                turn.params,
                stop=self._stop,
                on_piece=lambda reply: self._paint_piece(turn.message, reply, size),
            )
            usages = self.conversation.usages[turn.usages_before :]
            self.billed.extend((turn.model, u) for u in usages)
            if result.stopped:
                if not usages:  # the usage comes in the stream's last chunk: estimate it
                    usage = stopped_usage(
                        turn.model, turn.sent, {**self.conversation.params, **turn.params}, result.reply
                    )
                    self.billed.append((turn.model, usage))
                    self.stopped_calls += 1
                else:
                    usage = usages[-1]
                cost = usage_totals([(turn.model, usage)]).cost
                self.error.value = notice_html(stopped_text(_plain(usage), cost, self.mode))
                self.text.value = turn.message  # given back, to send again
            elif not result.ok:
                self.last_error = result.error
                self.error.value = error_html(result.error or "")
                self.text.value = turn.message  # given back, to send again
            return result
        except BaseException as error:  # a failure of the view itself: say it, never leave the widget busy
            result = TurnResult(result.reply, f"{type(error).__name__}: {error}")
            self.last_error = result.error
            self.error.value = error_html(result.error or "")
            raise
        finally:
            self.last_result = result
            with self._lock:
                if result.ok and self._stop.is_set():
                    self.error.value = ""  # Stop came as the reply ended: it was kept, nothing stopped
                self._busy = False
                self._paint()
            self._set_enabled(True)

    # -- view

    def _on_model(self, change: Mapping[str, Any]) -> None:
        self.conversation.model = change["new"]
        note = TEMPERATURE_NOTES[temperature_rule(change["new"])]
        self.temperature_slider.disabled = temperature_rule(change["new"]) == "never"
        self.temperature_note.value = (
            f'<span style="opacity:0.75;font-size:0.85em">{_escape(note)}</span>' if note else ""
        )

    def _set_enabled(self, enabled: bool) -> None:
        for control in (self.text, self.send_button, self.clear_button, self.model_dropdown):
            control.disabled = not enabled
        self.temperature_slider.disabled = not enabled or temperature_rule(self.conversation.model) == "never"
        self.stop_button.disabled = enabled

    def _paint_piece(self, message: str, reply: str, upto: int) -> None:
        with self._lock:
            if not self._stop.is_set():  # once stopped, no later piece reaches the page
                self._paint(message, reply, throttle=True, upto=upto)

    def _paint(
        self,
        pending_user: str | None = None,
        pending_reply: str | None = None,
        throttle: bool = False,
        upto: int | None = None,
    ) -> None:
        """Show the history; while a turn streams, the history before it (``upto``
        messages) plus that turn, which Conversation adds to its history only once complete."""
        with self._lock:
            now = time.monotonic()
            if throttle and now - self._last_paint < self.PAINT_INTERVAL:
                return
            self._last_paint = now
            self.history.value = history_html(self.conversation.messages[:upto], pending_user, pending_reply)
            totals = usage_text(usage_totals(self.billed), self.mode, self.stopped_calls)
            self.status.value = f'<span style="opacity:0.75;font-size:0.85em">{_escape(totals)}</span>'

    def __repr__(self) -> str:
        conversation = getattr(self, "conversation", None)
        if conversation is None:
            return "Chat widget"
        turns = conversation.turns
        done = f", {_plural(turns, 'turn')} so far" if turns else ""
        return _fit(
            f"Chat widget ({conversation.model}, {getattr(self, 'mode', '?')}{done}): it runs only in a live notebook."
        )


def _plain(usage: Any) -> dict[str, int]:
    return {key: _get(usage, key) for key in ("prompt_tokens", "completion_tokens")}


class TokenizerPlayground(widgets.VBox):
    """Type a text, see its tokens in each encoding side by side."""

    def __init__(
        self,
        text: str,
        *,
        encodings: Sequence[str] = ENCODINGS,
        presets: Mapping[str, str] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.encodings = tuple(encodings)
        self.presets = dict(PRESETS if presets is None else presets)
        self.text = widgets.Textarea(
            value=text,
            placeholder="Type or paste a text",
            continuous_update=True,
            layout=widgets.Layout(width="auto", height="70px"),
        )
        self.text.add_class("course-tokenizer-input")
        self.preset_buttons: dict[str, widgets.Button] = {}
        for name, sample in self.presets.items():
            button = widgets.Button(description=name, tooltip=sample)
            button.add_class("course-preset")
            button.on_click(lambda _button, sample=sample: setattr(self.text, "value", sample))
            self.preset_buttons[name] = button
        self.output = widgets.HTML()
        self.output.add_class("course-tokenizer-output")
        self.text.observe(lambda _change: self.refresh(), names="value")
        self.children = [
            _row(widgets.HTML("<b>Tokenizer playground</b>&nbsp;&nbsp;Try:"), *self.preset_buttons.values()),
            self.text,
            self.output,
        ]
        self.refresh()

    def counts(self) -> dict[str, int]:
        return token_counts(self.text.value, self.encodings)

    def refresh(self) -> None:
        self.output.value = playground_html(self.text.value, self.encodings)

    def __repr__(self) -> str:
        text = getattr(self, "text", None)
        return playground_summary(text.value, self.encodings) if text is not None else "Tokenizer playground"


class CostCalculator(widgets.VBox):
    """Model, tokens per call and calls per day -> cost per call and per month (and the
    month in won at ``exchange``, a dated rate; None leaves won out)."""

    def __init__(
        self,
        *,
        model: str = DEFAULT_MODEL,
        input_tokens: int = 1000,
        output_tokens: int = 500,
        calls_per_day: int = 1000,
        days: int = 30,
        text: str = "",
        exchange: ExchangeRate | None = KRW_RATE,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.days = days
        self.exchange = exchange
        self.model_dropdown = widgets.Dropdown(
            options=model_options(model),
            value=model,
            description="Model",
            style=_LABEL,
            layout=widgets.Layout(width="300px", max_width="100%"),
        )
        big = 10**12

        def number(value: int, description: str) -> widgets.BoundedIntText:
            return widgets.BoundedIntText(
                value=value,
                min=0,
                max=big,
                description=description,
                style=_LABEL,
                layout=widgets.Layout(width="230px", min_width="230px"),
            )

        self.input_tokens = number(input_tokens, "Input tokens / call")
        self.output_tokens = number(output_tokens, "Output tokens / call")
        self.calls_per_day = number(calls_per_day, "Calls / day")
        self.text = widgets.Textarea(
            value=text,
            placeholder="Or paste a prompt here to count its input tokens",
            layout=widgets.Layout(width="auto", height="60px"),
        )
        self.text_note = widgets.HTML()
        self.result = widgets.HTML()
        self.result.add_class("course-cost-result")
        for control in (self.model_dropdown, self.input_tokens, self.output_tokens, self.calls_per_day):
            control.observe(lambda _change: self.refresh(), names="value")
        self.text.observe(lambda _change: self._count_text(), names="value")
        self.model_dropdown.observe(lambda _change: self._count_text(), names="value")
        self.children = [
            widgets.HTML("<b>Cost calculator</b>"),
            self.model_dropdown,
            _row(self.input_tokens, self.output_tokens, self.calls_per_day),
            self.text,
            self.text_note,
            self.result,
        ]
        self._count_text()
        self.refresh()

    def estimate(self) -> CostEstimate:
        return estimate(
            self.model_dropdown.value,
            self.input_tokens.value,
            self.output_tokens.value,
            self.calls_per_day.value,
            self.days,
        )

    def _count_text(self) -> None:
        text = self.text.value
        if not text:
            self.text_note.value = ""
            return
        model = self.model_dropdown.value
        n = count_tokens(text, model, fallback="o200k_base")
        encoding = encoding_for(model, fallback="o200k_base").name
        self.text_note.value = (
            f'<span style="opacity:0.75;font-size:0.85em">The text is {n:,} tokens for '
            f"{_escape(model)} ({_escape(encoding)}); input tokens set to that.</span>"
        )
        self.input_tokens.value = n  # refreshes the result

    def refresh(self) -> None:
        try:
            self.result.value = cost_html(self.estimate(), self.exchange)
        except (ValueError, UnknownModelError) as error:
            self.result.value = error_html(str(error))

    def __repr__(self) -> str:
        if getattr(self, "calls_per_day", None) is None:
            return "Cost calculator"
        try:
            return cost_summary(self.estimate())
        except (ValueError, UnknownModelError):
            return "Cost calculator"


# ====================================================================== entry points


def chat_widget(
    client: Any = None,
    model: str = DEFAULT_MODEL,
    system: str | None = None,
    *,
    temperature: float = 1.0,
    conversation: Conversation | None = None,
    background: bool | None = None,
) -> ChatWidget:
    """A chat box for lessons 02/03: streams replies (Stop stops one), keeps the history,
    counts tokens and cost.

    ``client`` defaults to helpers.get_client() (offline without a key). Pass
    ``conversation`` to continue an existing helpers.Conversation (its client, model and
    system prompt are used). The widget's ``.conversation`` holds the history.
    ``background``: stream in a thread when Send is clicked (default: inside a notebook)."""
    if conversation is None:
        if client is None:
            from .client import get_client

            client = get_client(quiet=True)  # the widget itself says offline or not
        conversation = Conversation(client, model=model, system=system)
    return ChatWidget(conversation, temperature=temperature, background=background)


def tokenizer_playground(
    text: str = PRESETS["Korean"], *, encodings: Sequence[str] = ENCODINGS, presets: Mapping[str, str] | None = None
) -> TokenizerPlayground:
    """Lesson 04: ``text`` tokenized by cl100k_base and o200k_base side by side."""
    return TokenizerPlayground(text, encodings=encodings, presets=presets)


def cost_calculator(
    model: str = DEFAULT_MODEL,
    input_tokens: int = 1000,
    output_tokens: int = 500,
    calls_per_day: int = 1000,
    *,
    days: int = 30,
    text: str = "",
    exchange: ExchangeRate | None = KRW_RATE,
) -> CostCalculator:
    """Lesson 05: cost per call and per month of ``calls_per_day`` calls (``days`` a month).
    A ``text`` sets the input tokens to its token count for the model. The month is shown in
    won at ``exchange`` (KRW_RATE, a dated rate; pass your own ExchangeRate, or None)."""
    return CostCalculator(
        model=model,
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        calls_per_day=calls_per_day,
        days=days,
        text=text,
        exchange=exchange,
    )
