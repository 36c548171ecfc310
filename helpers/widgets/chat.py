"""Lessons 03 and 04's chat box: a helpers.Conversation behind a text box, each reply streamed
in with a Stop button, and every call's tokens and cost as the spend meter charges them.

    from helpers.widgets import chat_widget
    chat = chat_widget(client, system="You are a friendly tutor.")
    chat  # shows it; chat.conversation holds the history
    chat = chat_widget(client, lang="ko")  # the Korean track: every label in Korean

The logic is in plain functions: ``run_turn`` streams one turn, ``history_html`` draws the
history, ``usage_totals`` and ``usage_text`` sum the calls; ``ChatWidget`` wires them to the
controls. In a notebook a reply streams in a background thread, so the kernel stays free to
hear the Stop button (Kernel > Interrupt cannot reach a widget's callback). Its words, in
English and Korean, are in ``TEXT``.
"""

from __future__ import annotations

import threading
import time
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from html import escape
from typing import Any

import ipywidgets as widgets
from IPython import get_ipython

from .. import _spend
from .._offline import OFFLINE_URL
from .._settings import in_kernel
from ..chat import Conversation, describe_error
from ..models import DEFAULT_MODEL, UnknownModelError, model_info
from ..pricing import money, usd
from ._html import LABEL, Words, check_lang, error_html, fit, model_options, note_html, notice_html, plural, row
from .cost import KRW_RATE, format_krw

# ---------------------------------------------------------------- the words

# Everything the chat says, in each language (the glossary's terms: docs/glossary.md).
# The HTML hooks (course-* classes, data-* attributes) are the same in both.
TEXT: dict[str, dict[str, Any]] = {
    "en": {
        "model": "Model",
        "temperature": "Temperature",
        "temperature_effort_none": 'reasoning model: sent with reasoning_effort="none"',
        "temperature_never": "this model takes no temperature: not sent",
        "header": "Chat · {mode}",
        "header_offline": "offline model: replies start with [offline], nothing is billed",
        "header_billed": "{mode}: every message is billed",
        "placeholder": "Your message (Enter sends it)",
        "send": "Send",
        "stop": "Stop",
        "stop_tooltip": "Stop the reply that is streaming in",
        "clear": "Clear",
        "role_user": "You",
        "role_assistant": "Assistant",
        "role_system": "System",
        "role_developer": "Developer",
        "empty": "No messages yet: type below and press Send.",
        "no_price": "{cost} (no price for {models} in helpers/models.py: counted as $0, as the meter does)",
        "no_calls": "No calls yet: 0 tokens · $0.00",
        "calls": lambda n: plural(n, "call"),
        "calls_stopped": "{calls} ({n} stopped, estimated)",
        "offline_cost": "{cost} (offline: what the API would charge; nothing is billed)",
        "usage": "{calls} · {total:,} tokens ({prompt:,} in + {completion:,} out) · {cost}",
        "stopping": "Stopping…",
        "stopped": (
            "Stopped. The reply was not kept in the history (the part that arrived is in "
            "{name}.conversation.interrupted) and your message is back in the box. {billed}, "
            "estimated: {prompt:,} prompt + {completion:,} completion tokens, {cost}: the prompt and "
            "what arrived. The API sends no usage for a stream closed early."
        ),
        "billed_offline": "Would have been billed",
        "billed": "Billed",
        "interrupted": "Interrupted: that turn was not kept in the history.",
        "failed": "{error} (This turn was not kept in the history.)",
        "not_started": "The reply did not start.",
        "repr_empty": "Chat widget",
        "repr": "Chat widget ({model}, {mode}{done}): it runs only in a live notebook.",
        "repr_turns": lambda n: f", {plural(n, 'turn')} so far",
        "mode_offline": "offline",
    },
    "ko": {
        "model": "모델",
        "temperature": "온도",
        "temperature_effort_none": '추론 모델: reasoning_effort="none"과 함께 보냅니다',
        "temperature_never": "이 모델은 온도(temperature)를 받지 않아 보내지 않습니다",
        "header": "채팅 · {mode}",
        "header_offline": "오프라인 모델: 답변은 [offline]으로 시작하고 요금이 청구되지 않습니다",
        "header_billed": "{mode}: 메시지마다 요금이 청구됩니다",
        "placeholder": "메시지를 입력하세요 (Enter로 보내기)",
        "send": "보내기",
        "stop": "멈추기",
        "stop_tooltip": "스트리밍 중인 답변을 멈춥니다",
        "clear": "지우기",
        "role_user": "사용자",
        "role_assistant": "어시스턴트",
        "role_system": "시스템",
        "role_developer": "개발자",
        "empty": "아직 메시지가 없습니다. 아래에 입력하고 보내기를 누르세요.",
        "no_price": "{cost} (helpers/models.py에 {models}의 가격이 없어 지출 집계처럼 0달러로 셉니다)",
        "no_calls": "아직 호출 없음: 토큰 0개 · ₩0 (0.00달러)",
        "calls": "호출 {n:,}회",
        "calls_stopped": "{calls} ({n}회 멈춤, 추정)",
        "offline_cost": "{cost} (오프라인: API라면 청구될 금액이며, 실제로는 청구되지 않습니다)",
        "usage": "{calls} · 토큰 {total:,}개 (입력 {prompt:,} + 출력 {completion:,}) · {cost}",
        "stopping": "멈추는 중…",
        "stopped": (
            "멈췄습니다. 답변은 대화 기록에 남기지 않았고(도착한 부분은 "
            "{name}.conversation.interrupted에 있습니다) 메시지는 입력 칸에 돌려놓았습니다. "
            "{billed}(추정): 입력 토큰 {prompt:,}개 + 출력 토큰 {completion:,}개, {cost}. 프롬프트와 "
            "도착한 부분의 값입니다. 일찍 닫은 스트림에는 API가 사용량을 보내지 않습니다."
        ),
        "billed_offline": "청구되었을 금액",
        "billed": "청구 금액",
        "interrupted": "중단됨: 이 턴은 대화 기록에 남기지 않았습니다.",
        "failed": "{error} (이 턴은 대화 기록에 남기지 않았습니다.)",
        "not_started": "답변이 시작되지 않았습니다.",
        "repr_empty": "채팅 위젯",
        "repr": "채팅 위젯 ({model}, {mode}{done}): 실행 중인 노트북에서만 동작합니다.",
        "repr_turns": ", 지금까지 {n:,}턴",
        "mode_offline": "오프라인",
    },
}

# ---------------------------------------------------------------- what is sent


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


def client_mode(client: Any) -> str:
    """ "offline", "OpenAI API", or the host of another OpenAI-compatible server."""
    base_url = getattr(client, "base_url", None)
    url = str(base_url or "")
    if url.rstrip("/") == OFFLINE_URL:
        return "offline"
    if not url or "api.openai.com" in url:
        return "OpenAI API"
    return str(getattr(base_url, "host", "") or url)


# ---------------------------------------------------------------- the history

# How each role's messages look (who says it: TEXT's "role_..." labels).
ROLE_STYLES = {
    "user": "margin-left:15%;background:rgba(39,121,234,0.15)",
    "assistant": "margin-right:15%;background:rgba(128,128,128,0.15)",
    "system": "font-size:0.85em;opacity:0.75;border:1px dashed rgba(128,128,128,0.6)",
    "developer": "font-size:0.85em;opacity:0.75;border:1px dashed rgba(128,128,128,0.6)",
}


def message_html(role: str, content: str, *, pending: bool = False, lang: str = "en") -> str:
    """One message; ``pending``: a reply still streaming in, with a cursor after it."""
    words = Words(TEXT, lang)
    style = ROLE_STYLES.get(role, "background:rgba(128,128,128,0.1)")
    who = words(f"role_{role}") if role in ROLE_STYLES else role.title()
    cursor = ' <span class="course-msg-cursor" style="opacity:0.6">▌</span>' if pending else ""
    return (
        f'<div class="course-msg course-msg-{escape(role)}" data-role="{escape(role)}"'
        f'{" data-pending" if pending else ""} style="{style};border-radius:8px;padding:4px 8px;margin:4px 0">'
        f'<div class="course-msg-who" style="font-size:0.75em;opacity:0.7">{escape(who)}</div>'
        f'<div class="course-msg-text" style="white-space:pre-wrap">{escape(content)}{cursor}</div></div>'
    )


def history_html(
    messages: Iterable[Mapping[str, Any]],
    pending_user: str | None = None,
    pending_reply: str | None = None,
    *,
    lang: str = "en",
) -> str:
    """The conversation as HTML (every text escaped), with the turn being streamed."""
    messages = list(messages)
    parts = [message_html(str(m.get("role", "")), str(m.get("content") or ""), lang=lang) for m in messages]
    if pending_user is not None:
        parts.append(message_html("user", pending_user, lang=lang))
        parts.append(message_html("assistant", pending_reply or "", pending=True, lang=lang))
    elif not any(m.get("role") in ("user", "assistant") for m in messages):
        parts.append(
            f'<div class="course-chat-empty" style="opacity:0.6;padding:4px">{escape(Words(TEXT, lang)("empty"))}</div>'
        )
    # column-reverse keeps the scroll position at the newest message.
    return (
        '<div class="course-chat-log" style="max-height:360px;overflow-y:auto;display:flex;'
        f'flex-direction:column-reverse;line-height:1.4"><div>{"".join(parts)}</div></div>'
    )


# ---------------------------------------------------------------- what it cost


def usage_charges(model: str, usages: Iterable[Any]) -> list[_spend.Charge]:
    """What the spend meter charges for calls to ``model`` that reported these ``usages`` (SDK
    objects or dicts): a model without a price is charged $0, with the meter's warning, and a
    usage without token counts, which the meter cannot read, is charged nothing."""
    charges = (_spend.charge_for_usage(model, usage) for usage in usages)
    return [charge for charge in charges if charge is not None]


def stopped_charge(
    model: str, messages: Sequence[Mapping[str, Any]], params: Mapping[str, Any], partial: str
) -> _spend.Charge:
    """What the spend meter charges for a stream stopped before its end. The API puts the usage
    in the stream's last chunk, which a stopped stream never receives, so the meter counts it:
    the prompt, the reply tokens that arrived and, for a reasoning model, its estimate of the
    hidden tokens at the effort in force."""
    return _spend.stream_charge({"model": model, "messages": list(messages), **params}, partial)


@dataclass(frozen=True)
class UsageTotals:
    """The chat's calls so far, as the spend meter charged them."""

    calls: int
    prompt_tokens: int
    completion_tokens: int
    cost: float  # USD: a model without a price counts $0, as in the meter
    estimated: int = 0  # calls whose tokens were counted, not reported (stopped streams)
    unpriced: tuple[str, ...] = ()  # models without a price in helpers/models.py

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


def usage_totals(charges: Iterable[_spend.Charge]) -> UsageTotals:
    """Sum the charges of the chat's calls."""
    charges = list(charges)
    return UsageTotals(
        calls=len(charges),
        prompt_tokens=sum(c.prompt_tokens for c in charges),
        completion_tokens=sum(c.completion_tokens for c in charges),
        cost=sum(c.cost for c in charges),
        estimated=sum(c.estimated for c in charges),
        unpriced=tuple(dict.fromkeys(c.model for c in charges if c.priced_as is None)),
    )


def cost_text(cost: float, unpriced: Sequence[str] = (), lang: str = "en") -> str:
    """``cost`` in dollars (what the API bills and the spend meter counts), saying which
    models it leaves out for want of a price. In Korean, won first at the dated rate
    (KRW_RATE), then dollars written "달러" (one "$" at most in a line of the page)."""
    shown = usd(cost)
    if lang == "ko":
        shown = f"{format_krw(KRW_RATE.krw(cost))} ({money(cost, '')}달러)"
    if not unpriced:
        return shown
    return Words(TEXT, lang)("no_price", cost=shown, models=", ".join(unpriced))


def usage_text(totals: UsageTotals, mode: str = "offline", lang: str = "en") -> str:
    """The chat's running count, e.g. "2 calls · 180 tokens (150 in + 30 out) · $0.000041"."""
    words = Words(TEXT, lang)
    if not totals.calls:
        return words("no_calls")
    calls = words("calls", n=totals.calls)
    if totals.estimated:
        calls = words("calls_stopped", calls=calls, n=totals.estimated)
    cost = cost_text(totals.cost, totals.unpriced, lang)
    if mode == "offline":
        cost = words("offline_cost", cost=cost)
    return words(
        "usage",
        calls=calls,
        total=totals.total_tokens,
        prompt=totals.prompt_tokens,
        completion=totals.completion_tokens,
        cost=cost,
    )


def stopped_text(charge: _spend.Charge, mode: str, name: str = "chat", lang: str = "en") -> str:
    """What the chat says after Stop: what happened to the turn, where the part that arrived
    is (``name``: the variable that holds the widget), and what it cost."""
    words = Words(TEXT, lang)
    unpriced = [charge.model] if charge.priced_as is None else []
    return words(
        "stopped",
        name=name,
        billed=words("billed_offline" if mode == "offline" else "billed"),
        prompt=charge.prompt_tokens,
        completion=charge.completion_tokens,
        cost=cost_text(charge.cost, unpriced, lang),
    )


def variable_name(widget: Any, default: str = "chat") -> str:
    """The name a notebook keeps ``widget`` in (``chat = chat_widget(...)``), so that a notice
    can say what to type; ``default`` outside IPython, or when no name holds it."""
    shell = get_ipython()
    namespace = getattr(shell, "user_ns", None) or {}
    try:
        names = [name for name, value in list(namespace.items()) if value is widget and not name.startswith("_")]
    except RuntimeError:  # the kernel bound a name while we looked (the reply runs in a thread)
        return default
    return names[0] if names else default


# ---------------------------------------------------------------- one turn


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
    lang: str = "en",
) -> TurnResult:
    """Stream one turn; call ``on_piece`` with the reply so far after every piece.

    When ``stop`` is set, the stream is closed as soon as the next piece arrives: the
    Conversation then rolls the turn back and keeps what had arrived in ``interrupted``.
    Errors never escape: they come back as one readable line (helpers.describe_error),
    and Conversation has already rolled the failed turn back (a malformed event stream,
    a dropped connection or an empty reply included)."""
    words = Words(TEXT, lang)
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
        return TurnResult("".join(pieces), words("interrupted"))
    except Exception as error:  # an API error, or any other failure: show it, keep the widget alive
        if stop is not None and stop.is_set():
            return TurnResult("".join(pieces), stopped=True)  # what failed was a stream already stopped
        return TurnResult("".join(pieces), words("failed", error=describe_error(error)))
    finally:
        if stream is not None:
            stream.close()  # a failure inside on_piece, or a stop, still rolls the turn back
    return TurnResult("".join(pieces))


@dataclass(frozen=True)
class _Turn:
    """One message on its way: what the widget needs to charge and show it."""

    message: str
    model: str
    params: dict[str, Any]  # this call's, sent on top of the conversation's own
    sent: list[dict[str, Any]]  # the messages of the request: the history, then the message
    usages_before: int


# ---------------------------------------------------------------- the widget


class ChatWidget(widgets.VBox):
    """A chat box over a helpers.Conversation. Drive it from code with ``w.submit("Hi")``
    (it returns when the reply is in), or as the page does: ``w.text.value = "Hi";
    w.send_button.click()``, then ``w.stop_button.click()`` to stop the reply.

    With ``background=True`` (the default inside a notebook kernel) Send and Enter stream the
    reply in a thread, so the kernel can handle the Stop button meanwhile; ``w.wait()`` waits
    for that reply. Outside a kernel (plain Python, tests) they stream before returning.
    Its rows wrap on a narrow page instead of squeezing their controls. ``lang``: the
    language of its labels, "en" or "ko"."""

    PAINT_INTERVAL = 0.05  # seconds between repaints while a reply streams in

    def __init__(
        self,
        conversation: Conversation,
        *,
        temperature: float = 1.0,
        background: bool | None = None,
        lang: str = "en",
    ) -> None:
        words = Words(TEXT, lang)  # first: a wrong lang fails before anything is built
        super().__init__()
        self.words = words
        self.lang = words.lang
        self.conversation = conversation
        self.mode = client_mode(conversation.client)
        self.background = in_kernel() if background is None else background
        self.charges: list[_spend.Charge] = []  # every call, as the spend meter charges it
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
            description=words("model"),
            style=LABEL,
            layout=widgets.Layout(width="260px", min_width="200px"),
        )
        self.temperature_slider = widgets.FloatSlider(
            value=temperature,
            min=0.0,
            max=2.0,
            step=0.1,
            readout_format=".1f",
            description=words("temperature"),
            continuous_update=False,
            style=LABEL,
            layout=widgets.Layout(width="320px", min_width="260px"),
        )  # a fixed size: it wraps, never collapses
        self.temperature_note = widgets.HTML(layout=widgets.Layout(max_width="100%"))
        mode = words("header_offline") if self.mode == "offline" else words("header_billed", mode=self.mode)
        self.header = widgets.HTML(
            f'<div class="course-chat-header" data-mode="{escape(self.mode)}" style="opacity:0.75;font-size:0.9em">'
            f"{escape(words('header', mode=mode))}</div>"
        )
        self.history = widgets.HTML()
        self.history.add_class("course-chat-history")
        self.text = widgets.Text(
            placeholder=words("placeholder"),
            layout=widgets.Layout(flex="1 1 240px", min_width="200px", width="auto"),
        )
        self.text.add_class("course-chat-input")
        buttons = widgets.Layout(width="72px")
        self.send_button = widgets.Button(description=words("send"), button_style="primary", layout=buttons)
        self.send_button.add_class("course-chat-send")
        self.stop_button = widgets.Button(
            description=words("stop"),
            button_style="warning",
            disabled=True,
            tooltip=words("stop_tooltip"),
            layout=buttons,
        )
        self.stop_button.add_class("course-chat-stop")
        self.clear_button = widgets.Button(description=words("clear"), layout=buttons)
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
            row(self.model_dropdown, self.temperature_slider, self.temperature_note),
            self.history,
            row(self.text, self.send_button, self.stop_button, self.clear_button),
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
            turn = _Turn(
                message,
                self.conversation.model,
                self.params(),
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
            # The notice first: once the event is set, the reply's thread may finish and write
            # its "Stopped" line at any moment, and "Stopping…" must never come after it.
            self.error.value = notice_html(self.words("stopping"))
            self._stop.set()
            self._paint()  # the history without the stopped turn: nothing more of it is shown
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
        result = TurnResult("", self.words("not_started"))
        size = len(turn.sent) - 1
        try:
            self._paint(turn.message, "", upto=size)
            result = run_turn(
                self.conversation,
                turn.message,
                turn.params,
                stop=self._stop,
                on_piece=lambda reply: self._paint_piece(turn.message, reply, size),
                lang=self.lang,
            )
            charges = usage_charges(turn.model, self.conversation.usages[turn.usages_before :])
            if result.stopped and not charges:  # the usage comes in the stream's last chunk: count it
                params = {**self.conversation.params, **turn.params}
                charges.append(stopped_charge(turn.model, turn.sent, params, result.reply))
            self.charges.extend(charges)
            if result.stopped:
                self.error.value = notice_html(stopped_text(charges[-1], self.mode, variable_name(self), self.lang))
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
        rule = temperature_rule(change["new"])
        self.temperature_slider.disabled = rule == "never"
        self.temperature_note.value = "" if rule == "always" else note_html(self.words(f"temperature_{rule}"))

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
            self.history.value = history_html(
                self.conversation.messages[:upto], pending_user, pending_reply, lang=self.lang
            )
            self.status.value = note_html(usage_text(usage_totals(self.charges), self.mode, self.lang))

    def __repr__(self) -> str:
        """The text/plain of the cell, where widgets cannot render (GitHub, no kernel)."""
        words = getattr(self, "words", None) or Words(TEXT)
        conversation = getattr(self, "conversation", None)
        if conversation is None:
            return words("repr_empty")
        turns = conversation.turns
        done = words("repr_turns", n=turns) if turns else ""
        mode = getattr(self, "mode", "?")
        mode = words("mode_offline") if mode == "offline" else mode
        return fit(words("repr", model=conversation.model, mode=mode, done=done))


def chat_widget(
    client: Any = None,
    model: str = DEFAULT_MODEL,
    system: str | None = None,
    *,
    temperature: float = 1.0,
    conversation: Conversation | None = None,
    background: bool | None = None,
    lang: str = "en",
) -> ChatWidget:
    """A chat box for lessons 03/04: streams replies (Stop stops one), keeps the history,
    counts tokens and cost. Keep it in a variable, ``chat = chat_widget(...)``, then show it
    with ``chat``: its Stop notice names that variable.

    ``client`` defaults to helpers.get_client() (offline without a key). Pass
    ``conversation`` to continue an existing helpers.Conversation (its client, model and
    system prompt are used). ``chat.conversation`` holds the history.
    ``background``: stream in a thread when Send is clicked (default: inside a notebook).
    ``lang``: the labels' language, "en" (default) or "ko". The widget adds no system prompt
    of its own, so the offline model answers a Korean message in Korean (unless ``system``
    asks for another language)."""
    check_lang(lang)  # before a client is made
    if conversation is None:
        if client is None:
            from ..client import get_client

            client = get_client(quiet=True)  # the widget itself says offline or not
        conversation = Conversation(client, model=model, system=system)
    return ChatWidget(conversation, temperature=temperature, background=background, lang=lang)
